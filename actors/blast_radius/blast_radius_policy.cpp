#include "actors/blast_radius/blast_radius_policy.hpp"

#include <algorithm>
#include <cmath>

namespace bulwark {

uint32_t percent_allowance(uint32_t fleet, double percent) {
  if (fleet == 0)
    return 0;
  // Exact 5% of 100 is 5: add a tiny epsilon so 5.0000000001 floors to 5, not 4.
  auto n = static_cast<uint32_t>(std::floor(fleet * percent / 100.0 + 1e-9));
  return std::max<uint32_t>(1, std::min(n, fleet));
}

namespace {

scope_verdict refuse_scope(const char* dimension, double limit, double asked,
                           std::string reason) {
  scope_verdict v;
  v.dimension = dimension;
  v.limit = limit;
  v.asked = asked;
  v.reason = std::move(reason);
  return v;
}

std::string fmt(double x) {
  auto s = std::to_string(x);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.')
    s.pop_back();
  return s;
}

} // namespace

void blast_radius_policy::expire(caf::timestamp now) {
  while (!window_.empty() && window_.front().at + limits_.window <= now) {
    auto& u = window_.front();
    auto i = index_.find({u.principal, u.service});
    if (i != index_.end()) {
      auto r = i->second.find(u.resource);
      if (r != i->second.end() && --r->second == 0)
        i->second.erase(r);
      if (i->second.empty())
        index_.erase(i);
    }
    window_.pop_front();
  }
}

scope_verdict blast_radius_policy::check(const scope_request& req, caf::timestamp now) {
  expire(now);
  auto& p = req.subject;
  if (p.mutations.empty())
    return scope_verdict{true, "", 0, 0, 0, ""};
  auto services = static_cast<double>(p.services.size());
  if (services > limits_.max_services)
    return refuse_scope("service", limits_.max_services, services,
                        "service scope: " + fmt(services) + " services asked, limit "
                          + std::to_string(limits_.max_services));
  auto regions = static_cast<double>(p.regions.size());
  if (regions > limits_.max_regions)
    return refuse_scope("region", limits_.max_regions, regions,
                        "region scope: " + fmt(regions) + " regions asked, limit "
                          + std::to_string(limits_.max_regions));
  // Distinct resources per service, in this proposal and in the principal's window.
  std::map<std::string, std::set<std::string>> asked;
  for (size_t i = 0; i < p.mutations.size(); ++i)
    asked[req.touched_services.at(i)].insert(p.mutations[i].resource.value);
  uint32_t allowed_count = UINT32_MAX;
  for (auto& [service, set] : asked) {
    auto i = req.sizes.find(service);
    uint32_t fleet = i != req.sizes.end() ? i->second : 0;
    auto allow = percent_allowance(fleet, limits_.max_percent);
    auto pct = fleet ? 100.0 * set.size() / fleet : 100.0;
    if (set.size() > allow)
      return refuse_scope("percent", limits_.max_percent, pct,
                          "percent scope: " + std::to_string(set.size()) + " of "
                            + std::to_string(fleet) + " " + service + " resources ("
                            + fmt(pct) + "%), limit " + fmt(limits_.max_percent) + "% ("
                            + std::to_string(allow) + " resources)");
    size_t combined = set.size();
    if (auto w = index_.find({p.principal.value, service}); w != index_.end()) {
      combined = w->second.size();
      for (auto& r : set)
        combined += w->second.count(r) == 0;
    }
    if (combined > allow)
      return refuse_scope("window", allow, static_cast<double>(combined),
                          "rolling window: " + p.principal.value + " would have changed "
                            + std::to_string(combined) + " " + service
                            + " resources within the window, limit " + std::to_string(allow));
    allowed_count = std::min<uint32_t>(allowed_count, allow);
  }
  for (size_t i = 0; i < p.mutations.size(); ++i) {
    window_.push_back(usage{now, p.principal.value, req.touched_services[i],
                            p.mutations[i].resource.value});
    ++index_[{p.principal.value, req.touched_services[i]}][p.mutations[i].resource.value];
  }
  return scope_verdict{true, "", 0, 0, allowed_count, ""};
}

} // namespace bulwark
