#pragma once

/// What a starting pipeline reads of its flights from the journal (after a restart of the
/// pipeline or of the process): every allowed proposal without an outcome and with no
/// start pending whose level can wait (1, 2) or observe (3), with its decision and the
/// records that name it since (actors/flight/flight_recovery.hpp decides how each starts
/// again).

#include <vector>

#include "caf/expected.hpp"

#include "actors/flight/flight_recovery.hpp"

namespace bulwark {

class journal_store;

/// Reads the journaled flights of the running proposals of `state` (the projection at
/// `state.seq`) from `store`: one read per decision, then one zero-copy scan from the
/// oldest of them to `state.seq` that decodes only the records of the proposals' own
/// types. Returns them in the order of their decisions.
caf::expected<std::vector<flight::journaled_flight>> journaled_flights(journal_store& store,
                                                                       const fleet_state& state);

/// True for the record types that name a proposal and tell where its flight is
/// (`proposal_finished`, `approval_granted`, `action_started`, `action_applied`,
/// `action_failed`).
bool names_a_flight(event_type type);

/// The proposal a record of one of those types names.
caf::expected<digest> proposal_named(const event& ev);

} // namespace bulwark
