#include "messages/enums.hpp"

namespace bulwark {

namespace {

/// Finds the enum value whose name is `name` by trying every value in [lo, hi].
template <class Enum>
bool parse_range(std::string_view name, Enum& out, uint8_t lo, uint8_t hi) noexcept {
  for (unsigned v = lo; v <= hi; ++v) {
    auto x = static_cast<Enum>(v);
    if (name == to_string(x)) {
      out = x;
      return true;
    }
  }
  return false;
}

} // namespace

const char* to_string(event_type x) noexcept {
  switch (x) {
    case event_type::resource_registered:
      return "resource_registered";
    case event_type::resource_retired:
      return "resource_retired";
    case event_type::proposal_decided:
      return "proposal_decided";
    case event_type::action_started:
      return "action_started";
    case event_type::action_applied:
      return "action_applied";
    case event_type::action_failed:
      return "action_failed";
    case event_type::approval_granted:
      return "approval_granted";
    case event_type::rollback_applied:
      return "rollback_applied";
    case event_type::breaker_transition:
      return "breaker_transition";
    case event_type::grant_changed:
      return "grant_changed";
    case event_type::halt_engaged:
      return "halt_engaged";
    case event_type::halt_released:
      return "halt_released";
    case event_type::console_access:
      return "console_access";
    case event_type::approval_denied:
      return "approval_denied";
    case event_type::approval_expired:
      return "approval_expired";
    case event_type::interrupted:
      return "interrupted";
    case event_type::proposal_finished:
      return "proposal_finished";
    case event_type::actor_restarted:
      return "actor_restarted";
    case event_type::candidate_raised:
      return "candidate_raised";
    case event_type::candidate_decided:
      return "candidate_decided";
    case event_type::incident_opened:
      return "incident_opened";
    case event_type::rollback_requested:
      return "rollback_requested";
    case event_type::rollback_finished:
      return "rollback_finished";
    case event_type::incident_closed:
      return "incident_closed";
    case event_type::incident_escalated:
      return "incident_escalated";
    case event_type::orchestration_failed:
      return "orchestration_failed";
    case event_type::early_warning:
      return "early_warning";
    case event_type::degradation_changed:
      return "degradation_changed";
    case event_type::dead_lettered:
      return "dead_lettered";
    case event_type::dead_letter_resolved:
      return "dead_letter_resolved";
    case event_type::peer_changed:
      return "peer_changed";
    case event_type::integrity_alert:
      return "integrity_alert";
    case event_type::leadership_changed:
      return "leadership_changed";
    case event_type::incident_acknowledged:
      return "incident_acknowledged";
    case event_type::incident_noted:
      return "incident_noted";
    case event_type::incident_severity_changed:
      return "incident_severity_changed";
    case event_type::incident_resolved:
      return "incident_resolved";
    case event_type::incident_reopened:
      return "incident_reopened";
    case event_type::incident_closed_by_operator:
      return "incident_closed_by_operator";
    case event_type::notification_sent:
      return "notification_sent";
    case event_type::analysis_failed:
      return "analysis_failed";
    case event_type::budget_charged:
      return "budget_charged";
    case event_type::approval_checked:
      return "approval_checked";
    case event_type::audit_acknowledged:
      return "audit_acknowledged";
    case event_type::policy_changed:
      return "policy_changed";
    case event_type::policy_refused:
      return "policy_refused";
    case event_type::decision_basis:
      return "decision_basis";
    case event_type::quarantine_changed:
      return "quarantine_changed";
    case event_type::compensation_failed:
      return "compensation_failed";
    case event_type::approval_window:
      return "approval_window";
  }
  return "unknown";
}

bool valid(event_type x) noexcept {
  // A switch, not a range: the numbering has gaps reserved for other areas.
  switch (x) {
    case event_type::resource_registered:
    case event_type::resource_retired:
    case event_type::proposal_decided:
    case event_type::action_started:
    case event_type::action_applied:
    case event_type::action_failed:
    case event_type::approval_granted:
    case event_type::rollback_applied:
    case event_type::breaker_transition:
    case event_type::grant_changed:
    case event_type::halt_engaged:
    case event_type::halt_released:
    case event_type::console_access:
    case event_type::approval_denied:
    case event_type::approval_expired:
    case event_type::interrupted:
    case event_type::proposal_finished:
    case event_type::actor_restarted:
    case event_type::candidate_raised:
    case event_type::candidate_decided:
    case event_type::incident_opened:
    case event_type::rollback_requested:
    case event_type::rollback_finished:
    case event_type::incident_closed:
    case event_type::incident_escalated:
    case event_type::orchestration_failed:
    case event_type::early_warning:
    case event_type::degradation_changed:
    case event_type::dead_lettered:
    case event_type::dead_letter_resolved:
    case event_type::peer_changed:
    case event_type::integrity_alert:
    case event_type::leadership_changed:
    case event_type::incident_acknowledged:
    case event_type::incident_noted:
    case event_type::incident_severity_changed:
    case event_type::incident_resolved:
    case event_type::incident_reopened:
    case event_type::incident_closed_by_operator:
    case event_type::notification_sent:
    case event_type::analysis_failed:
    case event_type::budget_charged:
    case event_type::approval_checked:
    case event_type::audit_acknowledged:
    case event_type::policy_changed:
    case event_type::policy_refused:
    case event_type::decision_basis:
    case event_type::quarantine_changed:
    case event_type::compensation_failed:
    case event_type::approval_window:
      return true;
  }
  return false;
}

bool parse(std::string_view name, event_type& out) noexcept {
  for (unsigned v = 1; v <= max_event_type; ++v) {
    auto x = static_cast<event_type>(v);
    if (valid(x) && name == to_string(x)) {
      out = x;
      return true;
    }
  }
  return false;
}

bool is_constitutional(event_type x) noexcept {
  // Every event type that reaches the journal is constitutional; telemetry never does.
  return valid(x);
}

const char* to_string(authority_level x) noexcept {
  switch (x) {
    case authority_level::read_only:
      return "read-only";
    case authority_level::assist:
      return "assist";
    case authority_level::recommend:
      return "recommend";
    case authority_level::act:
      return "act";
    case authority_level::enforce:
      return "enforce";
  }
  return "unknown";
}

bool parse(std::string_view name, authority_level& out) noexcept {
  return parse_range(name, out, 0, 4);
}

const char* to_string(gate x) noexcept {
  switch (x) {
    case gate::transaction_read_only:
      return "TransactionReadOnly";
    case gate::no_state_mutation:
      return "NoStateMutation";
    case gate::human_approval:
      return "HumanApproval";
    case gate::per_action:
      return "PerAction";
    case gate::explicit_confirmation:
      return "ExplicitConfirmation";
    case gate::atomic_batch:
      return "AtomicBatch";
    case gate::human_review:
      return "HumanReview";
    case gate::all_or_nothing:
      return "AllOrNothing";
    case gate::interruptible_execution:
      return "InterruptibleExecution";
    case gate::human_observation:
      return "HumanObservation";
    case gate::rollback_on_interrupt:
      return "RollbackOnInterrupt";
    case gate::no_human_intervention:
      return "NoHumanIntervention";
    case gate::audit_only:
      return "AuditOnly";
  }
  return "unknown";
}

bool parse(std::string_view name, gate& out) noexcept {
  return parse_range(name, out, 1, 13);
}

const char* to_string(breaker_state x) noexcept {
  switch (x) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half-open";
    case breaker_state::forced_open:
      return "forced-open";
    case breaker_state::forced_closed:
      return "forced-closed";
  }
  return "unknown";
}

bool parse(std::string_view name, breaker_state& out) noexcept {
  return parse_range(name, out, 0, 4);
}

const char* to_string(degradation x) noexcept {
  switch (x) {
    case degradation::normal:
      return "normal";
    case degradation::degraded:
      return "degraded";
    case degradation::critical:
      return "critical";
  }
  return "unknown";
}

bool parse(std::string_view name, degradation& out) noexcept {
  return parse_range(name, out, 0, 2);
}

} // namespace bulwark
