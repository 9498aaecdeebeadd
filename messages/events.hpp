#pragma once

/// Journal events and their payloads.
///
/// An `event` carries its payload already encoded (the canonical encoding of
/// docs/journal-format.md); the payload structs below are what those bytes decode to.
/// Each payload struct lists every field in its `inspect`, which serves both CAF's
/// serializers and the journal codec.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/enums.hpp"
#include "messages/error.hpp"
#include "messages/ids.hpp"
#include "messages/refusals.hpp"

namespace bulwark {

/// String attributes of a resource, ordered so encodings are canonical.
using attribute_map = std::map<std::string, std::string>;

/// One immutable journal record before it receives its sequence number.
struct event {
  event_type type = event_type::resource_registered;
  caf::timestamp at;
  trace_id trace;
  std::vector<uint8_t> payload;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("event"), x.type, x.at, x.trace, x.payload,
           caf::meta::load_callback([&]() -> caf::error {
             if (valid(x.type))
               return caf::error{};
             count_refusal(protected_value::raw_event_type);
             return refuse(ec::invalid_input, "unknown event type");
           }));
}

/// A committed event with its sequence number and chain hash.
struct journal_entry {
  seq_no seq;
  digest chain;
  event ev;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_entry& x) {
  return f(caf::meta::type_name("journal_entry"), x.seq, x.chain, x.ev);
}

/// The acknowledgement of a durable append: the range it received and the new head.
struct appended {
  seq_no first;
  seq_no last;
  digest chain;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, appended& x) {
  return f(caf::meta::type_name("appended"), x.first, x.last, x.chain);
}

/// One requested change: set `key` of `resource` to `value`.
struct mutation {
  resource_id resource;
  std::string key;
  std::string value;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mutation& x) {
  return f(caf::meta::type_name("mutation"), x.resource, x.key, x.value);
}

// -- payloads ---------------------------------------------------------------------

/// Payload of `resource_registered`.
struct resource_registered {
  resource_id resource;
  std::string service;
  std::string region;
  attribute_map attributes;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_registered& x) {
  return f(caf::meta::type_name("resource_registered"), x.resource, x.service, x.region,
           x.attributes);
}

/// Payload of `resource_retired`.
struct resource_retired {
  resource_id resource;
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_retired& x) {
  return f(caf::meta::type_name("resource_retired"), x.resource, x.reason);
}

/// One gate's verdict inside a decision.
struct gate_result {
  gate name = gate::transaction_read_only;
  bool passed = false;
  std::string note;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gate_result& x) {
  return f(caf::meta::type_name("gate_result"), x.name, x.passed, x.note,
           caf::meta::load_callback([&]() -> caf::error {
             return valid(x.name) ? caf::error{} : refuse(ec::invalid_input, "unknown gate");
           }));
}

/// Payload of `proposal_decided`: the write-ahead decision for one proposal.
struct proposal_decided {
  digest proposal;
  std::string idempotency_key;
  principal_id principal;
  authority_level level = authority_level::read_only;
  std::string service;
  std::string region;
  bool allowed = false;
  ec code = ec::none;
  std::string reason;
  uint32_t allowed_count = 0;
  std::vector<gate_result> gates;
  std::vector<mutation> mutations;
  std::string justification;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proposal_decided& x) {
  return f(caf::meta::type_name("proposal_decided"), x.proposal, x.idempotency_key,
           x.principal, x.level, x.service, x.region, x.allowed, x.code, x.reason,
           x.allowed_count, x.gates, x.mutations, x.justification,
           caf::meta::load_callback([&]() -> caf::error {
             return valid(x.level) ? caf::error{} : refuse(ec::invalid_input, "level");
           }));
}

/// Payload of `action_started`: an effector call is about to run.
struct action_started {
  digest proposal;
  uint32_t step = 0;
  mutation change;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_started& x) {
  return f(caf::meta::type_name("action_started"), x.proposal, x.step, x.change);
}

/// Payload of `action_applied`: the effect, with the value it replaced.
struct action_applied {
  digest proposal;
  uint32_t step = 0;
  resource_id resource;
  std::string key;
  caf::optional<std::string> old_value;
  std::string new_value;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_applied& x) {
  return f(caf::meta::type_name("action_applied"), x.proposal, x.step, x.resource, x.key,
           x.old_value, x.new_value);
}

/// Payload of `action_failed`.
struct action_failed {
  digest proposal;
  uint32_t step = 0;
  mutation change;
  ec code = ec::none;
  std::string message;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_failed& x) {
  return f(caf::meta::type_name("action_failed"), x.proposal, x.step, x.change, x.code,
           x.message);
}

/// Payload of `approval_granted`, `approval_denied` and `approval_expired`.
struct approval_recorded {
  digest proposal;
  principal_id approver;
  std::string note;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval_recorded& x) {
  return f(caf::meta::type_name("approval_recorded"), x.proposal, x.approver, x.note);
}

