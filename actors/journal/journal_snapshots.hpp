#pragma once

/// Internal to actors/journal/: the journal's snapshots, encoded off its thread by a
/// blocking actor the journal spawns and monitors.

#include <vector>

#include "caf/fwd.hpp"

#include "actors/journal/journal.hpp"

namespace bulwark::journal_detail {

using journal_ptr = journal_actor::stateful_pointer<journal_state>;

/// Stores a snapshot whose encoding has finished; a failure is logged, not fatal.
void store_encoded_snapshot(journal_ptr self);

/// Records that `entries` were applied (the spacing of snapshots counts their payloads).
void count_applied(journal_ptr self, const std::vector<journal_entry>& entries);

/// Writes a snapshot when it is due (see journal_settings); a failure is logged, not
/// fatal. In the background a copy of the state (it shares the decided index's run) is
/// encoded and hashed by a blocking actor, which then nudges the journal to store it; one
/// at a time. The journal spawns and monitors that actor (its supervisor): one that dies
/// before it is done is forgotten (`on_encoder_down`), and the next snapshot due is
/// encoded anew; restarting it would encode a state already behind.
void maybe_snapshot(journal_ptr self);

/// The snapshot encoder ended: one that died before it was done is forgotten, so that
/// the next snapshot due is taken (a done one is stored by the journal's next turn).
/// Returns false when `msg` is not about the encoder.
bool on_encoder_down(journal_ptr self, const caf::down_msg& msg);

} // namespace bulwark::journal_detail
