#include "actors/cluster/lease_policy.hpp"

#include <nlohmann/json.hpp>

#include "messages/error.hpp"

namespace bulwark {

namespace {

caf::error bad_etcd_key(const std::string& key, const std::string& problem) {
  return refuse(ec::invalid_input, "cluster.etcd." + key + ": " + problem);
}

int64_t millis(caf::timespan t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
}

} // namespace

std::string encode_holder(const lease_holder& h) {
  return nlohmann::json{{"cluster_id", h.cluster_id}, {"node_id", h.node_id}}.dump();
}

caf::optional<lease_holder> decode_holder(const std::string& value) {
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (!j.is_object() || !j["cluster_id"].is_string() || !j["node_id"].is_string())
    return caf::none;
  return lease_holder{j["cluster_id"].get<std::string>(), j["node_id"].get<std::string>()};
}

caf::error check_etcd_settings(const etcd_settings& s) {
  if (s.endpoints.empty())
    return bad_etcd_key("endpoints", "needs at least one \"http://HOST:PORT\" or "
                                "\"https://HOST:PORT\"");
  for (auto& e : s.endpoints) {
    bool http = e.rfind("http://", 0) == 0;
    bool https = e.rfind("https://", 0) == 0;
    auto rest = e.substr(http ? 7 : https ? 8 : 0);
    if ((!http && !https) || rest.empty() || rest.find('/') != std::string::npos
        || rest.find(':') == std::string::npos)
      return bad_etcd_key("endpoints", "\"" + e + "\" is not \"http://HOST:PORT\" or "
                                  "\"https://HOST:PORT\"");
  }
  if (s.prefix.empty() || s.prefix.back() != '/')
    return bad_etcd_key("prefix", "must be a non-empty key prefix ending in '/'");
  if (s.lease_ttl_s < 1 || s.lease_ttl_s > 3600)
    return bad_etcd_key("lease_ttl", "must be 1 to 3600 seconds");
  auto ttl = s.lease_ttl_s * 1000;
  if (millis(s.request_timeout) < 1 || millis(s.request_timeout) >= millis(s.renew))
    return bad_etcd_key("request_timeout_ms", "must be positive and below renew_ms ("
                                           + std::to_string(millis(s.renew)) + ")");
  if (millis(s.renew) >= ttl)
    return bad_etcd_key("lease_ttl", "is below the renewal interval: the lease (" + std::to_string(ttl)
                                  + " ms) must outlast renew_ms (" + std::to_string(millis(s.renew))
                                  + ")");
  if (millis(s.margin) < 1 || millis(s.renew) + millis(s.margin) + millis(s.request_timeout) >= ttl)
    return bad_etcd_key("margin_ms", "must be positive, and renew_ms + margin_ms + "
                                "request_timeout_ms must stay below lease_ttl ("
                                  + std::to_string(ttl) + " ms) so that a holder renews "
                                  "before it stops");
  if (s.tls_cert.empty() != s.tls_key.empty())
    return bad_etcd_key(s.tls_cert.empty() ? "tls_cert" : "tls_key",
                   "tls_cert and tls_key go together");
  if (s.user.empty() != s.password_file.empty())
    return bad_etcd_key(s.user.empty() ? "user" : "password_file", "user and password_file go "
                                                              "together");
  return {};
}

} // namespace bulwark
