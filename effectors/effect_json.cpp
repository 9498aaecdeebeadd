// The effect and probe requests as JSON, and the probe's answer.

#include "effectors/effect_json.hpp"

#include <nlohmann/json.hpp>

namespace bulwark {

namespace {

std::string dump(const nlohmann::json& j) {
  // Values are passed through as given; bytes that are not UTF-8 become U+FFFD.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

std::string effect_json(const effect_request& r, int64_t timeout_ms, int64_t now_ms) {
  nlohmann::json j{{"service", r.service},
                   {"resource", r.resource},
                   {"key", r.key},
                   {"value", r.value},
                   {"compensation", r.compensation},
                   {"restore", nullptr},
                   {"idempotency_key", r.idempotency_key},
                   {"timeout_ms", timeout_ms},
                   {"deadline_ms", now_ms + timeout_ms}};
  if (r.restore)
    j["restore"] = *r.restore;
  return dump(j);
}

std::string probe_json(const probe_request& r, int64_t timeout_ms, int64_t now_ms) {
  nlohmann::json j{{"service", r.service},
                   {"resource", r.resource},
                   {"key", r.key},
                   {"timeout_ms", timeout_ms},
                   {"deadline_ms", now_ms + timeout_ms}};
  return dump(j);
}

std::optional<std::optional<std::string>> parse_probe_answer(const std::string& text,
                                                             std::string& error) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "the probe's answer is not a JSON object: " + printable_tail(text, 200);
    return std::nullopt;
  }
  auto v = j.find("value");
  if (v == j.end() || !(v->is_string() || v->is_null())) {
    error = "the probe's answer has no \"value\" (a string, or null when the key is not set)";
    return std::nullopt;
  }
  if (v->is_null())
    return std::optional<std::string>{};
  return std::optional<std::string>{v->get<std::string>()};
}

std::string printable_tail(const std::string& text, size_t n) {
  auto from = text.size() > n ? text.size() - n : 0;
  std::string out;
  out.reserve(text.size() - from);
  for (auto i = from; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c < 0x20 || c >= 0x7f ? '?' : text[i]);
  }
  auto b = out.find_first_not_of(' ');
  auto e = out.find_last_not_of(' ');
  return b == std::string::npos ? std::string{} : out.substr(b, e - b + 1);
}

} // namespace bulwark
