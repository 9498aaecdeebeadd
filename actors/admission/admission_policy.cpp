#include "actors/admission/admission_policy.hpp"

#include <algorithm>

namespace bulwark {

const char* to_string(admission_class x) noexcept {
  switch (x) {
    case admission_class::operator_:
      return "operator";
    case admission_class::rollback:
      return "rollback";
    case admission_class::automation:
      return "automation";
  }
  return "unknown";
}

size_t automation_share(size_t bound, degradation level) noexcept {
  switch (level) {
    case degradation::normal:
      return bound;
    case degradation::degraded:
      return std::max<size_t>(1, bound / 2);
    case degradation::critical:
      return std::max<size_t>(1, bound / 4);
  }
  return bound;
}

size_t admission_policy::share(size_t bound) const noexcept {
  return automation_share(bound, level_);
}

caf::timespan admission_policy::retry_after() const {
  // About the time the work ahead takes to drain, one turn per in-flight slot.
  auto turns = 1 + queued_ / std::max<size_t>(1, limits_.max_in_flight);
  return limits_.retry_base * static_cast<int64_t>(turns);
}

size_t admission_policy::queued_of(const std::string& principal) const {
  size_t n = 0;
  for (auto& l : lanes_)
    if (auto i = l.by_principal.find(principal); i != l.by_principal.end())
      n += i->second.size();
  return n;
}

admission_verdict admission_policy::offer(uint64_t ticket, const std::string& principal,
                                          admission_class cls) {
  admission_verdict v;
  if (quarantined_.count(principal) != 0) {
    ++refused_;
    v.quarantined = true;
    v.reason = "principal " + principal + " is quarantined after repeated failures; an "
               "operator must release it";
    return v;
  }
  bool automation = cls == admission_class::automation;
  auto bound = automation ? share(limits_.max_queued) : limits_.max_queued;
  if (queued_ >= bound || queued_of(principal) >= limits_.per_principal) {
    ++refused_;
    v.reason = queued_ >= bound ? "admission queue full (" + std::to_string(queued_) + " waiting, "
                                    + to_string(cls) + " bound " + std::to_string(bound) + ")"
                                : "principal " + principal + " has "
                                    + std::to_string(limits_.per_principal) + " proposals waiting";
    v.retry_after = retry_after();
    return v;
  }
  auto& l = lanes_[static_cast<uint8_t>(cls)];
  auto& q = l.by_principal[principal];
  if (q.empty())
    l.turns.push_back(principal);
  q.push_back(ticket);
  ++queued_;
  v.accepted = true;
  return v;
}

std::vector<uint64_t> admission_policy::dispatch() {
  std::vector<uint64_t> out;
  for (uint8_t c = 0; c < 3; ++c) {
    auto cls = static_cast<admission_class>(c);
    auto& l = lanes_[c];
    while (!l.turns.empty() && running_.size() < limits_.max_in_flight) {
      // Automation may not fill the slots the degradation level keeps for people.
      if (cls == admission_class::automation
          && automation_running_ >= share(limits_.max_in_flight))
        break;
      auto principal = l.turns.front();
      l.turns.pop_front();
      auto& q = l.by_principal[principal];
      auto ticket = q.front();
      q.pop_front();
      if (q.empty())
        l.by_principal.erase(principal);
      else
        l.turns.push_back(principal); // its next ticket waits for the others' turn
      --queued_;
      running_.emplace(ticket, std::make_pair(principal, cls));
      automation_running_ += cls == admission_class::automation;
      out.push_back(ticket);
    }
  }
  return out;
}

bool admission_policy::finished(uint64_t ticket, bool failed) {
  auto i = running_.find(ticket);
  if (i == running_.end())
    return false;
  auto [principal, cls] = i->second;
  running_.erase(i);
  automation_running_ -= cls == admission_class::automation;
  if (!failed) {
    failures_.erase(principal);
    return false;
  }
  // People are never quarantined: the halt and the grants govern them.
  if (cls != admission_class::automation)
    return false;
  if (++failures_[principal] < limits_.quarantine_after || quarantined_.count(principal) != 0)
    return false;
  quarantined_.insert(principal);
  return true;
}

bool admission_policy::release(const std::string& principal) {
  failures_.erase(principal);
  return quarantined_.erase(principal) != 0;
}

} // namespace bulwark
