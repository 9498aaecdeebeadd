#pragma once

/// Commands into the proposal pipeline: proposals, approvals, interrupts, grants, halts;
/// and their replies: decisions and outcomes.

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
#include "messages/events.hpp"
#include "messages/ids.hpp"

namespace bulwark {

/// A request to read or change resources.
struct proposal {
  std::string idempotency_key;
  principal_id principal;
  authority_level level = authority_level::read_only;
  std::vector<std::string> services; ///< declared target services
  std::vector<std::string> regions;  ///< declared target regions
  std::vector<mutation> mutations;
  std::string justification;
  caf::timestamp deadline; ///< absolute; effector calls must finish before it
  /// Levels 1 and 2: the proposal's own approval window, from its decision; none: the
  /// node's (`authority.approval_timeout_ms`). Content: part of the proposal's digest.
  caf::optional<caf::timespan> approval_window;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proposal& x) {
  return f(caf::meta::type_name("proposal"), x.idempotency_key, x.principal, x.level,
           x.services, x.regions, x.mutations, x.justification, x.deadline,
           x.approval_window,
           caf::meta::load_callback([&]() -> caf::error {
             return valid(x.level) ? caf::error{} : refuse(ec::invalid_input, "level");
           }));
}

/// The combined verdict of authority and blast radius on one proposal.
struct decision {
  digest proposal;
  bool allowed = false;
  ec code = ec::none;
  std::string reason;
  uint32_t allowed_count = 0;
  std::vector<gate_result> gates;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision& x) {
  return f(caf::meta::type_name("decision"), x.proposal, x.allowed, x.code, x.reason,
           x.allowed_count, x.gates);
}

/// Where a proposal stands when its submitter hears back.
enum class proposal_status : uint8_t {
  refused = 0,          ///< not allowed; nothing ran
  succeeded = 1,        ///< every action applied
  failed = 2,           ///< an action failed; what ran was compensated where the level says
  interrupted = 3,      ///< stopped by an operator; steps done were rolled back
  expired = 4,          ///< nobody approved in time
  denied = 5,           ///< an operator denied it
  read = 6,             ///< a level-0 query; nothing to run
  /// A step failed or the flight was stopped, and at least one compensation failed too:
  /// a change stays applied (a dead letter and a P1 incident name it).
  compensation_failed = 7,
};
const char* to_string(proposal_status x) noexcept;
inline bool valid(proposal_status x) noexcept {
  return static_cast<uint8_t>(x) <= 7;
}

/// One resource as a level-0 read saw it in the journaled fleet.
struct read_resource {
  resource_id id;
  std::string service;
  std::string region;
  std::map<std::string, std::string> attributes;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_resource& x) {
  return f(caf::meta::type_name("read_resource"), x.id, x.service, x.region, x.attributes);
}

/// What a level-0 read returns: the active resources of its declared services (in its
/// declared regions, when it names any), from the view of the journal its gates evaluated.
struct fleet_read {
  seq_no seq;                          ///< the journal seq of the view read
  std::vector<read_resource> resources; ///< in resource-id order, at most the read limit
  uint32_t total = 0;                  ///< resources that matched, `resources` or not
  bool truncated = false;              ///< more matched than the read limit returns
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fleet_read& x) {
  return f(caf::meta::type_name("fleet_read"), x.seq, x.resources, x.total, x.truncated);
}

/// The final answer to a submitted proposal.
struct outcome {
  digest proposal;
  proposal_status status = proposal_status::refused;
  ec code = ec::none;
  std::string message;
  seq_no decided_seq;
  uint32_t applied = 0;
  uint32_t compensated = 0;
  caf::optional<caf::timespan> retry_after; ///< when retrying later may help
  /// A level-0 read answered by its flight: what it read (none for any other answer).
  caf::optional<fleet_read> read;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outcome& x) {
  return f(caf::meta::type_name("outcome"), x.proposal, x.status, x.code, x.message,
           x.decided_seq, x.applied, x.compensated, x.retry_after, x.read,
           caf::meta::load_callback([&]() -> caf::error {
             return valid(x.status) ? caf::error{} : refuse(ec::invalid_input, "status");
           }));
}

/// An operator's approval or denial of one proposal, naming its exact digest.
struct approval {
  principal_id approver;
  digest proposal;
  bool approve = true;
  std::string note;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval& x) {
  return f(caf::meta::type_name("approval"), x.approver, x.proposal, x.approve, x.note);
}

/// An operator's interrupt of a running level-3 proposal.
struct interrupt {
  principal_id by;
  digest proposal;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, interrupt& x) {
  return f(caf::meta::type_name("interrupt"), x.by, x.proposal);
}

/// An operator's settling of a proposal's actions in doubt: whether the effector applied
/// them (docs/operations.md, "Actions in doubt").
struct doubt_resolution {
  principal_id by;
  digest proposal;
  bool applied = false;
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, doubt_resolution& x) {
  return f(caf::meta::type_name("doubt_resolution"), x.by, x.proposal, x.applied, x.reason);
}

/// An operator's requeue or discard of a dead letter.
struct dead_letter_command {
  uint64_t letter = 0;     ///< the seq of the `dead_lettered` record
  principal_id by;         ///< the operator (the engine and console check the role)
  std::string reason;
  caf::timestamp deadline; ///< requeue: the new proposal's deadline
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter_command& x) {
  return f(caf::meta::type_name("dead_letter_command"), x.letter, x.by, x.reason, x.deadline);
}

/// A proposal waiting for a person, or running.
struct pending_approval {
  digest proposal;
  principal_id principal;
  authority_level level = authority_level::assist;
  std::vector<mutation> mutations;
  caf::timestamp expires;
  bool awaiting = true; ///< false: already running (level 3 or 4, or approved)
  std::string phase;    ///< where the flight is (flight::to_string of its phase)
  uint32_t applied = 0; ///< steps applied so far (of `mutations`)
  caf::timestamp window_from; ///< observing (level 3): when the step's window began...
  caf::timespan window{0};    ///< ...how long it lasts (0: not observing)...
  std::string window_service; ///< ...and the service whose signals it analyzes
  /// Awaiting: the approval window it waits in, from its decision (the proposal's own or
  /// the node's), so its age is `approval_window - (expires - now)`.
  caf::timespan approval_window{0};
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_approval& x) {
  return f(caf::meta::type_name("pending_approval"), x.proposal, x.principal, x.level,
           x.mutations, x.expires, x.awaiting, x.phase, x.applied, x.window_from, x.window,
           x.window_service, x.approval_window);
}

} // namespace bulwark

