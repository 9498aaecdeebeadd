#include "actors/blast_radius/blast_radius_policy.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

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

/// One scope the percent applies to: a service ("" region), or a service in a region.
using scope_key = std::pair<std::string, std::string>;

std::string scope_name(const scope_key& k) {
  return k.second.empty() ? k.first : k.first + " in " + k.second;
}

} // namespace

void blast_radius_policy::settle(const digest& id) {
  reserved_.erase(id);
}

scope_verdict blast_radius_policy::check(const scope_request& req, caf::timestamp now) {
  for (auto i = reserved_.begin(); i != reserved_.end();)
    i = i->second.until <= now ? reserved_.erase(i) : std::next(i);
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
  // What this proposal asks, per service and per (service, region): distinct resources.
  std::map<scope_key, std::set<std::string>> asked;
  for (size_t i = 0; i < p.mutations.size(); ++i) {
    auto& service = req.touched_services.at(i);
    auto& r = p.mutations[i].resource.value;
    asked[{service, ""}].insert(r);
    asked[{service, req.touched_regions.at(i)}].insert(r);
  }
  // What the budget holds already on those scopes: the journal's live charges and the
  // reservations of other proposals.
  std::map<scope_key, std::set<std::string>> used;
  auto count = [&](const std::string& service, const std::string& region,
                   const std::string& resource) {
    if (asked.count({service, ""}) == 0)
      return;
    used[{service, ""}].insert(resource);
    used[{service, region}].insert(resource);
  };
  for (auto& [service, charges] : req.committed)
    for (auto& [resource, c] : charges)
      if (c.until > now)
        count(service, c.region, resource);
  for (auto& [id, r] : reserved_)
    if (id != req.id)
      for (auto& e : r.entries)
        count(e.service, e.region, e.resource.value);
  // First the proposal alone against each scope's percent, then with the budget's use:
  // a proposal too large by itself is told so, whatever else is running.
  auto allowance = [&](const scope_key& key, uint32_t& fleet) {
    auto& sizes = key.second.empty() ? req.sizes : req.region_sizes;
    auto i = sizes.find(key.second.empty() ? key.first : key.first + "/" + key.second);
    fleet = i != sizes.end() ? i->second : 0;
    return percent_allowance(fleet, limits_.max_percent);
  };
  uint32_t allowed_count = UINT32_MAX;
  for (auto& [key, set] : asked) {
    uint32_t fleet = 0;
    auto allow = allowance(key, fleet);
    auto pct = fleet ? 100.0 * set.size() / fleet : 100.0;
    if (set.size() > allow)
      return refuse_scope("percent", limits_.max_percent, pct,
                          "percent scope: " + std::to_string(set.size()) + " of "
                            + std::to_string(fleet) + " " + scope_name(key) + " resources ("
                            + fmt(pct) + "%), limit " + fmt(limits_.max_percent) + "% ("
                            + std::to_string(allow) + " resources)");
    allowed_count = std::min<uint32_t>(allowed_count, allow);
  }
  for (auto& [key, set] : asked) {
    uint32_t fleet = 0;
    auto allow = allowance(key, fleet);
    size_t combined = set.size();
    if (auto u = used.find(key); u != used.end()) {
      combined = u->second.size();
      for (auto& r : set)
        combined += u->second.count(r) == 0;
    }
    if (combined > allow)
      return refuse_scope("budget", allow, static_cast<double>(combined),
                          "fleet-wide budget: " + std::to_string(combined) + " of "
                            + std::to_string(fleet) + " " + scope_name(key)
                            + " resources would be changed within the window by all "
                              "principals together, limit "
                            + std::to_string(allow) + " (" + fmt(limits_.max_percent) + "%)");
  }
  if (req.charge) {
    reservation r{now + limits_.window, {}};
    for (size_t i = 0; i < p.mutations.size(); ++i)
      r.entries.push_back(budget_entry{p.mutations[i].resource, req.touched_services[i],
                                       req.touched_regions[i]});
    reserved_[req.id] = std::move(r);
  }
  return scope_verdict{true, "", 0, 0, allowed_count, ""};
}

} // namespace bulwark
