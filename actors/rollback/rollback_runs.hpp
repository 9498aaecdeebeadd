#pragma once

/// Internal to actors/rollback/: the executor's runs of rollback flights
/// (rollback_runs.cpp). The machine (actors/flight/rollback_flight.hpp) decides; here its
/// commands are carried out (journal appends, compensation calls through the breakers,
/// the approval timer, the answers) and the answers fed back into it.

#include <vector>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/flight/rollback_flight.hpp"
#include "actors/rollback/rollback.hpp"

namespace bulwark::rollback_detail {

using rollback_ptr = rollback_actor::stateful_pointer<rollback_state>;

/// Takes the newest settings after a policy reload, and what the machine reads of them
/// (`first`: at the executor's start, which derives them whatever it finds).
void update(rollback_ptr self, bool first = false);

/// What the machine reads at an input: the executor's time, the view, its settings.
flight::context context_of(rollback_ptr self, const committed_view::reader& fleet);

/// Carries out `commands` of rollback `id`'s flight, in order.
void carry_out(rollback_ptr self, const digest& id, std::vector<flight::command>& commands);

/// Feeds one input into rollback `id`'s flight and carries out what it asks for. The view
/// is read for the input alone, released before any command runs. An input the flight
/// cannot take changes nothing and comes back.
template <class Input>
flight::refusal drive(rollback_ptr self, const digest& id, Input input) {
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end())
    return flight::refusal{ec::invalid_input, "no rollback " + to_hex(id) + " is in progress"};
  std::vector<flight::command> out;
  flight::refusal r;
  {
    auto fleet = fleet_of(self);
    auto cx = context_of(self, fleet);
    r = input(i->second.c, cx, out);
  }
  if (!r)
    carry_out(self, id, out);
  return r;
}

/// Starts the flight of a planned rollback (a second order of the same rollback waits on
/// the running one) and answers `rp` with its status.
void launch(rollback_ptr self, rollback_requested plan, std::vector<rollback_step> steps,
            caf::typed_response_promise<rollback_status> rp);

/// Rebuilds the flight of a rollback a restart interrupted while it waited for its
/// approval (rollback_recovery.cpp): it waits again for what is left of its window,
/// counted from `requested_at`, the time of its `rollback_requested`.
void rebuild(rollback_ptr self, rollback_requested plan, std::vector<rollback_step> steps,
             caf::timestamp requested_at);

/// Plans the compensating steps of `seqs` from the journal (rollback_policy): the
/// executor's conflict index brought up to the head first (rollback.cpp).
caf::expected<std::vector<rollback_step>> plan_steps(rollback_ptr self,
                                                     const std::vector<seq_no>& seqs);

/// Feeds the answer of the compensation call `token` into rollback `id`'s flight.
void on_effected(rollback_ptr self, const digest& id, uint64_t token, const effector_result& r);

} // namespace bulwark::rollback_detail
