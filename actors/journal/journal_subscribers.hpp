#pragma once

/// Internal to actors/journal/: the journal's subscribers. Each commit's entries go to
/// every subscriber as one shared message; a new subscriber is first caught up from the
/// store; and the list (with the rest of `journal_memory`) outlives a journal, so that a
/// restarted one serves the same subscribers.

#include <vector>

#include "caf/fwd.hpp"

#include "actors/journal/journal.hpp"
#include "actors/journal/journal_snapshots.hpp"

namespace bulwark::journal_detail {

/// Sends committed entries to every subscriber: one message, shared, not copied.
void publish(journal_ptr self, std::vector<journal_entry>&& entries);

/// Adds `sub`: it first gets the entries after `from` from the store (in pages of 1024),
/// then every commit's. The journal monitors it, and `journal_memory` keeps it for the next
/// journal.
void subscribe(journal_ptr self, subscriber_actor sub, seq_no from);

/// Drops the subscriber `who` (it ended), here and in `journal_memory`.
void unsubscribe(journal_ptr self, const caf::actor_addr& who);

/// At a restart, takes over what the previous journal left in `journal_memory`: whether
/// it writes, the acknowledgements it holds for the followers, the lease's fence, the
/// replicator and the subscribers (each monitored again).
void take_over_memory(journal_ptr self);

} // namespace bulwark::journal_detail
