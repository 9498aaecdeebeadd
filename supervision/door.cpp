#include "supervision/door.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/message_view.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/type_ids.hpp"

namespace bulwark {

namespace {

using door_ptr = caf::stateful_actor<door_state>*;

void forward(door_ptr self, caf::strong_actor_ptr sender, caf::message_id mid,
             caf::mailbox_element::forwarding_stack stages, caf::message msg) {
  auto& to = self->state.target;
  to->enqueue(caf::make_mailbox_element(std::move(sender), mid, std::move(stages),
                                        std::move(msg)),
              self->context());
}

/// Takes the actor behind the door and hands it what was held for it, in order.
void open(door_ptr self, caf::actor target) {
  auto& st = self->state;
  if (st.target)
    self->demonitor(st.target);
  st.target = std::move(target);
  if (!st.target)
    return;
  self->monitor(st.target);
  st.gone = std::make_shared<std::atomic<bool>>(false);
  st.target->attach_functor([gone = st.gone] { gone->store(true); });
  auto held = std::move(st.held);
  st.held.clear();
  for (auto& h : held)
    forward(self, std::move(h.sender), caf::make_message_id(), {}, std::move(h.content));
}

} // namespace

caf::behavior door(caf::stateful_actor<door_state>* self, std::string name,
                   caf::error when_down, caf::actor target) {
  auto& st = self->state;
  st.name = std::move(name);
  st.when_down = std::move(when_down);
  open(self, std::move(target));
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    if (st.target && st.target.address() == msg.source)
      st.target = nullptr; // until the supervisor's restart opens the door again
  });
  self->set_default_handler(
    [self](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      auto& st = self->state;
      auto* el = self->current_mailbox_element();
      if (st.target && st.gone->load()) {
        self->demonitor(st.target);
        st.target = nullptr; // dead, its down message still on the way
      }
      if (st.target) {
        auto mid = el->mid;
        el->mid.mark_as_answered(); // the actor behind answers the caller itself
        forward(self, el->sender, mid, std::move(el->stages), x.move_content_to_message());
        return caf::delegated<caf::message>{};
      }
      if (el->mid.is_request()) {
        ++st.refused;
        return st.when_down;
      }
      if (st.held.size() >= st.max_held) {
        ++st.dropped;
        spdlog::warn("door {}: {} is down and {} messages wait for it: dropping the oldest",
                     st.name, st.name, st.held.size());
        st.held.erase(st.held.begin());
      }
      st.held.push_back(held_message{el->sender, x.move_content_to_message()});
      return caf::delegated<caf::message>{};
    });
  return {
    [self](atom::restart, caf::actor& target) { open(self, std::move(target)); },
  };
}

} // namespace bulwark
