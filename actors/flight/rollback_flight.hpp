#pragma once

/// A rollback as a compensation flight: the flight machine's part that runs an ordered
/// rollback's plan, pure like the rest of the machine (no clock, no I/O; the time, the
/// journaled fleet and every answer are inputs) and speaking the same commands (append,
/// call, arm_approval, report, refuse, finished) with the same tokens: an answer with
/// another token is stale and changes nothing.
///
/// Its rules are the proposal flight's, applied to compensations:
///
/// - write-ahead: the plan (`rollback_requested`) is durable before any effector call;
/// - approval below level 4: the flight waits for an approver the approval policy accepts
///   (role and grant journaled as `approval_checked`, as for a proposal), for at most the
///   node's approval timeout; the order of a principal is its own request, so the
///   separation of duties does not apply (a rollback restores journaled values);
/// - halt: while the journaled fleet is halted only an admin's approval runs one;
/// - steps run one at a time, newest change first, each through its service's breaker as
///   a compensation call; a failed step does not stop the others (each undoes an
///   independent change), and a step another rollback reverted meanwhile is dropped when
///   execution starts, so no change is reverted twice;
/// - the outcome (every undo, each failed one's dead letter and P1 incident, the
///   `rollback_finished`) is journaled in one transaction (`rollback_outcome_of`), and
///   only then answered.

#include <string>
#include <vector>

#include "actors/flight/flight_machine.hpp"
#include "actors/flight/rollback_policy.hpp"

namespace bulwark::flight {

/// A rollback flight's whole state.
struct compensation {
  rollback_requested plan;
  std::vector<rollback_step> steps;
  phase at = phase::starting;   ///< starting, awaiting_approval, approving, calling,
                                ///< finishing, done
  size_t next = 0;              ///< the step running or to run
  std::vector<rollback_failure> failed; ///< steps before `next` whose undo failed
  caf::timestamp expires;       ///< when an awaited approval expires
  bool approved = false;        ///< approving: the answer being journaled approves
  ec end_code = ec::none;       ///< approving: why it ends when that answer is durable
  std::string end_message;
  rollback_status result;       ///< finishing: the answer once the outcome is durable
  uint64_t tokens = 0;          ///< the last token handed out
  uint64_t awaited = 0;         ///< the append or call awaited (0: none)
};

/// Returns a canonical text of every field of `c`: equal texts, equal states.
std::string fingerprint(const compensation& c);

/// Starts the rollback `plan` with `steps` (planned from the journal, newest first):
/// journals the plan. A plan whose level is 4 but `enforce_enabled` is off must already
/// have been lowered by the caller (level 4 disabled: a person decides).
compensation begin_rollback(rollback_requested plan, std::vector<rollback_step> steps,
                            const context& cx, std::vector<command>& out);

/// Rebuilds a rollback whose plan is durable and that waited for its approval when its
/// executor stopped (no answer to it is journaled): it waits again until
/// `requested_at` (its plan's time) plus the approval timeout, and expires at once when
/// that time passed. It answers nobody until it ends (whoever waited heard
/// `awaiting-approval` then).
compensation rebuild_rollback(rollback_requested plan, std::vector<rollback_step> steps,
                              caf::timestamp requested_at, const context& cx,
                              std::vector<command>& out);

/// The append with `token` is durable; `ack` names its seqs.
refusal committed(compensation& c, uint64_t token, const appended& ack, const context& cx,
                  std::vector<command>& out);

/// The append with `token` failed with the journal's `why` (its code is kept: UNAVAILABLE
/// on a follower or past the lease, else AUDIT_UNAVAILABLE): the rollback ends, its
/// waiters hear why; what is journaled of it stays (a restart closes it).
refusal commit_failed(compensation& c, uint64_t token, const error_info& why,
                      const context& cx, std::vector<command>& out);

/// The compensation call with `token` answered (a timeout is an answer too).
refusal effected(compensation& c, uint64_t token, const effector_result& r, const context& cx,
                 std::vector<command>& out);

/// An approver approves or denies a rollback awaiting approval.
refusal answer(compensation& c, const principal_id& approver, bool approve,
               const std::string& note, const context& cx, std::vector<command>& out);

/// The approval window ran out: journals the expiry, then the failed outcome.
refusal approval_expired(compensation& c, const context& cx, std::vector<command>& out);

/// True once the rollback has answered and wants nothing more.
inline bool over(const compensation& c) {
  return c.at == phase::done;
}

} // namespace bulwark::flight
