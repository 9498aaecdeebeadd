#pragma once

/// The projection of the audit queue of level-4 changes (`fleet_state::audit`), pure like
/// the rest of the projection: a function of the records alone (docs/journal-format.md,
/// type 48).

#include <cstdint>

#include "messages/events.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// A `proposal_decided` record at `seq`: an allowed level-4 proposal starts to be followed.
void track_decision(audit_queue& audit, uint64_t seq, const proposal_decided& x);

/// A `proposal_finished` record at `seq`: a followed proposal that applied at least one
/// change enters the queue; one that applied none leaves no trace.
void queue_finished(audit_queue& audit, uint64_t seq, const proposal_finished& x);

/// An `audit_acknowledged` record: its proposal leaves the queue.
void remove_reviewed(audit_queue& audit, const audit_acknowledged& x);

} // namespace bulwark