/// Payload of `approval_checked`: what separation of duties found of an approval or a
/// denial, in the same transaction as its `approval_granted` or `approval_denied` (of a
/// proposal or of a rollback): the approver's role and grant in force, and the gates the
/// answer met, each with its evidence.
struct approval_checked {
  digest proposal;
  principal_id approver;
  bool approve = true;
  std::string role;                      ///< "operator" or "admin"
  caf::optional<authority_level> grant;  ///< the approver's own grant (none: it has none)
  std::vector<gate_result> gates;        ///< gates met by this answer
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval_checked& x) {
  return f(caf::meta::type_name("approval_checked"), x.proposal, x.approver, x.approve, x.role,
           x.grant, x.gates,
           caf::meta::load_callback([&]() -> caf::error {
             return !x.grant || valid(*x.grant) ? caf::error{}
                                                : refuse(ec::invalid_input, "grant level");
           }));
}

/// Payload of `rollback_applied`: one compensating change restoring an older value.
struct rollback_applied {
  digest rollback;
  seq_no reverts;
  resource_id resource;
  std::string key;
  caf::optional<std::string> old_value;
  caf::optional<std::string> new_value;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rollback_applied& x) {
  return f(caf::meta::type_name("rollback_applied"), x.rollback, x.reverts, x.resource,
           x.key, x.old_value, x.new_value);
}

/// Payload of `breaker_transition`.
struct breaker_transition {
  std::string service;
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  std::string cause;
  uint32_t failures = 0;
  uint32_t calls = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, breaker_transition& x) {
  return f(caf::meta::type_name("breaker_transition"), x.service, x.from, x.to, x.cause,
           x.failures, x.calls, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.from) && valid(x.to) ? caf::error{}
                                                 : refuse(ec::invalid_input, "state");
           }));
}

/// Payload of `grant_changed`: a principal's maximum level was raised or lowered.
struct grant_changed {
  principal_id principal;
  authority_level level = authority_level::read_only;
  caf::optional<caf::timestamp> until;
  principal_id by;
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grant_changed& x) {
  return f(caf::meta::type_name("grant_changed"), x.principal, x.level, x.until, x.by,
           x.reason, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.level) ? caf::error{} : refuse(ec::invalid_input, "level");
           }));
}

/// Payload of `halt_engaged` and `halt_released`.
struct halt_changed {
  principal_id by;
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, halt_changed& x) {
  return f(caf::meta::type_name("halt_changed"), x.by, x.reason);
}

/// Payload of `console_access`: the forensic access trail.
struct console_access {
  principal_id principal;
  std::string command;
  std::string remote;
  bool allowed = false;
  std::string detail;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, console_access& x) {
  return f(caf::meta::type_name("console_access"), x.principal, x.command, x.remote,
           x.allowed, x.detail);
}

/// Payload of `interrupted`.
struct interrupted {
  digest proposal;
  principal_id by;
  uint32_t steps_done = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, interrupted& x) {
  return f(caf::meta::type_name("interrupted"), x.proposal, x.by, x.steps_done);
}

/// Payload of `analysis_failed`: a level-3 step's observation window did not pass its
/// analysis (the service's signals breached their thresholds, or could not be read), so
/// the flight is interrupted and compensated. The evidence: the window, the samples seen,
/// how many breached, the worst one and the threshold it was judged by.
struct analysis_failed {
  digest proposal;
  uint32_t step = 0;           ///< the step whose window failed, counted from 0
  std::string service;
  caf::timestamp from;         ///< the window
  caf::timestamp to;
  uint32_t samples = 0;        ///< accepted samples of the service in the window
  uint32_t breaches = 0;       ///< of them above their series' threshold
  uint32_t failure_limit = 0;  ///< breaches tolerated
  std::string worst_region;    ///< the series of the worst sample ("" when none)
  uint32_t worst_ppm = 0;      ///< its error rate, parts per million
  uint32_t threshold_ppm = 0;  ///< the threshold it was judged by
  std::string reason;          ///< one readable line
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, analysis_failed& x) {
  return f(caf::meta::type_name("analysis_failed"), x.proposal, x.step, x.service, x.from,
           x.to, x.samples, x.breaches, x.failure_limit, x.worst_region, x.worst_ppm,
           x.threshold_ppm, x.reason);
}

/// One resource of a blast-budget charge, with the service and region it counts against.
struct budget_entry {
  resource_id resource;
  std::string service;
  std::string region;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, budget_entry& x) {
  return f(caf::meta::type_name("budget_entry"), x.resource, x.service, x.region);
}

