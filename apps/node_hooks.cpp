#include "apps/node_hooks.hpp"

#include <utility>

namespace bulwark::cli {

std::function<bool(const metric_in&)> feed_metric(std::shared_ptr<metric_sink> sink) {
  return [sink](const metric_in& m) {
    auto at = std::chrono::duration_cast<std::chrono::system_clock::duration>(
      m.at.time_since_epoch());
    std::lock_guard<std::mutex> guard{sink->mtx};
    return sink->eng != nullptr
           && sink->eng->feed_metric(metric_sample{m.service, m.region, m.error_rate,
                                                   m.latency_ms,
                                                   std::chrono::system_clock::time_point{at}});
  };
}

std::function<nlohmann::json(const std::string&, std::chrono::milliseconds)>
reconcile_of(std::shared_ptr<metric_sink> sink) {
  return [sink](const std::string& by, std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> guard{sink->mtx};
    if (sink->eng == nullptr)
      return nlohmann::json{{"ok", false}, {"code", "UNAVAILABLE"},
                            {"message", "the node is stopping"}};
    auto r = sink->eng->reconcile(by, timeout);
    if (!r.status.ok)
      return nlohmann::json{{"ok", false}, {"code", r.status.code},
                            {"message", r.status.message}};
    auto list = nlohmann::json::array();
    for (auto& p : r.proposals)
      list.push_back({{"proposal", p.proposal}, {"outcome", p.outcome},
                      {"evidence", p.evidence}, {"seq", p.seq}});
    return nlohmann::json{{"ok", true}, {"proposals", std::move(list)}};
  };
}

nlohmann::json reload_json(const policy_reload& r) {
  if (!r.status.ok)
    return nlohmann::json{{"ok", false}, {"code", r.status.code},
                          {"message", r.status.message}};
  auto changes = nlohmann::json::array();
  for (auto& c : r.changes)
    changes.push_back({{"key", c.key},
                       {"before", c.before ? nlohmann::json(*c.before) : nlohmann::json(nullptr)},
                       {"after", c.after ? nlohmann::json(*c.after) : nlohmann::json(nullptr)}});
  return nlohmann::json{{"ok", true}, {"changed", r.changed}, {"version", r.version},
                        {"previous", r.previous}, {"changes", std::move(changes)}};
}

std::function<nlohmann::json(const std::string&)> reload_of(std::shared_ptr<metric_sink> sink) {
  return [sink](const std::string& by) {
    std::lock_guard<std::mutex> guard{sink->mtx};
    if (sink->eng == nullptr)
      return nlohmann::json{{"ok", false}, {"code", "UNAVAILABLE"},
                            {"message", "the node is stopping"}};
    return reload_json(sink->eng->reload_policy(by));
  };
}

} // namespace bulwark::cli
