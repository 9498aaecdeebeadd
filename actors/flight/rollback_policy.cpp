#include "actors/flight/rollback_policy.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "persistence/compensation_policy.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

caf::error check_targets(const std::vector<uint64_t>& wanted,
                         const std::vector<const planned_record*>& found,
                         const std::map<uint64_t, digest>& reverted, seq_no head) {
  for (size_t i = 0; i < wanted.size(); ++i) {
    auto seq = wanted[i];
    if (seq == 0 || seq > head.value || found[i] == nullptr)
      return refuse(ec::invalid_input, "seq " + std::to_string(seq)
                                         + " does not exist (the journal's head is "
                                         + std::to_string(head.value) + ")");
    if (!found[i]->applied)
      return refuse(ec::invalid_input, "seq " + std::to_string(seq) + " is a "
                                         + to_string(found[i]->type)
                                         + " record, not an applied action");
    if (auto r = reverted.find(seq); r != reverted.end())
      return refuse(ec::invalid_input, "seq " + std::to_string(seq)
                                         + " was already rolled back by rollback "
                                         + to_hex(r->second).substr(0, 16));
  }
  return {};
}

/// The record of each wanted seq (null: not in `records`); both ascending.
std::vector<const planned_record*> match(const std::vector<uint64_t>& wanted,
                                         const std::vector<planned_record>& records) {
  std::vector<const planned_record*> found(wanted.size(), nullptr);
  size_t j = 0;
  for (auto& r : records) {
    while (j < wanted.size() && wanted[j] < r.seq.value)
      ++j;
    if (j == wanted.size())
      break;
    if (wanted[j] == r.seq.value)
      found[j] = &r;
  }
  return found;
}

struct conflict {
  uint64_t seq;
  uint64_t after;
  const action_applied* target;
};

/// Later applied changes of a reverted key that are neither reverted with it nor by an
/// earlier rollback: per key, everything after its oldest target, read from the index.
/// Targets are taken oldest first; a walk marks the later targets of its key as done, so
/// each later change is visited once.
caf::error check_conflicts(const std::vector<uint64_t>& wanted,
                           const std::vector<const planned_record*>& found,
                           const rollback_index& index,
                           const std::map<uint64_t, digest>& reverted) {
  std::vector<bool> done(wanted.size(), false);
  std::vector<conflict> out;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (done[i])
      continue;
    auto& a = *found[i]->applied;
    auto list = index.changes(a.resource.value, a.key);
    if (list == nullptr || !std::binary_search(list->begin(), list->end(), wanted[i]))
      return refuse(ec::integrity_violation, "seq " + std::to_string(wanted[i])
                                               + " is missing from the rollback index");
    auto at = std::lower_bound(list->begin(), list->end(), wanted[i]);
    for (auto s = at + 1; s != list->end(); ++s) {
      auto j = std::lower_bound(wanted.begin(), wanted.end(), *s);
      if (j != wanted.end() && *j == *s)
        done[static_cast<size_t>(j - wanted.begin())] = true;
      else if (reverted.count(*s) == 0)
        out.push_back(conflict{*s, wanted[i], &a});
    }
  }
  if (out.empty())
    return {};
  std::sort(out.begin(), out.end(), [](auto& x, auto& y) { return x.seq < y.seq; });
  std::string msg = "rollback conflict: ";
  for (size_t i = 0; i < out.size() && i < 10; ++i)
    msg += (i ? "; " : "") + ("seq " + std::to_string(out[i].seq) + " changed "
                              + out[i].target->resource.value + "." + out[i].target->key
                              + " after seq " + std::to_string(out[i].after));
  if (out.size() > 10)
    msg += "; and " + std::to_string(out.size() - 10) + " more";
  return refuse(ec::invalid_input, msg + " (include those seqs or roll them back first)");
}

} // namespace

