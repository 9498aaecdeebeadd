#pragma once

/// Counts the messages put into CAF actors' mailboxes in this process, for a bench's
/// "mailbox deliveries per proposal" (bench/delivery_count.cpp says how).

#include <cstdint>

namespace caf {
class actor_system;
}

namespace bulwark::bench {

/// Messages enqueued so far into the mailbox of any scheduled (event-based) or blocking
/// actor. Synchronous fronts that are not mailboxes (the engine's submission sink, a
/// breaker's entry) are not counted.
uint64_t deliveries();

/// Whether the count works in this process: sends 100 messages to an actor of `sys` and
/// checks that at least 100 deliveries were counted.
bool deliveries_counted(caf::actor_system& sys);

} // namespace bulwark::bench
