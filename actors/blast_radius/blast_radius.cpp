#include "actors/blast_radius/blast_radius.hpp"

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

namespace bulwark {

blast_radius_actor::behavior_type
blast_radius(blast_radius_actor::stateful_pointer<blast_radius_state> self,
             std::shared_ptr<blast_window> window, caf::timestamp epoch) {
  self->state.window = std::move(window);
  self->state.epoch = epoch;
  self->state.start = self->clock().now();
  return {
    [self](atom::check, const scope_request& req) -> caf::result<scope_verdict> {
      auto now = self->state.epoch + (self->clock().now() - self->state.start);
      auto& w = *self->state.window;
      std::lock_guard<std::mutex> guard{w.mtx};
      return w.policy.check(req, now);
    },
    [self](atom::release, const digest& id) {
      auto& w = *self->state.window;
      std::lock_guard<std::mutex> guard{w.mtx};
      w.policy.settle(id);
    },
  };
}

} // namespace bulwark
