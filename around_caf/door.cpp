#include "around_caf/door.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/message_handler.hpp"
#include "caf/message_view.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/type_ids.hpp"

namespace bulwark {

namespace {

void forward(const caf::actor& to, door_ptr self, caf::strong_actor_ptr sender,
             caf::message_id mid, caf::mailbox_element::forwarding_stack stages,
             caf::message msg) {
  to->enqueue(caf::make_mailbox_element(std::move(sender), mid, std::move(stages),
                                        std::move(msg)),
              self->context());
}

/// Takes the actor behind slot `i` and hands it what was held for it, in order.
void open(door_ptr self, size_t i, caf::actor target) {
  auto& slot = self->state.slots.at(i);
  if (slot.target)
    self->demonitor(slot.target);
  slot.target = std::move(target);
  if (!slot.target)
    return;
  self->monitor(slot.target);
  slot.gone = std::make_shared<std::atomic<bool>>(false);
  slot.target->attach_functor([gone = slot.gone] { gone->store(true); });
  auto held = std::move(slot.held);
  slot.held.clear();
  for (auto& h : held)
    forward(slot.target, self, std::move(h.sender), caf::make_message_id(), {},
            std::move(h.content));
}

/// Forwards message `msg` (the current one) to slot `i`'s actor, answers it `when_down`,
/// or holds it for the next actor.
caf::result<caf::message> pass_on(door_ptr self, size_t i, caf::message msg) {
  auto& st = self->state;
  auto* el = self->current_mailbox_element();
  auto& slot = st.slots[i];
  if (slot.target && slot.gone->load()) {
    self->demonitor(slot.target);
    slot.target = nullptr; // dead, its down message still on the way
  }
  if (slot.target) {
    auto mid = el->mid;
    el->mid.mark_as_answered(); // the actor behind answers the caller itself
    ++st.forwarded;
    forward(slot.target, self, el->sender, mid, std::move(el->stages), std::move(msg));
    return caf::delegated<caf::message>{};
  }
  if (el->mid.is_request()) {
    ++st.refused;
    return st.when_down;
  }
  if (slot.held.size() >= st.max_held) {
    ++st.dropped;
    spdlog::warn("door {}: {} is down and {} messages wait for it: dropping the oldest",
                 st.name, st.name, slot.held.size());
    slot.held.erase(slot.held.begin());
  }
  slot.held.push_back(held_message{el->sender, std::move(msg)});
  return caf::delegated<caf::message>{};
}

void start(door_ptr self, std::string name, caf::error when_down,
           std::vector<caf::actor> targets, door_route route) {
  auto& st = self->state;
  st.name = std::move(name);
  st.when_down = std::move(when_down);
  st.route = std::move(route);
  st.slots.resize(std::max<size_t>(targets.size(), 1));
  for (size_t i = 0; i < targets.size(); ++i)
    open(self, i, std::move(targets[i]));
  self->set_down_handler([self](const caf::down_msg& msg) {
    for (auto& slot : self->state.slots)
      if (slot.target && slot.target.address() == msg.source)
        slot.target = nullptr; // until the supervisor's restart opens the door again
  });
  self->set_default_handler(
    [self](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      auto& st = self->state;
      auto msg = x.move_content_to_message();
      size_t i = st.route ? std::min(st.route(msg), st.slots.size() - 1) : 0;
      return pass_on(self, i, std::move(msg));
    });
}

} // namespace

caf::behavior door(door_ptr self, std::string name, caf::error when_down, caf::actor target) {
  start(self, std::move(name), std::move(when_down), {std::move(target)}, {});
  return {
    [self](atom::restart, caf::actor& target) { open(self, 0, std::move(target)); },
  };
}

caf::behavior router_door(door_ptr self, std::string name, caf::error when_down,
                          std::vector<caf::actor> targets, door_route route,
                          std::function<caf::message_handler(door_ptr)> own) {
  start(self, std::move(name), std::move(when_down), std::move(targets), std::move(route));
  caf::message_handler restart{
    [self](atom::restart, uint32_t slot, caf::actor& target) {
      if (slot < self->state.slots.size())
        open(self, slot, std::move(target));
    },
  };
  if (!own)
    return restart;
  return own(self).or_else(restart);
}

} // namespace bulwark
