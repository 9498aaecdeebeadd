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

std::string seconds_of(caf::timespan x) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::string quoted(const caf::optional<std::string>& x) {
  return x ? "'" + *x + "'" : std::string{"(unset)"};
}

/// HumanApproval and HumanReview: who may answer, other than the proposer.
gate_result approvers_gate(gate g, const proposal& p, const gate_inputs& in) {
  auto level = static_cast<size_t>(p.level);
  auto least = in.approvals->least[level];
  std::vector<std::string> who;
  for (auto* names : {&in.approvals->admins, &in.approvals->operators})
    for (auto& name : *names) {
      auto role = role_of(*in.approvals, name);
      bool self = name == p.principal.value && !in.approvals->allow_self_approval;
      if (static_cast<uint8_t>(role) >= static_cast<uint8_t>(least) && !self
          && std::find(who.begin(), who.end(), name) == who.end())
        who.push_back(name);
    }
  std::sort(who.begin(), who.end());
  if (who.empty())
    return {g, false,
            "nobody may approve a level-" + std::to_string(level) + " proposal of "
              + p.principal.value + ": no principal other than the proposer holds the role "
              + to_string(least) + " (authority.operators, authority.admins, "
                                  "authority.approver_role)"};
  std::string names;
  for (size_t i = 0; i < who.size() && i < 3; ++i)
    names += (i > 0 ? ", " : "") + who[i];
  if (who.size() > 3)
    names += " and " + std::to_string(who.size() - 3) + " more";
  return {g, true,
          std::string{g == gate::human_review ? "one review of the whole batch" : "one approval"}
            + " naming the digest, by a principal with the role " + to_string(least) + ": "
            + names + "; within "
            + (p.approval_window ? seconds_of(*p.approval_window) + " (the proposal's own window)"
                                 : seconds_of(in.config->approval_timeout))};
}

/// AllOrNothing and RollbackOnInterrupt: no resource is held by another running proposal.
gate_result compensation_gate(gate g, const proposal& p, const gate_inputs& in) {
  for (auto& m : p.mutations) {
    auto& svc = in.fleet->resources.at(m.resource.value).service;
    auto b = in.fleet->budget.find(svc);
    if (b == in.fleet->budget.end())
      continue;
    auto c = b->second.find(m.resource.value);
    if (c == b->second.end() || in.fleet->proposals.count(c->second.proposal) == 0)
      continue;
    return {g, false,
            m.resource.value + " is being changed by the running proposal "
              + to_hex(c->second.proposal).substr(0, 16)
              + ": a compensation could undo its change"};
  }
  return {g, true,
          std::string{g == gate::all_or_nothing ? "a failed action compensates the batch"
                                                : "an interrupt compensates the steps done"}
            + "; none of its " + std::to_string(p.mutations.size())
            + " resources is held by another running proposal"};
}

} // namespace

bool is_read_by(const proposal& p, const resource_state& r) {
  auto has = [](const std::vector<std::string>& xs, const std::string& x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
  };
  return !r.retired && has(p.services, r.service)
         && (p.regions.empty() || has(p.regions, r.region));
}

fleet_read read_of(const proposal& p, const fleet_state& fleet, size_t limit) {
  fleet_read out;
  out.seq = seq_no{fleet.seq};
  for (auto& [id, r] : fleet.resources) { // a std::map: in resource-id order
    if (!is_read_by(p, r))
      continue;
    ++out.total;
    if (out.resources.size() == limit) {
      out.truncated = true;
      continue;
    }
    out.resources.push_back(read_resource{resource_id{id}, r.service, r.region, r.attributes});
  }
  return out;
}

