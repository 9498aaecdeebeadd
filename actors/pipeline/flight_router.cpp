#include "actors/pipeline/flight_router.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/message.hpp"
#include "caf/message_handler.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/commands.hpp"
#include "messages/events.hpp"
#include "messages/type_ids.hpp"

namespace bulwark {

namespace {

size_t slot(flight_family f) {
  return static_cast<size_t>(f);
}

/// The family that runs `id`'s flight, else `otherwise`.
size_t runner_or(const flight_registry& flights, const digest& id, flight_family otherwise) {
  return slot(flights.runner(id).value_or(otherwise));
}

} // namespace

size_t route_flight(const caf::message& msg, const flight_registry& flights,
                    const committed_view& fleet) {
  if (msg.match_elements<atom::submit, proposal>())
    return slot(family_of(msg.get_as<proposal>(1).level));
  if (msg.match_elements<atom::approve, approval>())
    return runner_or(flights, msg.get_as<approval>(1).proposal, flight_family::approved);
  if (msg.match_elements<atom::interrupt, interrupt>())
    return runner_or(flights, msg.get_as<interrupt>(1).proposal, flight_family::observed);
  if (msg.match_elements<atom::resolve, doubt_resolution>())
    return runner_or(flights, msg.get_as<doubt_resolution>(1).proposal,
                     flight_family::autonomous);
  if (msg.match_elements<atom::audit_ack, audit_acknowledged>())
    return runner_or(flights, msg.get_as<audit_acknowledged>(1).proposal,
                     flight_family::autonomous);
  if (msg.match_elements<atom::requeue, dead_letter_command>()
      || msg.match_elements<atom::discard, dead_letter_command>()) {
    auto letter = msg.get_as<dead_letter_command>(1).letter;
    auto view = fleet.read();
    auto& letters = view.state().dead_letters;
    if (auto i = letters.find(letter); i != letters.end())
      return slot(family_of(i->second.level));
  }
  return slot(flight_family::read);
}

caf::message_handler gather_pending(door_ptr self) {
  return {
    [self](atom::pending) -> caf::result<std::vector<pending_approval>> {
      struct gathered {
        std::vector<pending_approval> out;
        size_t left = 0;
      };
      auto g = std::make_shared<gathered>();
      for (auto& s : self->state.slots)
        g->left += s.target ? 1 : 0;
      if (g->left == 0)
        return self->state.when_down;
      auto rp = self->make_response_promise<std::vector<pending_approval>>();
      auto done = [g, rp]() mutable {
        if (--g->left != 0)
          return;
        std::sort(g->out.begin(), g->out.end(),
                  [](const pending_approval& x, const pending_approval& y) {
                    return x.proposal < y.proposal;
                  });
        rp.deliver(std::move(g->out));
      };
      for (auto& s : self->state.slots) {
        if (!s.target)
          continue;
        self->request(s.target, caf::infinite, atom::pending_v)
          .then(
            [g, done](std::vector<pending_approval>& xs) mutable {
              std::move(xs.begin(), xs.end(), std::back_inserter(g->out));
              done();
            },
            // A family that died meanwhile has no flight to list until its restart
            // rebuilds them.
            [done](caf::error&) mutable { done(); });
      }
      return rp;
    },
  };
}

} // namespace bulwark