namespace bulwark {

/// What an effector reports for one call.
struct effector_result {
  bool ok = false;
  ec code = ec::none;    ///< for failures: timeout and unavailable are retryable
  std::string message;
  caf::optional<caf::timespan> retry_after; ///< from an open circuit or a full bulkhead
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, effector_result& x) {
  return f(caf::meta::type_name("effector_result"), x.ok, x.code, x.message, x.retry_after);
}

/// One resource registration request from a host.
struct registration {
  resource_id resource;
  std::string service;
  std::string region;
  attribute_map attributes;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, registration& x) {
  return f(caf::meta::type_name("registration"), x.resource, x.service, x.region,
           x.attributes);
}

} // namespace bulwark

namespace bulwark {

/// One effector call as the pipeline hands it to a service's breaker.
struct effector_request {
  std::string service;
  mutation change;
  bool compensation = false;
  caf::optional<std::string> restore;
  std::string idempotency_key;
  caf::timestamp deadline; ///< no attempt may end after it
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, effector_request& x) {
  return f(caf::meta::type_name("effector_request"), x.service, x.change, x.compensation,
           x.restore, x.idempotency_key, x.deadline);
}

/// A breaker's state and figures, as the API and the console show them.
struct breaker_status {
  std::string service;
  breaker_state state = breaker_state::closed;
  uint32_t window_calls = 0;
  uint32_t window_failures = 0;
  uint32_t consecutive_failures = 0;
  uint32_t in_flight = 0;
  uint32_t queued = 0;
  uint64_t refused = 0; ///< calls refused fast while open or full
  uint64_t retries = 0;
  uint32_t window_slow = 0; ///< calls in the window slower than `slow_call_duration`
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, breaker_status& x) {
  return f(caf::meta::type_name("breaker_status"), x.service, x.state, x.window_calls,
           x.window_failures, x.consecutive_failures, x.in_flight, x.queued, x.refused,
           x.retries, x.window_slow);
}

} // namespace bulwark
