// The instant-query answer: {"status":"success","data":{"resultType":"vector",
// "result":[{"metric":{...},"value":[1700000000.1,"0.25"]}]}}.

#include "signals/prometheus_answer.hpp"

#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace bulwark {

const char* to_string(no_data x) noexcept {
  switch (x) {
    case no_data::none:
      return "none";
    case no_data::unreachable:
      return "unreachable";
    case no_data::timeout:
      return "timeout";
    case no_data::http_status:
      return "http_status";
    case no_data::malformed:
      return "malformed";
    case no_data::query_error:
      return "query_error";
    case no_data::wrong_type:
      return "wrong_type";
    case no_data::empty:
      return "empty";
    case no_data::several:
      return "several";
    case no_data::not_a_number:
      return "not_a_number";
  }
  return "?";
}

namespace {

query_value fail(no_data why, std::string detail) {
  return {why, 0, std::move(detail)};
}

/// The API's error message, when the body carries one.
std::string error_of(const nlohmann::json& j) {
  std::string out = j.value("errorType", "");
  auto text = j.value("error", "");
  if (!text.empty())
    out += (out.empty() ? "" : ": ") + text;
  return out;
}

} // namespace

query_value read_query_answer(long status, const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (status != 200) {
    auto what = j.is_object() ? error_of(j) : std::string{};
    return fail(no_data::http_status, "HTTP " + std::to_string(status)
                                        + (what.empty() ? "" : " (" + what + ")"));
  }
  if (j.is_discarded() || !j.is_object() || !j.contains("status") || !j["status"].is_string())
    return fail(no_data::malformed, "the body is not a Prometheus API answer");
  if (j["status"] != "success")
    return fail(no_data::query_error, error_of(j));
  auto data = j.find("data");
  if (data == j.end() || !data->is_object() || !data->contains("resultType")
      || !(*data)["resultType"].is_string() || !data->contains("result"))
    return fail(no_data::malformed, "no data.resultType or data.result");
  auto type = (*data)["resultType"].get<std::string>();
  if (type != "vector")
    return fail(no_data::wrong_type, "result type " + type + " (a vector is needed)");
  auto& result = (*data)["result"];
  if (!result.is_array())
    return fail(no_data::malformed, "data.result is not a list");
  if (result.empty())
    return fail(no_data::empty, "no sample (no series matched)");
  if (result.size() > 1)
    return fail(no_data::several, std::to_string(result.size())
                                    + " samples (aggregate the query to one)");
  auto& sample = result[0];
  if (!sample.is_object() || !sample.contains("value") || !sample["value"].is_array()
      || sample["value"].size() != 2 || !sample["value"][1].is_string())
    return fail(no_data::malformed, "the sample has no [time, \"value\"] pair");
  auto text = sample["value"][1].get<std::string>();
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    return fail(no_data::malformed, "the value \"" + text + "\" is not a number");
  if (!std::isfinite(v))
    return fail(no_data::not_a_number, "the value is " + text);
  return {no_data::none, v, {}};
}

} // namespace bulwark
