#include "actors/incident/attempt_policy.hpp"

#include <string>
#include <vector>

#include "persistence/codec.hpp"
#include "persistence/sha256.hpp"

namespace bulwark {

using nlohmann::json;

digest attempt_id(const digest& candidate, uint32_t attempt, caf::timestamp started) {
  const std::string tag = "bulwark.attempt";
  std::vector<uint8_t> bytes(tag.begin(), tag.end());
  for (auto& b : {encode(candidate), encode(attempt), encode(started)})
    bytes.insert(bytes.end(), b.begin(), b.end());
  return sha256(bytes.data(), bytes.size());
}

caf::timestamp retention_cutoff(caf::timestamp now, caf::timespan retention) {
  return now - retention;
}

bool retained(const attempt_record& x, caf::timestamp now, caf::timespan retention) {
  return x.started >= retention_cutoff(now, retention);
}

namespace {

caf::error bad(const std::string& what) {
  return refuse(ec::invalid_input, what);
}

caf::error read_name(const json& v, const std::string& key, std::string& out) {
  if (!v.is_string() || !is_valid_id(v.get<std::string>()))
    return bad("args." + key + " must be a " + key + " name");
  out = v.get<std::string>();
  return {};
}

} // namespace

caf::expected<attempt_filter> parse_attempt_filter(const json& args) {
  attempt_filter f;
  if (args.is_null())
    return f;
  if (!args.is_object())
    return bad("args must be an object");
  for (auto& [key, v] : args.items()) {
    if (key == "candidate") {
      digest id;
      if (!v.is_string() || !parse_digest(v.get<std::string>(), id))
        return bad("args.candidate must be 64 hex characters");
      f.candidate = id;
    } else if (key == "service" || key == "region") {
      if (auto err = read_name(v, key, key == "service" ? f.service : f.region))
        return err;
    } else if (key == "status") {
      if (v == "succeeded")
        f.succeeded = true;
      else if (v == "failed")
        f.succeeded = false;
      else
        return bad("args.status must be \"succeeded\" or \"failed\"");
    } else if (key == "limit") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1
          || v.get<int64_t>() > max_attempt_limit)
        return bad("args.limit must be a whole number from 1 to "
                   + std::to_string(max_attempt_limit));
      f.limit = v.get<uint32_t>();
    } else {
      return bad("args." + key
                 + " is not a filter of attempts (candidate, service, region, status, limit)");
    }
  }
  return f;
}

bool matches(const attempt_filter& f, const attempt_record& x) {
  return (!f.candidate || *f.candidate == x.candidate)
         && (f.service.empty() || f.service == x.service)
         && (f.region.empty() || f.region == x.region)
         && (!f.succeeded || *f.succeeded == x.succeeded);
}

const char* status_of(const attempt_record& x) noexcept {
  return x.succeeded ? "succeeded" : "failed";
}

} // namespace bulwark
