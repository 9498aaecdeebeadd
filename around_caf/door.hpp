#pragma once

/// A door: the stable address of a supervised actor that is restarted with a new handle.
///
/// Every caller holds the door's handle, never the actor's. The door forwards each message
/// to the actor behind it, keeping the sender, the request id and the stages, so the actor
/// answers the caller directly (one extra mailbox delivery, no response promise). While
/// the actor is down (between its death and its restart), a request is answered at once
/// with the door's error (`AUDIT_UNAVAILABLE` for the journal, `UNAVAILABLE` otherwise),
/// never left waiting; a one-way message is held (at most `max_held`, oldest first) and
/// delivered, in order, to the next actor. The supervisor's start function tells the door
/// who is behind it with `(atom::restart, caf::actor)`; the door monitors that actor.

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/message.hpp"

namespace bulwark {

/// A one-way message held while the actor behind the door is down.
struct held_message {
  caf::strong_actor_ptr sender;
  caf::message content;
};

/// One actor behind a door.
struct door_slot {
  caf::actor target; ///< the actor (none: down)
  /// Set by the target as it terminates, before any down message is sent: a message
  /// that arrives between its death and the door's down message is not lost on it.
  std::shared_ptr<std::atomic<bool>> gone;
  std::vector<held_message> held;
};

/// Which of a door's actors takes a message (`door_slot` index); called on the door's
/// thread with each message that no handler of the door's own took.
using door_route = std::function<size_t(const caf::message&)>;

/// State of a door.
struct door_state {
  std::string name;            ///< the actor's name, for the error text
  caf::error when_down;        ///< the answer to a request while nobody is behind it
  std::vector<door_slot> slots; ///< one, or one per actor a router door fronts
  door_route route;            ///< none: slot 0
  size_t max_held = 4096;      ///< per slot
  uint64_t forwarded = 0; ///< messages handed to an actor behind the door
  uint64_t refused = 0; ///< requests answered with `when_down`
  uint64_t dropped = 0; ///< one-way messages dropped because `held` was full
  static inline const char* name_of = "door";
};

using door_ptr = caf::stateful_actor<door_state>*;

/// Runs a door in front of `target` (may be none); `when_down` answers requests while the
/// actor is down.
caf::behavior door(door_ptr self, std::string name, caf::error when_down, caf::actor target);

/// Runs one door in front of several actors (`targets`, each may be none), each restarted
/// on its own with `(atom::restart, uint32_t slot, caf::actor)`: `route` names the actor
/// each message goes to, as `door` forwards it (same sender, request id and stages, one
/// extra mailbox delivery); while that actor is down a request is answered `when_down`
/// and a one-way message is held for it. `own` (none: nothing) adds the door's own
/// handlers, tried first: for a request that asks every actor and merges the answers.
caf::behavior router_door(door_ptr self, std::string name, caf::error when_down,
                          std::vector<caf::actor> targets, door_route route,
                          std::function<caf::message_handler(door_ptr)> own = {});

} // namespace bulwark
