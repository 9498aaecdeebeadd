#pragma once

/// Internal to actors/pipeline/: the steps shared by admission (pipeline.cpp) and
/// execution (execution.cpp).

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
void watch(self_ptr self, flight& f, uint64_t token, awaiting who, caf::timespan after);

/// Stops watching `f`'s answer `token`; false when it is not the one watched (given up
/// already): its late answer must change nothing.
bool unwatch(self_ptr self, flight& f, uint64_t token);

/// The watchdog's timer: gives up every watched answer that is due, then re-arms.
void sweep(self_ptr self);

/// What happens to a flight whose watched answer from `who` did not come in time: fail
/// closed (pipeline.cpp).
void given_up(self_ptr self, const digest& id, uint64_t token, awaiting who);

/// Starts execution of an admitted flight according to its level; only the halt guard
/// hands out the pass it needs.
void launch(self_ptr self, flight& f, const halt_guard::pass& pass);

/// Runs the next step of a flight, or finishes it.
void run_next(self_ptr self, const digest& id);

/// Handles an effector result (or a deadline, as a TIMEOUT result).
void on_effected(self_ptr self, const digest& id, uint64_t token, const effector_result& r);

/// Journals the flight's pending events with its finish and answers every waiter.
void finish(self_ptr self, const digest& id);

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

/// Journals a resource's registration (operator_calls.cpp).
caf::result<seq_no> enroll(self_ptr self, const registration& r);

/// Keeps the reply of finished flight `f` (evicting the oldest beyond
/// `settings.kept_outcomes`).
void remember_outcome(self_ptr self, const flight& f, const outcome& o);

/// Answers the waiters of a flight that never ran with `err` and forgets it.
void drop(self_ptr self, const digest& id, const caf::error& err);

} // namespace bulwark::pipeline_detail
