#pragma once

/// Internal to actors/pipeline/: the steps shared by admission (pipeline.cpp), the
/// flights' runner (flights.cpp), the operator calls and the dead letters.

#include <vector>

#include "actors/pipeline/pipeline.hpp"

namespace bulwark::pipeline_detail {

using self_ptr = pipeline_actor::stateful_pointer<pipeline_state>;

/// The pipeline's notion of now (epoch + actor clock).
caf::timestamp now(self_ptr self);

/// Appends `events` in one transaction; calls `then` with the ack or `fail` with the error.
template <class Then, class Fail>
void append(self_ptr self, std::vector<event> events, Then then, Fail fail) {
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(events))
    .then(std::move(then), std::move(fail));
}

/// Watches flight `f`'s awaited answer `token` (from `who`) for `after`; if it has not
/// come by then, `given_up` runs instead (actors/pipeline/watchdog.cpp).
void watch(self_ptr self, in_flight& f, uint64_t token, awaiting who, caf::timespan after);

/// Stops watching `f`'s answer `token`; false when it is not the one watched (given up
/// already): its late answer must change nothing.
bool unwatch(self_ptr self, in_flight& f, uint64_t token);

/// The watchdog's timer: gives up every watched answer that is due, then re-arms.
void sweep(self_ptr self);

/// What happens to a flight whose watched answer from `who` did not come in time: fail
/// closed (pipeline.cpp).
void given_up(self_ptr self, const digest& id, uint64_t token, awaiting who);

/// Gives back proposal `id`'s budget reservation, one whose check was answered (so it is
/// in blast radius's window already): settled in the window directly, or sent to blast
/// radius where the pipeline has no window.
void release_reservation(self_ptr self, const digest& id);

/// Reads the journal's committed projection (the node's one fleet state): the reader lock
/// is held while the result lives, for one step, never across a message.
inline committed_view::reader fleet_of(self_ptr self) {
  return self->state.view->read();
}

/// The active resources per service (`active_sizes`) of the fleet `fleet` reads, counted
/// again only when the fleet changed since.
const std::map<std::string, uint32_t>& sizes_of(self_ptr self, const committed_view::reader& fleet);

/// The flight machine's context now: the time, the journaled fleet as `fleet` reads it,
/// the settings.
flight::context context_of(self_ptr self, const committed_view::reader& fleet);

/// Carries out the commands flight `id`'s machine returned (flights.cpp): appends,
/// effector calls, timers, answers; their answers go back into the machine.
void carry_out(self_ptr self, const digest& id, std::vector<flight::command>& commands);

/// Runs `input(state, context, commands)` on flight `id`'s machine and carries out what it
/// returns; returns the machine's refusal (the flight unchanged) or an empty one.
template <class Input>
flight::refusal drive(self_ptr self, const digest& id, Input input) {
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end())
    return flight::refusal{ec::invalid_input, "no proposal in flight with digest " + to_hex(id)};
  std::vector<flight::command> out;
  flight::refusal r;
  {
    auto fleet = fleet_of(self); // released before the commands run
    auto cx = context_of(self, fleet);
    r = input(i->second.m, cx, out);
  }
  if (!r)
    carry_out(self, id, out);
  return r;
}

/// The governance step of flight `id` (governance_step.cpp): one request to the
/// authority, which evaluates the proposal and, when it allows it, checks (and for levels
/// 3 and 4 reserves) its scope in blast radius's window; the halt guard admits the verdict
/// and an allowed flight is launched. Fails closed when the authority does not answer
/// (within `governance_timeout`: watchdog.cpp).
void check_authority(self_ptr self, const digest& id);

/// Journals the allowed decision of flight `f` and runs it: only the halt guard hands
/// out the pass this needs.
void launch(self_ptr self, in_flight& f, const halt_guard::pass& pass);

/// Journals flight `id`'s refusal with `err`, then answers its waiters with `err`.
void refuse_flight(self_ptr self, const digest& id, caf::error err);

/// Handles an effector result (or a deadline, as a TIMEOUT result).
void on_effected(self_ptr self, const digest& id, uint64_t token, const effector_result& r);

/// A level-3 observation window of flight `id` ended: asks the detector what the
/// service's signals showed and feeds the answer (or its absence) into the machine.
void analyze_window(self_ptr self, const digest& id);

/// Admits a proposal: idempotency, validation, open circuits, authority, blast radius;
/// the reply comes when it has finished (or was refused).
caf::result<outcome> submit(self_ptr self, proposal p);

/// An operator requeues dead letter `letter` (the seq of its `dead_lettered` record): the
/// resolution is journaled, then the action runs again as a new proposal of its original
/// principal and level (idempotency key "requeue/<letter>"); the reply is its outcome.
caf::result<outcome> requeue_letter(self_ptr self, const dead_letter_command& cmd);

/// An operator discards dead letter `letter`; the reply is the resolution's seq.
caf::result<seq_no> discard_letter(self_ptr self, const dead_letter_command& cmd);

/// An approver answers a flight awaiting approval (operator_calls.cpp).
caf::result<seq_no> answer_approval(self_ptr self, const approval& a);

/// An operator interrupts a running level-3 flight (operator_calls.cpp).
caf::result<seq_no> answer_interrupt(self_ptr self, const interrupt& x);

/// An operator settles a proposal's actions in doubt and finishes it (operator_calls.cpp).
caf::result<seq_no> resolve_doubt(self_ptr self, const doubt_resolution& r);

/// An operator acknowledges the review of a level-4 proposal in the audit queue
/// (audit_calls.cpp).
caf::result<seq_no> acknowledge_audit(self_ptr self, const audit_acknowledged& ack);

/// Journals a resource's registration (operator_calls.cpp).
caf::result<seq_no> enroll(self_ptr self, const registration& r);

/// Keeps the reply of finished flight `f` (evicting the oldest beyond
/// `settings.kept_outcomes`).
void remember_outcome(self_ptr self, const in_flight& f, const outcome& o);

/// Answers the waiters of a flight that has no outcome with `err` and forgets it.
void drop(self_ptr self, const digest& id, const caf::error& err);

/// Rebuilds the flights the journal's state `at` (the projection at spawn) holds
/// unfinished from `store` and puts them back into the machine (rebuilt.cpp).
void rebuild_flights(self_ptr self, journal_store& store, const fleet_state& at);

/// A committed entry that names a rebuilt flight still waiting for its approval (a late
/// commit of the pipeline before the restart): an outcome or a start ends it here, the
/// journal has it (rebuilt.cpp).
void settle_rebuilt(self_ptr self, const journal_entry& e);

} // namespace bulwark::pipeline_detail
