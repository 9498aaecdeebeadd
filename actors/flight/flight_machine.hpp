#pragma once

/// The flight machine: one proposal's way from its governance verdict to its journaled
/// outcome, as a pure state machine.
///
/// It reads no clock, no random source and no unordered container, and does no I/O:
/// the time, the fleet's current values and every answer from the outside world are
/// inputs, and what is to be done (append these events, call this effector, arm this
/// timer, answer the submitter or the approver) comes back as commands for the actor
/// that runs it to carry out. Every authority level's rule is a part of it:
///
/// - level 0 reads: the decision is journaled, the answer is `read` with the resources
///   read (`read_of`: the declared services' resources in the view the gates evaluated);
/// - level 1 waits for an approval, then runs its one action;
/// - level 2 waits for an approval, journals every action's start before the first
///   effector call, and compensates the whole batch when one action fails;
/// - level 3 runs its steps one by one, each followed by an observation window whose
///   analysis passes only if the service's signals stayed under their thresholds (at
///   most `analysis_failure_limit` breaching samples; with `analysis_requires_data`, at
///   least one sample); it compensates the steps done when it is interrupted, a step
///   fails or a window's analysis fails (the evidence is journaled: `analysis_failed`);
/// - level 4 runs its steps at once and keeps what was applied when one fails.
///
/// A compensation that fails does not stop the others (each undoes an independent
/// resource): the flight goes on undoing the rest, then ends `compensation_failed`, its
/// finishing transaction holding, for each failed one, the `action_failed` of the undo,
/// a dead letter whose change is the value to restore and a `compensation_failed`
/// record, and after the first one's letter the flight's one P1 `incident_opened`
/// (persistence/compensation_policy.hpp), before the `proposal_finished`.
///
/// Halt means stop: while the journaled fleet is halted, no approval is taken (HALTED)
/// and no flight starts another effect; steps whose start is durable but that did not run
/// are journaled as not run, levels 2 and 3 compensate what they applied, level 4 keeps
/// it. Compensation itself goes on (it undoes, it does not change further).
///
/// The fleet-wide blast budget: an execution's start journals `budget_charged` for its
/// resources in the same transaction (the decision at levels 3 and 4, the approval at
/// levels 1 and 2); blast radius checked and reserved that room before this input.
///
/// Write-ahead: no effector is called for a step before that step's `action_started`
/// record is durable. Commits are shared where nothing can happen in between: the
/// decision's transaction carries step 0's start at levels 3 and 4; at level 4 a step's
/// effect record carries the next step's start, and the last effect rides the outcome,
/// so N changes cost N+1 commits; level 2 journals all starts in one transaction. An input the flight cannot take
/// in its state (an approval for a flight that does not wait for one, an answer with a
/// stale token) answers an error and changes nothing.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/timestamp.hpp"

#include "actors/authority/authority_policy.hpp"
#include "actors/authority/approval_policy.hpp"
#include "messages/commands.hpp"
#include "messages/events.hpp"
#include "messages/incidents.hpp"
#include "messages/state.hpp"

