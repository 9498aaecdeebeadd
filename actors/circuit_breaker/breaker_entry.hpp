#pragma once

/// The handle the pipeline and rollback call a service's breaker by. An `execute` sent to
/// it runs through the service's gate on the sender's own thread (no hop to the breaker
/// actor); the effector's answer goes straight back to the sender. Every other message
/// (force, release, state, exit) goes on to the breaker actor, and the entry ends with it.

#include <memory>

#include "caf/fwd.hpp"

#include "actors/circuit_breaker/breaker_runtime.hpp"
#include "messages/interfaces.hpp"

namespace bulwark {

/// Makes the entry in front of `breaker`, which shares `runtime`.
breaker_actor make_breaker_entry(caf::actor_system& sys, std::shared_ptr<breaker_runtime> runtime,
                                 breaker_actor breaker);

} // namespace bulwark
