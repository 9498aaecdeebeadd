#include "actors/rollback/rollback_policy.hpp"

#include <algorithm>
#include <set>

namespace bulwark {

namespace {

caf::error check_targets(const std::set<uint64_t>& wanted,
                         const std::map<uint64_t, const planned_record*>& found,
                         const std::map<uint64_t, digest>& reverted, seq_no head) {
  for (auto seq : wanted) {
    auto i = found.find(seq);
    if (seq == 0 || seq > head.value || i == found.end())
      return refuse(ec::invalid_input, "seq " + std::to_string(seq)
                                         + " does not exist (the journal's head is "
                                         + std::to_string(head.value) + ")");
    if (!i->second->applied)
      return refuse(ec::invalid_input, "seq " + std::to_string(seq) + " is a "
                                         + to_string(i->second->type)
                                         + " record, not an applied action");
    if (auto r = reverted.find(seq); r != reverted.end())
      return refuse(ec::invalid_input, "seq " + std::to_string(seq)
                                         + " was already rolled back by rollback "
                                         + to_hex(r->second).substr(0, 16));
  }
  return {};
}

} // namespace

caf::expected<std::vector<rollback_step>>
plan_rollback(const std::vector<seq_no>& targets, const std::vector<planned_record>& records,
              const std::map<std::string, std::string>& service_of,
              const std::map<uint64_t, digest>& reverted, seq_no head) {
  if (targets.empty())
    return refuse(ec::invalid_input, "nothing to roll back: no seqs given");
  std::set<uint64_t> wanted;
  for (auto s : targets)
    wanted.insert(s.value);
  std::map<uint64_t, const planned_record*> found;
  for (auto& r : records)
    if (wanted.count(r.seq.value) != 0)
      found[r.seq.value] = &r;
  if (auto err = check_targets(wanted, found, reverted, head))
    return err;
  // Conflicts: a later applied change of a reverted key that is not reverted with it.
  std::map<std::pair<std::string, std::string>, uint64_t> first_target; // key -> oldest target
  for (auto& [seq, r] : found) {
    auto k = std::make_pair(r->applied->resource.value, r->applied->key);
    if (first_target.count(k) == 0)
      first_target[k] = seq;
  }
  std::vector<std::string> conflicts;
  for (auto& r : records) {
    if (!r.applied || wanted.count(r.seq.value) != 0 || reverted.count(r.seq.value) != 0)
      continue;
    auto k = std::make_pair(r.applied->resource.value, r.applied->key);
    if (auto t = first_target.find(k); t != first_target.end() && r.seq.value > t->second)
      conflicts.push_back("seq " + std::to_string(r.seq.value) + " changed " + k.first + "."
                          + k.second + " after seq " + std::to_string(t->second));
  }
  if (!conflicts.empty()) {
    std::string msg = "rollback conflict: ";
    for (size_t i = 0; i < conflicts.size() && i < 10; ++i)
      msg += (i ? "; " : "") + conflicts[i];
    if (conflicts.size() > 10)
      msg += "; and " + std::to_string(conflicts.size() - 10) + " more";
    return refuse(ec::invalid_input, msg + " (include those seqs or roll them back first)");
  }
  std::vector<rollback_step> steps;
  for (auto i = found.rbegin(); i != found.rend(); ++i) {
    auto& a = *i->second->applied;
    auto svc = service_of.find(a.resource.value);
    if (svc == service_of.end())
      return refuse(ec::invalid_input, "seq " + std::to_string(i->first) + " changed resource "
                                         + a.resource.value + ", which is not registered");
    steps.push_back(rollback_step{seq_no{i->first}, svc->second, a.resource, a.key, a.new_value,
                                  a.old_value});
  }
  return steps;
}

} // namespace bulwark