namespace bulwark::flight {

/// What the machine needs to know of the node's settings.
struct settings {
  std::chrono::nanoseconds approval_timeout = std::chrono::minutes{5};
  std::chrono::nanoseconds observation_window = std::chrono::seconds{5};
  std::chrono::nanoseconds effector_timeout = std::chrono::seconds{10}; ///< per call
  uint32_t analysis_failure_limit = 0; ///< level 3: breaching samples a window tolerates
  bool analysis_requires_data = false; ///< level 3: a window with no samples fails
  /// How long an execution's resources count against the fleet-wide blast budget.
  std::chrono::nanoseconds budget_window = std::chrono::hours{1};
  approval_policy approvals;           ///< who may approve or deny (separation of duties)
  authority_config authority;          ///< the configured grants (journaled changes win)
  std::string policy_version;          ///< the policy in force, named by every decision
};

/// Where a flight is.
enum class phase : uint8_t {
  deciding,          ///< its decision (allowed or refused) is being journaled
  awaiting_approval, ///< levels 1 and 2: the decision is durable, an approver may answer
  approving,         ///< the approval is being journaled
  starting,          ///< a step's start (or the batch's starts) is being journaled
  calling,           ///< an effector call is under way
  recording,         ///< an applied step's effect is being journaled
  observing,         ///< level 3: the observation window after a step, then its analysis
  compensating,      ///< undoing the applied steps, newest first
  finishing,         ///< the outcome is being journaled
  done,              ///< answered; nothing more happens
};

/// Returns the phase's name, e.g. "awaiting_approval".
const char* to_string(phase x);

/// One applied step, kept so it can be compensated.
struct applied_step {
  mutation change;
  std::optional<std::string> old_value;
  seq_no applied_seq; ///< 0 while its effect record is not durable yet
};

/// A flight's whole state. Tokens number the appends and calls it awaits; an answer
/// with another token is stale and changes nothing.
struct state {
  proposal p;
  digest id;
  trace_id trace;
  phase at = phase::deciding;
  bool allowed = false;            ///< the decision allows it
  caf::timestamp expires;          ///< when an awaited approval expires
  /// Levels 1 and 2: the execution time the proposal's deadline left at its decision.
  /// The wait for an approval does not spend it: the approval sets the deadline to the
  /// approval's time plus this budget.
  std::chrono::nanoseconds budget{0};
  seq_no decided;                  ///< the decision's seq (once durable)
  uint32_t next = 0;               ///< the next step to run
  std::vector<applied_step> done;  ///< steps applied, in order
  size_t undo = 0;                 ///< compensation: steps still to undo (from the back)
  std::vector<event> pending;      ///< events for the finishing transaction
  /// A denial's place in the finishing transaction (-1: none): its approver is answered
  /// with its seq once that transaction commits.
  int32_t denial_at = -1;
  uint64_t tokens = 0;             ///< the last token handed out
  uint64_t awaited = 0;            ///< the append or call awaited (0: none)
  bool interrupted = false;
  caf::timestamp window_from;      ///< observing: when the window began
  std::string window_service;      ///< observing: the service whose signals it analyzes
  uint32_t started = 0;            ///< steps [0, started) have their start durable
  proposal_status final_status = proposal_status::succeeded;
  ec final_code = ec::none;
  std::string final_message;
  caf::optional<caf::timespan> final_retry_after;
  uint32_t compensated = 0;
  /// Compensations that failed: each leaves its change applied, with a dead letter and a
  /// P1 incident in the finishing transaction; the flight ends `compensation_failed`.
  uint32_t compensations_failed = 0;
  /// The P1 incident the first failed compensation opened (zero: none failed).
  digest compensation_incident;
  ec refusal_code = ec::none;      ///< a refused decision's code
  std::string refusal_message;
  caf::optional<caf::timespan> refusal_retry_after;
  /// Level 0: what it read of the view its gates evaluated, answered once its decision
  /// is durable.
  caf::optional<fleet_read> read;
};

/// Returns a canonical text of every field of `s`: equal texts, equal states.
std::string fingerprint(const state& s);

/// What the machine asks its runner to do.
enum class command_kind : uint8_t {
  append,        ///< append `events` in one transaction; answer `committed` or `commit_failed`
  call,          ///< call the effector; answer `effected` with `token`
  arm_approval,  ///< feed `approval_expired` after `after`
  arm_step,      ///< feed `observed` after `after`
  reply,         ///< answer the submitter(s) with `result`
  refuse,        ///< answer the submitter(s) with the error `code`, `message`
  ack_approval,  ///< answer the approver with `seq` (0: the denial rides the outcome)
  nack_approval, ///< answer the approver with the error `code`, `message`
  report,        ///< a rollback: answer whoever waits on it with `status`
  finished,      ///< the flight is over: forget it
};

/// One command. Only the fields of its kind are set.
struct command {
  command_kind kind = command_kind::finished;
  uint64_t token = 0;
  std::vector<event> events;              ///< append
  effector_request call;                  ///< call (its deadline: now + `after`)
  uint32_t step = 0;                      ///< call: the step, counted from 0
  std::chrono::nanoseconds after{};       ///< call: its timeout; arm_*: the delay
  outcome result;                         ///< reply
  ec code = ec::none;                     ///< refuse, nack_approval
  std::string message;                    ///< refuse, nack_approval
  caf::optional<caf::timespan> retry_after; ///< refuse
  seq_no seq;                             ///< ack_approval
  rollback_status status;                 ///< report
};

/// What the machine reads of the world at an input: the time, and for a step's old
/// value and service the fleet as journaled.
struct context {
  caf::timestamp now;
  const fleet_state* fleet = nullptr;
  const settings* config = nullptr;
};

/// The inputs. Each returns an error (code and message) when the flight cannot take it
/// in its state; the state is then unchanged and no command is added.
struct refusal {
  ec code = ec::none;
  std::string message;
  explicit operator bool() const { return code != ec::none; }
};

/// Returns a new flight for `p` (digest `id`), deciding: governance has not answered.
state start(proposal p, const digest& id, trace_id trace);

/// Returns the gates of the flight's level evaluated at `cx` (`evaluate_gates`: the
/// settings, the approvers, the fleet as journaled, the time).
std::vector<gate_result> gates_for(const state& s, const context& cx);

/// Governance (grant, halt, blast radius) allowed the deciding flight `s`: evaluates its
/// level's gates; when all pass, journals the decision with every gate's verdict and
/// evidence (with `extra` events in the same transaction, and step 0's start at levels 3
/// and 4). When one fails, the decision is journaled refused `AUTHORITY_DENIED` naming
/// the gate, with the verdicts, and the submitter hears that refusal.
refusal allow(state& s, uint32_t allowed_count, std::vector<event> extra, const context& cx,
              std::vector<command>& out);

/// Validation or governance refused the deciding flight `s`: journals the refusal, then
/// answers the error whether or not the journal took it.
refusal refuse(state& s, ec code, std::string message, caf::optional<caf::timespan> retry_after,
               const context& cx, std::vector<command>& out);

/// The append with `token` is durable; `ack` names its seqs.
refusal committed(state& s, uint64_t token, const appended& ack, const context& cx,
                  std::vector<command>& out);

/// The append with `token` failed (the journal is unavailable): fail closed.
refusal commit_failed(state& s, uint64_t token, const std::string& why, const context& cx,
                      std::vector<command>& out);

/// The effector call with `token` answered (a timeout is an answer too).
refusal effected(state& s, uint64_t token, const effector_result& r, const context& cx,
                 std::vector<command>& out);

/// An approver approves or denies a flight awaiting approval.
refusal answer(state& s, const principal_id& approver, bool approve, const std::string& note,
               const context& cx, std::vector<command>& out);

/// An operator interrupts a running level-3 flight.
refusal interrupt(state& s, const principal_id& by, const context& cx,
                  std::vector<command>& out);

/// The approval window ran out.
refusal approval_expired(state& s, const context& cx, std::vector<command>& out);

/// A level-3 observation window ended; `signals` is what the service's signals showed
/// from `window_from` to now. A breach (more than the failure limit), unreadable signals,
/// or no samples when data is required journal `analysis_failed` and compensate.
refusal observed(state& s, const signal_summary& signals, const context& cx,
                 std::vector<command>& out);

/// The approval window of a level-1 or level-2 flight: the proposal's own when it is no
/// longer than the node's (validation refuses a longer one), else the node's.
std::chrono::nanoseconds window_of(const state& s, const settings& config);

/// True once the flight has answered and wants nothing more.
inline bool over(const state& s) {
  return s.at == phase::done;
}

} // namespace bulwark::flight
