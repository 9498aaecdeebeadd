#include "actors/authority/authority_policy.hpp"

#include <algorithm>
#include <cmath>

namespace bulwark {

const std::vector<gate>& gates_of(authority_level level) {
  static const std::vector<gate> table[5] = {
    {gate::transaction_read_only, gate::no_state_mutation},
    {gate::human_approval, gate::per_action, gate::explicit_confirmation},
    {gate::atomic_batch, gate::human_review, gate::all_or_nothing},
    {gate::interruptible_execution, gate::human_observation, gate::rollback_on_interrupt},
    {gate::no_human_intervention, gate::audit_only},
  };
  return table[static_cast<uint8_t>(level)];
}

caf::optional<authority_level> effective_grant(const std::string& principal,
                                               const authority_config& cfg,
                                               const std::map<std::string, grant_state>& journaled,
                                               caf::timestamp now) {
  if (auto j = journaled.find(principal); j != journaled.end())
    if (!j->second.until || now < *j->second.until)
      return j->second.level;
  if (auto c = cfg.grants.find(principal); c != cfg.grants.end())
    return c->second;
  if (journaled.count(principal) != 0)
    return authority_level::read_only; // a journaled grant that expired
  return caf::none;
}

namespace {

/// Evaluates one gate; a failed gate refuses the proposal with its note.
gate_result check_gate(gate g, const proposal& p, const authority_config& cfg) {
  bool mutates = !p.mutations.empty();
  switch (g) {
    case gate::transaction_read_only:
      return {g, true, "runs in a read-only transaction"};
    case gate::no_state_mutation:
      return {g, !mutates, mutates ? "level 0 may not mutate" : ""};
    case gate::human_approval:
      return {g, true, "waits for an approval naming the proposal digest"};
    case gate::per_action:
      return {g, p.mutations.size() == 1,
              p.mutations.size() == 1 ? "one action per approval"
                                      : "level 1 carries exactly one action per proposal"};
    case gate::explicit_confirmation:
      return {g, true, "the approval must name the exact digest"};
    case gate::atomic_batch:
      return {g, true, "one journal transaction for the batch outcome"};
    case gate::human_review:
      return {g, true, "the batch waits for one review"};
    case gate::all_or_nothing:
      return {g, true, "a failed action compensates the batch"};
    case gate::interruptible_execution:
      return {g, true, "step by step; an operator may interrupt"};
    case gate::human_observation:
      return {g, true,
              "observation window "
                + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   cfg.observation_window)
                                   .count())
                + " ms between steps"};
    case gate::rollback_on_interrupt:
      return {g, true, "an interrupt rolls back the steps done"};
    case gate::no_human_intervention:
      return {g, cfg.enforce_enabled,
              cfg.enforce_enabled ? "" : "level 4 is disabled (authority.enforce_enabled)"};
    case gate::audit_only:
      return {g, true, "journaled like every level"};
  }
  return {g, false, "unknown gate"};
}

} // namespace

authority_verdict evaluate(const proposal& p, const authority_config& cfg,
                           const std::map<std::string, grant_state>& journaled, bool halted,
                           caf::timestamp now) {
  authority_verdict v;
  bool mutates = !p.mutations.empty();
  if (halted && mutates) {
    v.code = ec::halted;
    v.reason = "an operator engaged the halt; mutations are refused";
    return v;
  }
  auto grant = effective_grant(p.principal.value, cfg, journaled, now);
  if (!grant) {
    v.code = ec::authority_denied;
    v.reason = "unknown principal '" + p.principal.value + "'";
    return v;
  }
  if (p.level > *grant) {
    v.code = ec::authority_denied;
    v.reason = "level " + std::to_string(static_cast<int>(p.level)) + " exceeds the grant of "
               + p.principal.value + " (level " + std::to_string(static_cast<int>(*grant)) + ")";
    return v;
  }
  v.allowed = true;
  for (auto g : gates_of(p.level)) {
    auto r = check_gate(g, p, cfg);
    if (!r.passed && v.allowed) {
      v.allowed = false;
      v.code = ec::authority_denied;
      v.reason = std::string{to_string(g)} + ": " + r.note;
    }
    v.gates.push_back(std::move(r));
  }
  return v;
}

double adaptive_share(uint8_t degradation_level) noexcept {
  switch (degradation_level) {
    case 0:
      return 1.0;
    case 1:
      return 0.5;
    default:
      return 0.25;
  }
}

caf::optional<caf::timespan> token_bucket::take(caf::timestamp now, double rate, double burst) {
  if (tokens_ < 0) {
    tokens_ = burst;
    last_ = now;
  }
  if (now > last_) {
    auto secs = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst, tokens_ + secs * rate);
    last_ = now;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return caf::none;
  }
  auto wait = rate > 0 ? (1.0 - tokens_) / rate : 3600.0;
  return caf::timespan{static_cast<int64_t>(std::ceil(wait * 1e9))};
}

} // namespace bulwark