/// Payload of `budget_charged`: a proposal's execution starts and its resources count
/// against the fleet-wide blast budget of their (service, region) until `until` (the
/// record's time plus `window`). It rides the transaction that starts the execution: the
/// decision at levels 3 and 4, the approval at levels 1 and 2.
struct budget_charged {
  digest proposal;
  principal_id principal;
  std::vector<budget_entry> entries;
  caf::timespan window{0};
  caf::timestamp until;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, budget_charged& x) {
  return f(caf::meta::type_name("budget_charged"), x.proposal, x.principal, x.entries,
           x.window, x.until);
}

/// Payload of `proposal_finished`: the final outcome of an allowed proposal.
struct proposal_finished {
  digest proposal;
  bool succeeded = false;
  ec code = ec::none;
  uint32_t applied = 0;
  uint32_t compensated = 0;
  std::string message;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proposal_finished& x) {
  return f(caf::meta::type_name("proposal_finished"), x.proposal, x.succeeded, x.code,
           x.applied, x.compensated, x.message);
}

/// Payload of `actor_restarted`: a supervisor restarted (or gave up on) a child.
struct actor_restarted {
  std::string supervisor;
  std::string child;
  std::string reason;
  uint32_t restarts_in_window = 0;
  bool escalated = false; ///< over the intensity limit: the supervisor exits instead
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, actor_restarted& x) {
  return f(caf::meta::type_name("actor_restarted"), x.supervisor, x.child, x.reason,
           x.restarts_in_window, x.escalated);
}

// -- health ---------------------------------------------------------------------

/// Payload of `early_warning`: an indicator of a failure mode crossed a threshold.
struct early_warning {
  std::string mode;        ///< failure mode id, e.g. "JOURNAL-SPACE"
  std::string indicator;   ///< e.g. "journal_space_pct"
  degradation level = degradation::degraded; ///< degraded: warning crossed; critical
  double value = 0;        ///< the current value
  double threshold = 0;    ///< the threshold crossed
  std::string action;      ///< the recommended action
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, early_warning& x) {
  return f(caf::meta::type_name("early_warning"), x.mode, x.indicator, x.level, x.value,
           x.threshold, x.action, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.level) ? caf::error{}
                                   : refuse(ec::invalid_input, "unknown degradation level");
           }));
}

/// Payload of `degradation_changed`: the node's overall degradation level changed.
struct degradation_changed {
  degradation from = degradation::normal;
  degradation to = degradation::normal;
  std::string cause; ///< the failure modes at the new level ("" when back to normal)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, degradation_changed& x) {
  return f(caf::meta::type_name("degradation_changed"), x.from, x.to, x.cause,
           caf::meta::load_callback([&]() -> caf::error {
             return valid(x.from) && valid(x.to)
                      ? caf::error{}
                      : refuse(ec::invalid_input, "unknown degradation level");
           }));
}

/// Payload of `dead_lettered` (29): an action whose retries were exhausted (its last
/// error was a timeout or unavailability). It waits in the dead-letter list, keyed by
/// this record's seq, until an operator requeues or discards it.
struct dead_lettered {
  digest proposal;           ///< the proposal the action belonged to
  uint32_t step = 0;         ///< its index in the proposal's mutations
  principal_id principal;    ///< who proposed it (a requeue runs under this principal)
  authority_level level = authority_level::enforce; ///< the level it ran at
  std::string service;       ///< the service whose effector failed
  mutation change;           ///< the action itself
  ec code = ec::none;        ///< the last error (timeout or unavailable)
  std::string message;       ///< its text
  caf::timestamp failed_at;  ///< when the last attempt failed
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_lettered& x) {
  return f(caf::meta::type_name("dead_lettered"), x.proposal, x.step, x.principal, x.level,
           x.service, x.change, x.code, x.message, x.failed_at,
           caf::meta::load_callback([&]() -> caf::error {
             return valid(x.level) ? caf::error{}
                                   : refuse(ec::invalid_input, "unknown authority level");
           }));
}

/// Payload of `dead_letter_resolved` (30): an operator requeued or discarded a letter.
struct dead_letter_resolved {
  uint64_t letter = 0;         ///< the seq of the `dead_lettered` record
  principal_id by;             ///< the operator
  bool requeued = false;       ///< true: resubmitted; false: discarded
  std::string idempotency_key; ///< requeued: the new proposal's key ("" when discarded)
  std::string reason;          ///< the operator's words
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter_resolved& x) {
  return f(caf::meta::type_name("dead_letter_resolved"), x.letter, x.by, x.requeued,
           x.idempotency_key, x.reason);
}

// -- the audit queue of level-4 changes ------------------------------------------

/// Payload of `audit_acknowledged` (48): an operator reviewed what a level-4 proposal did
/// after the fact, and it leaves the audit queue (`fleet_state::audit`).
struct audit_acknowledged {
  digest proposal;   ///< the proposal reviewed
  principal_id by;   ///< the operator or admin who reviewed it
  std::string note;  ///< what the reviewer wants kept ("" when none)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_acknowledged& x) {
  return f(caf::meta::type_name("audit_acknowledged"), x.proposal, x.by, x.note);
}

