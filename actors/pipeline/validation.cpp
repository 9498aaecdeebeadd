#include "actors/pipeline/validation.hpp"

#include <algorithm>
#include <set>

#include "persistence/codec.hpp"
#include "persistence/sha256.hpp"

namespace bulwark {

digest proposal_digest(const proposal& p) {
  // The deadline is not content: it is derived from when a request was made, so a client
  // that repeats a request later (its answer was lost) names the same proposal. The own
  // approval window is content; a proposal without one encodes as before it existed, so
  // digests journaled before keep naming the same proposals.
  std::vector<uint8_t> bytes;
  canonical_writer w{bytes};
  w(p.idempotency_key, p.principal, p.level, p.services, p.regions, p.mutations,
    p.justification, caf::timestamp{});
  if (p.approval_window)
    w(uint8_t{1}, *p.approval_window);
  return sha256(bytes.data(), bytes.size());
}

namespace {

caf::error invalid(std::string what) {
  return refuse(ec::invalid_input, std::move(what));
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

caf::error check_targets(const proposal& p) {
  for (auto* list : {&p.services, &p.regions})
    for (auto& x : *list)
      if (!is_valid_id(x))
        return invalid("target '" + x + "' is not a valid name");
  if (std::set<std::string>(p.services.begin(), p.services.end()).size() != p.services.size()
      || std::set<std::string>(p.regions.begin(), p.regions.end()).size() != p.regions.size())
    return invalid("a target service or region is listed twice");
  return {};
}

caf::error check_mutation(const proposal& p, const mutation& m, const fleet_state& fleet,
                          const std::function<bool(const std::string&)>& has_effector,
                          const input_limits& limits) {
  auto i = fleet.resources.find(m.resource.value);
  if (i == fleet.resources.end() || i->second.retired)
    return invalid("unknown resource '" + m.resource.value + "'");
  auto& r = i->second;
  if (!contains(p.services, r.service) || !contains(p.regions, r.region))
    return invalid("resource '" + m.resource.value + "' (" + r.service + ", " + r.region
                   + ") is outside the proposal's target");
  if (!is_valid_id(m.key))
    return invalid("mutation key '" + m.key + "' is not a valid name");
  if (m.value.size() > limits.max_value_size)
    return invalid("value for " + m.resource.value + "/" + m.key + " is over "
                   + std::to_string(limits.max_value_size) + " bytes");
  if (!has_effector(r.service))
    return invalid("no effector is registered for service '" + r.service + "'");
  return {};
}

std::string ms_of(caf::timespan d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count())
         + " ms";
}

/// The proposal's own approval window: levels 1 and 2 only, longer than zero, no longer
/// than the node's, and with the execution time after it within the longest deadline.
caf::error check_approval_window(const proposal& p, const input_limits& limits,
                                 caf::timestamp now) {
  if (!p.approval_window)
    return {};
  auto w = *p.approval_window;
  if (p.level != authority_level::assist && p.level != authority_level::recommend)
    return invalid("approval_window_ms: a level-" + std::to_string(static_cast<int>(p.level))
                   + " proposal waits for no approval (only levels 1 and 2 do)");
  if (w <= caf::timespan{0})
    return invalid("approval_window_ms must be longer than zero");
  if (w > limits.approval_timeout)
    return invalid("approval_window_ms (" + ms_of(w) + ") is longer than the node's approval "
                   "window (" + ms_of(limits.approval_timeout)
                   + ", authority.approval_timeout_ms): it cannot be honoured");
  if (w + (p.deadline - now) > limits.max_deadline)
    return invalid("approval_window_ms (" + ms_of(w) + ") and the execution time after it ("
                   + ms_of(p.deadline - now) + ") do not fit together in "
                   "pipeline.max_deadline_ms (" + ms_of(limits.max_deadline) + ")");
  return {};
}

} // namespace

caf::error validate(const proposal& p, const fleet_state& fleet,
                    const std::function<bool(const std::string&)>& has_effector,
                    const input_limits& limits, caf::timestamp now) {
  if (!is_valid_id(p.principal.value))
    return invalid("principal '" + p.principal.value + "' is not a valid name");
  if (p.principal.value == auto_engine)
    return invalid("principal '" + p.principal.value + "' is the engine's own (its automatic "
                   "decisions); a client may not act as it");
  if (!valid(p.level))
    return invalid("level " + std::to_string(static_cast<int>(p.level)) + " is outside 0-4");
  if (!is_valid_id(p.idempotency_key))
    return invalid(bad_key_message);
  if (p.justification.size() > limits.max_justification)
    return invalid("justification is over " + std::to_string(limits.max_justification) + " bytes");
  if (p.deadline <= now)
    return invalid("deadline is in the past");
  if (p.deadline - now > limits.max_deadline)
    return invalid("deadline is further away than pipeline.max_deadline_ms");
  if (auto err = check_approval_window(p, limits, now))
    return err;
  if (p.mutations.size() > limits.max_mutations)
    return invalid(std::to_string(p.mutations.size()) + " mutations is over the limit of "
                   + std::to_string(limits.max_mutations));
  if (p.mutations.empty() && p.level != authority_level::read_only)
    return invalid("a proposal at level 1-4 needs at least one mutation");
  if (auto err = check_targets(p))
    return err;
  std::set<std::pair<std::string, std::string>> seen;
  for (auto& m : p.mutations) {
    if (auto err = check_mutation(p, m, fleet, has_effector, limits))
      return err;
    if (!seen.emplace(m.resource.value, m.key).second)
      return invalid("mutation " + m.resource.value + "/" + m.key + " appears twice");
  }
  return {};
}

std::vector<std::string> touched_services(const proposal& p, const fleet_state& fleet) {
  std::vector<std::string> out;
  out.reserve(p.mutations.size());
  for (auto& m : p.mutations)
    out.push_back(fleet.resources.at(m.resource.value).service);
  return out;
}

std::map<std::string, uint32_t> active_sizes(const fleet_state& fleet) {
  std::map<std::string, uint32_t> out;
  for (auto& [id, r] : fleet.resources)
    if (!r.retired) {
      ++out[r.service];
      ++out[r.service + "/" + r.region];
    }
  return out;
}

scope_request scope_of(const proposal& p, const digest& id, const fleet_state& fleet,
                       const std::map<std::string, uint32_t>& sizes, bool charge) {
  scope_request req;
  req.subject = p;
  req.id = id;
  req.charge = charge;
  auto size = [&](const std::string& key) {
    auto i = sizes.find(key);
    return i != sizes.end() ? i->second : 0u;
  };
  for (auto& m : p.mutations) {
    auto& r = fleet.resources.at(m.resource.value);
    req.touched_services.push_back(r.service);
    req.touched_regions.push_back(r.region);
    req.sizes[r.service] = size(r.service);
    auto key = r.service + "/" + r.region;
    req.region_sizes[key] = size(key);
    if (auto b = fleet.budget.find(r.service);
        b != fleet.budget.end() && req.committed.count(r.service) == 0)
      req.committed.emplace(b->first, b->second);
  }
  return req;
}

} // namespace bulwark
