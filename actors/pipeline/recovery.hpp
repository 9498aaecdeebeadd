#pragma once

/// What a starting pipeline reads of its flights from the journal (after a restart of the
/// pipeline or of the process): every allowed proposal without an outcome and with no
/// start pending whose level can wait (1, 2) or observe (3), with its decision and the
/// records that name it since (actors/flight/flight_recovery.hpp decides how each starts
/// again).

#include <optional>
#include <string>
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

/// One action in doubt: its start is journaled, its outcome is not (the node stopped
/// between the two, so whether the effector applied it is unknown).
struct doubtful_action {
  digest proposal;
  principal_id principal;
  authority_level level = authority_level::read_only;
  seq_no decided;                            ///< the proposal's decision
  uint32_t step = 0;
  mutation change;                           ///< what the step was to set
  seq_no started;                            ///< its `action_started` record
  caf::timestamp started_at;
  std::optional<std::string> journaled_value; ///< the key's value as the journal knows it
  uint32_t applied = 0; ///< steps of its proposal with an `action_applied` record
  uint32_t steps = 0;   ///< the proposal's mutations
};

/// Reads every action in doubt of the running proposals of `state` from `store`, by
/// proposal (in the order of decisions), then by step.
caf::expected<std::vector<doubtful_action>> doubtful_actions(journal_store& store,
                                                             const fleet_state& state);

/// True for the record types that name a proposal and tell where its flight is
/// (`proposal_finished`, `approval_granted`, `approval_window`, `action_started`,
/// `action_applied`, `action_failed`).
bool names_a_flight(event_type type);

/// The proposal a record of one of those types names.
caf::expected<digest> proposal_named(const event& ev);

} // namespace bulwark
