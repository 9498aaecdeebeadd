#pragma once

/// Rebuilds the projection from the journal, optionally starting at a snapshot.

#include "caf/expected.hpp"
#include "caf/optional.hpp"

#include "persistence/journal_store.hpp"
#include "persistence/projection.hpp"

namespace bulwark {

/// How to replay.
struct replay_options {
  seq_no to{UINT64_MAX};     ///< replay up to this seq (clamped to the head)
  bool use_snapshot = true;  ///< start at the newest usable snapshot at or below `to`
  bool verify_prefix = false; ///< also verify the chain before the snapshot
};

/// The rebuilt state.
struct replay_result {
  projection proj;
  seq_no seq;
  digest chain;
  digest state_digest;
  caf::optional<seq_no> snapshot; ///< the snapshot it started from, if any
};

/// Replays the journal; the chain of every replayed record is verified on a second
/// thread while the first applies, and a broken chain fails the whole replay with
/// `INTEGRITY_VIOLATION` naming the first bad seq.
caf::expected<replay_result> replay(journal_store& store, const replay_options& opts = {});

} // namespace bulwark