// -- audited policy ---------------------------------------------------------------

/// One setting of the governance policy: its key (as in bulwark.toml, e.g.
/// `authority.grant.agent`) and its value in canonical text.
struct policy_entry {
  std::string key;
  std::string value;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, policy_entry& x) {
  return f(caf::meta::type_name("policy_entry"), x.key, x.value);
}

/// One difference between two policies: a key added (no `before`), removed (no `after`)
/// or changed.
struct policy_change {
  std::string key;
  caf::optional<std::string> before;
  caf::optional<std::string> after;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, policy_change& x) {
  return f(caf::meta::type_name("policy_change"), x.key, x.before, x.after);
}

/// Payload of `policy_changed` (49): the node runs under a new governance policy from
/// this record on. Journaled before anything runs under it: at start when the policy
/// differs from the journal's last, and on a reload.
struct policy_changed {
  std::string version;                ///< SHA-256 (64 hex) of the canonical text of `entries`
  std::string previous;               ///< the version it replaces ("" when none was journaled)
  principal_id by;                    ///< "config" at start; the admin of a reload
  std::string cause;                  ///< "start", "promotion", "reload" (console or API) or "signal" (SIGHUP)
  std::vector<policy_change> changes; ///< against the previous policy, by key
  std::vector<policy_entry> entries;  ///< the whole policy, by key
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, policy_changed& x) {
  return f(caf::meta::type_name("policy_changed"), x.version, x.previous, x.by, x.cause,
           x.changes, x.entries);
}

/// Payload of `policy_refused` (50): a reload found an invalid policy; nothing changed and
/// the policy in force stays.
struct policy_refused {
  principal_id by;    ///< who asked for the reload
  std::string cause;  ///< "reload" or "signal"
  std::string reason; ///< what is wrong (the file, the key and the problem)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, policy_refused& x) {
  return f(caf::meta::type_name("policy_refused"), x.by, x.cause, x.reason);
}

/// Payload of `decision_basis` (51): what a decision was made under and about, journaled
/// right after its `proposal_decided` in the same transaction: the policy version in force
/// and every declared service and region, so the proposal's digest can be recomputed from
/// the journal alone (docs/journal-format.md).
struct decision_basis {
  digest proposal;
  std::string policy_version; ///< the version of the policy in force ("" when none)
  std::vector<std::string> services;
  std::vector<std::string> regions;
  caf::optional<caf::timespan> approval_window; ///< the proposal's own (none: it gave none)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision_basis& x) {
  return f(caf::meta::type_name("decision_basis"), x.proposal, x.policy_version, x.services,
           x.regions, x.approval_window);
}

/// Payload of `quarantine_changed` (52): admission quarantined a principal after repeated
/// failures, or an admin released it. A restart keeps the quarantine.
struct quarantine_changed {
  principal_id principal;
  bool quarantined = false; ///< true: quarantined; false: released
  principal_id by;          ///< "admission" for a quarantine; the admin of a release
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quarantine_changed& x) {
  return f(caf::meta::type_name("quarantine_changed"), x.principal, x.quarantined, x.by,
           x.reason);
}

// -- failed compensations ----------------------------------------------------------

/// Payload of `compensation_failed` (53): a compensation (the undo of one applied step of
/// a flight, or one step of a rollback) failed, so `change` stays applied. It follows, in
/// the same transaction, the `dead_lettered` record of that compensation and precedes the
/// P1 `incident_opened` raised for it (docs/journal-format.md, type 53).
struct compensation_failed {
  digest proposal;   ///< the proposal, or the rollback, whose compensation failed
  uint32_t step = 0; ///< the proposal's step, or the rollback's step (its plan's order)
  mutation change;   ///< what stays applied: the resource, the key and the value it holds
  caf::optional<std::string> restore; ///< the value to restore (none: remove the key)
  ec code = ec::none;   ///< why the compensation failed
  std::string message;  ///< its text
  digest incident;      ///< the P1 incident raised for it
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compensation_failed& x) {
  return f(caf::meta::type_name("compensation_failed"), x.proposal, x.step, x.change,
           x.restore, x.code, x.message, x.incident);
}

// -- a proposal's own approval window ----------------------------------------------

/// Payload of `approval_window` (54): the allowed level-1 or level-2 proposal decided
/// right before it in the same transaction asked for its own approval window, shorter
/// than the node's; nobody approving within it expires the proposal.
struct approval_window {
  digest proposal;     ///< the proposal decided
  caf::timespan window{0}; ///< from the decision's time
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval_window& x) {
  return f(caf::meta::type_name("approval_window"), x.proposal, x.window);
}

} // namespace bulwark
