#pragma once

/// Where an answer goes: a request's sender, its id and its forwarding stages, taken from
/// the mailbox element, so the answer can be sent later and from any thread. CAF's
/// response promise serves an answer given by the actor that took the request, on its
/// own thread (it schedules through that actor's execution unit); the breaker's pool
/// threads and the cluster actor (which releases a journal's held acknowledgements)
/// answer for another actor, so they keep this instead.

#include <vector>

#include "caf/actor_control_block.hpp"
#include "caf/message.hpp"
#include "caf/message_id.hpp"

namespace bulwark {

struct reply_to {
  caf::strong_actor_ptr sender;
  caf::message_id id;
  std::vector<caf::strong_actor_ptr> stages;

  /// Sends `msg` as the response, from any thread (nothing for a message that was no
  /// request, or one already answered).
  void deliver(caf::message msg);
};

} // namespace bulwark
