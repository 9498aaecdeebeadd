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
caf::result<outcome> submit(self_ptr self, proposal& p);

/// An operator requeues dead letter `letter` (the seq of its `dead_lettered` record): the
/// resolution is journaled, then the action runs again as a new proposal of its original
/// principal and level (idempotency key "requeue/<letter>"); the reply is its outcome.
caf::result<outcome> requeue_letter(self_ptr self, const dead_letter_command& cmd);

/// An operator discards dead letter `letter`; the reply is the resolution's seq.
caf::result<seq_no> discard_letter(self_ptr self, const dead_letter_command& cmd);

/// Answers the waiters of a flight that never ran with `err` and forgets it.
void drop(self_ptr self, const digest& id, const caf::error& err);

} // namespace bulwark::pipeline_detail