rollback_outcome rollback_outcome_of(const rollback_requested& plan,
                                     const std::vector<rollback_step>& steps, size_t ran,
                                     const std::vector<rollback_failure>& failed, ec code,
                                     std::string message,
                                     const std::function<std::string(const std::string&)>& region_of,
                                     caf::timestamp at) {
  rollback_outcome out;
  auto f = failed.begin();
  for (size_t i = 0; i < ran && i < steps.size(); ++i) {
    auto& s = steps[i];
    if (f == failed.end() || f->index != i) {
      out.records.push_back(make_event(event_type::rollback_applied, at,
                                       rollback_applied{plan.rollback, s.reverts, s.resource,
                                                        s.key,
                                                        caf::optional<std::string>{s.current},
                                                        s.restore}));
      ++out.reverted;
      continue;
    }
    failed_compensation c;
    c.proposal = plan.rollback;
    c.step = static_cast<uint32_t>(i);
    c.principal = plan.by;
    c.level = plan.level;
    c.service = s.service;
    c.region = region_of(s.resource.value);
    c.change = mutation{s.resource, s.key, s.current};
    if (s.restore)
      c.restore = *s.restore;
    c.code = f->code;
    c.message = "compensation of seq " + std::to_string(s.reverts.value) + " failed: "
                + f->message;
    bool first = f == failed.begin();
    auto incident = compensation_incident_id(plan.rollback,
                                             static_cast<uint32_t>(failed.front().index));
    for (auto& ev : compensation_failure_records(c, incident, first, at))
      out.records.push_back(std::move(ev));
    ++f;
  }
  if (!failed.empty()) {
    out.status = "compensation_failed";
    out.code = code != ec::none ? code : failed.front().code;
    std::string first = "seq " + std::to_string(steps[failed.front().index].reverts.value)
                        + ": " + failed.front().message;
    out.message = "compensation failed for " + std::to_string(failed.size()) + " of "
                  + std::to_string(steps.size()) + " steps (see the dead letters and the P1 "
                  + "incidents; first " + first + ")"
                  + (code != ec::none ? ": " + message : std::string{});
  } else {
    out.status = code == ec::none ? "succeeded" : "failed";
    out.code = code;
    out.message = std::move(message);
  }
  out.records.push_back(make_event(event_type::rollback_finished, at,
                                   rollback_finished{plan.rollback, plan.incident,
                                                     out.status == "succeeded", out.code,
                                                     out.reverted, out.message}));
  return out;
}

caf::expected<std::vector<rollback_step>>
plan_rollback(const std::vector<seq_no>& targets, const std::vector<planned_record>& records,
              const rollback_index& index, const service_lookup& service_of,
              const std::map<uint64_t, digest>& reverted, seq_no head) {
  if (targets.empty())
    return refuse(ec::invalid_input, "nothing to roll back: no seqs given");
  std::vector<uint64_t> wanted;
  wanted.reserve(targets.size());
  for (auto s : targets)
    wanted.push_back(s.value);
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  auto found = match(wanted, records);
  if (auto err = check_targets(wanted, found, reverted, head))
    return err;
  if (index.from() > wanted.front() || index.to() < head.value)
    return refuse(ec::integrity_violation,
                  "the rollback index covers seqs " + std::to_string(index.from()) + " to "
                    + std::to_string(index.to()) + ", not " + std::to_string(wanted.front())
                    + " to " + std::to_string(head.value));
  if (auto err = check_conflicts(wanted, found, index, reverted))
    return err;
  std::vector<rollback_step> steps;
  steps.reserve(wanted.size());
  // Each resource's service is looked up once (a lookup only: never iterated).
  std::unordered_map<std::string_view, const std::string*> services;
  for (size_t i = wanted.size(); i-- > 0;) {
    auto& a = *found[i]->applied;
    auto [at, fresh] = services.try_emplace(a.resource.value, nullptr);
    if (fresh)
      at->second = service_of(a.resource.value);
    auto svc = at->second;
    if (svc == nullptr)
      return refuse(ec::invalid_input, "seq " + std::to_string(wanted[i]) + " changed resource "
                                         + a.resource.value + ", which is not registered");
    steps.push_back(rollback_step{seq_no{wanted[i]}, *svc, a.resource, a.key, a.new_value,
                                  a.old_value});
  }
  return steps;
}

} // namespace bulwark