namespace {

gate_result evaluate_gate(gate g, const proposal& p, const gate_inputs& in) {
  auto n = p.mutations.size();
  switch (g) {
    case gate::transaction_read_only: {
      size_t found = 0;
      for (auto& svc : p.services) {
        size_t of = 0;
        for (auto& [id, r] : in.fleet->resources)
          if (r.service == svc && is_read_by(p, r))
            ++of;
        if (of == 0)
          return {g, false,
                  "nothing to read: service " + svc + " has no resources in the declared "
                  "regions at journal seq " + std::to_string(in.fleet->seq)};
        found += of;
      }
      return {g, true,
              "read-only view of the journal at seq " + std::to_string(in.fleet->seq) + ": "
                + std::to_string(found) + " resources of the declared services"};
    }
    case gate::no_state_mutation:
      return {g, n == 0, n == 0 ? "no mutation" : "level 0 may not mutate"};
    case gate::human_approval:
    case gate::human_review:
      return approvers_gate(g, p, in);
    case gate::per_action:
      return {g, n == 1,
              n == 1 ? "one action per approval"
                     : "level 1 carries exactly one action per proposal"};
    case gate::explicit_confirmation: {
      if (n != 1)
        return {g, false, "one action to confirm, not " + std::to_string(n)};
      auto& m = p.mutations.front();
      auto& attrs = in.fleet->resources.at(m.resource.value).attributes;
      auto i = attrs.find(m.key);
      caf::optional<std::string> now;
      if (i != attrs.end())
        now = i->second;
      if (now && *now == m.value)
        return {g, false,
                m.resource.value + "/" + m.key + " is '" + m.value
                  + "' already: there is no change to confirm"};
      return {g, true,
              "the approver confirms " + m.resource.value + "/" + m.key + ": " + quoted(now)
                + " -> '" + m.value + "'"};
    }
    case gate::atomic_batch: {
      auto limit = in.config->max_batch;
      if (n > limit)
        return {g, false,
                "a batch of " + std::to_string(n) + " actions is over the "
                  + std::to_string(limit) + " that start in one transaction "
                                            "(authority.max_batch)"};
      return {g, true,
              std::to_string(n) + " actions start in one transaction (at most "
                + std::to_string(limit) + ", authority.max_batch)"};
    }
    case gate::all_or_nothing:
    case gate::rollback_on_interrupt:
      return compensation_gate(g, p, in);
    case gate::interruptible_execution: {
      auto needed = in.observation_window * static_cast<int64_t>(n);
      auto left = p.deadline - in.now;
      if (left < needed)
        return {g, false,
                std::to_string(n) + " steps with a " + seconds_of(in.observation_window)
                  + " window each need " + seconds_of(needed) + "; the deadline leaves "
                  + seconds_of(left)};
      return {g, true,
              std::to_string(n) + " steps one by one, interruptible between them; their "
                + seconds_of(needed) + " of windows fit the deadline's " + seconds_of(left)};
    }
    case gate::human_observation:
      if (in.observation_window <= caf::timespan{0})
        return {g, false, "no observation window (authority.observation_window_ms is 0)"};
      return {g, true,
              "a " + seconds_of(in.observation_window) + " window with analysis after each of "
                + std::to_string(n) + " steps, the last included"};
    case gate::no_human_intervention:
      return {g, in.config->enforce_enabled,
              in.config->enforce_enabled ? "level 4 is enabled (authority.enforce_enabled)"
                                         : "level 4 is disabled (authority.enforce_enabled)"};
    case gate::audit_only: {
      auto limit = in.config->audit_backlog;
      if (in.audit_pending >= limit)
        return {g, false,
                "the audit queue is full: " + std::to_string(in.audit_pending)
                  + " level-4 proposals await their audit or run (authority.audit_backlog "
                  + std::to_string(limit) + ")"};
      return {g, true,
              "enters the audit queue (" + std::to_string(in.audit_pending) + " of "
                + std::to_string(limit) + " held: awaiting their audit or running)"};
    }
  }
  return {g, false, "unknown gate"};
}

} // namespace

std::vector<gate_result> evaluate_gates(const proposal& p, const gate_inputs& in) {
  std::vector<gate_result> out;
  if (!valid(p.level))
    return out;
  for (auto g : gates_of(p.level))
    out.push_back(evaluate_gate(g, p, in));
  return out;
}

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
