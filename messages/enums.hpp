#pragma once

/// Enumerations of the vocabulary: event types, authority levels, gates, breaker states.
///
/// Each is `enum class : uint8_t` with explicit values (they are stored in the journal),
/// a `to_string`, a `parse` and a `valid` range check used by `inspect` on load.

#include <cstdint>
#include <string_view>

namespace bulwark {

// -- event types --------------------------------------------------------------

/// The type of one journal record. Append only: values are stored on disk.
enum class event_type : uint8_t {
  resource_registered = 1,
  resource_retired = 2,
  proposal_decided = 3,
  action_started = 4,
  action_applied = 5,
  action_failed = 6,
  approval_granted = 7,
  rollback_applied = 8,
  breaker_transition = 9,
  grant_changed = 10,
  halt_engaged = 11,
  halt_released = 12,
  console_access = 13,
  approval_denied = 14,
  approval_expired = 15,
  interrupted = 16,
  proposal_finished = 17,
  actor_restarted = 18,
  candidate_raised = 19,
  candidate_decided = 20,
  incident_opened = 21,
  rollback_requested = 22,
  rollback_finished = 23,
  incident_closed = 24,
  incident_escalated = 25,
  orchestration_failed = 26,
  // -- health (27-34) --
  early_warning = 27,
  degradation_changed = 28,
  dead_lettered = 29,
  dead_letter_resolved = 30,
  // 31-34: reserved
  // -- cluster: 35-40 --
  peer_changed = 35,
  integrity_alert = 36,
  leadership_changed = 37,
  // -- the incident lifecycle: 38-43 --
  incident_acknowledged = 38,
  incident_noted = 39,
  incident_severity_changed = 40,
  incident_resolved = 41,
  incident_reopened = 42,
  incident_closed_by_operator = 43,
  // -- notifications --
  notification_sent = 44,
  // -- flight analysis: 45 --
  analysis_failed = 45,
  // -- the fleet-wide blast budget: 46 --
  budget_charged = 46,
  // -- approval evidence: 47 --
  approval_checked = 47,
  // -- the audit queue of level-4 changes: 48 --
  audit_acknowledged = 48,
  // -- audited policy: 49-52 --
  policy_changed = 49,
  policy_refused = 50,
  decision_basis = 51,
  quarantine_changed = 52,
  // -- failed compensations: 53 --
  compensation_failed = 53,
  // -- a proposal's own approval window: 54 --
  approval_window = 54,
};

/// The highest defined event type (the values have gaps: see `valid`).
inline constexpr uint8_t max_event_type = 54;

const char* to_string(event_type x) noexcept;
bool parse(std::string_view name, event_type& out) noexcept;
/// Returns true for exactly the defined event types (reserved ranges leave gaps).
bool valid(event_type x) noexcept;

/// Returns true for events that are never shed (decisions, effects, approvals, ...).
bool is_constitutional(event_type x) noexcept;

// -- authority levels -----------------------------------------------------------

/// The five staged authority levels.
enum class authority_level : uint8_t {
  read_only = 0,
  assist = 1,
  recommend = 2,
  act = 3,
  enforce = 4,
};

const char* to_string(authority_level x) noexcept;
bool parse(std::string_view name, authority_level& out) noexcept;
inline bool valid(authority_level x) noexcept {
  return static_cast<uint8_t>(x) <= 4;
}

// -- gates ------------------------------------------------------------------------

/// The thirteen named gates; each level owns a fixed set (`gates_of`, authority_policy).
enum class gate : uint8_t {
  transaction_read_only = 1,
  no_state_mutation = 2,
  human_approval = 3,
  per_action = 4,
  explicit_confirmation = 5,
  atomic_batch = 6,
  human_review = 7,
  all_or_nothing = 8,
  interruptible_execution = 9,
  human_observation = 10,
  rollback_on_interrupt = 11,
  no_human_intervention = 12,
  audit_only = 13,
};

const char* to_string(gate x) noexcept;
bool parse(std::string_view name, gate& out) noexcept;
inline bool valid(gate x) noexcept {
  auto v = static_cast<uint8_t>(x);
  return v >= 1 && v <= 13;
}

// -- circuit breaker states ---------------------------------------------------------

/// States of a service's circuit breaker.
enum class breaker_state : uint8_t {
  closed = 0,
  open = 1,
  half_open = 2,
  forced_open = 3,
  forced_closed = 4,
};

const char* to_string(breaker_state x) noexcept;
bool parse(std::string_view name, breaker_state& out) noexcept;
inline bool valid(breaker_state x) noexcept {
  return static_cast<uint8_t>(x) <= 4;
}

// -- degradation levels (health) ----------------------------------------------------

/// How degraded the node is, from its failure-mode indicators.
enum class degradation : uint8_t {
  normal = 0,
  degraded = 1,
  critical = 2,
};

const char* to_string(degradation x) noexcept;
bool parse(std::string_view name, degradation& out) noexcept;
inline bool valid(degradation x) noexcept {
  return static_cast<uint8_t>(x) <= 2;
}

} // namespace bulwark
