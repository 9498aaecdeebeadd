#pragma once

/// The fleet projection: the state that committed journal events build, and its digest.
///
/// `projection::apply` is a pure function of the previous state and one event: no clock,
/// no randomness, only ordered containers, so replaying the same events always gives
/// the same bytes and the same `digest()`.

#include <cstdint>
#include <vector>

#include "caf/error.hpp"

#include "messages/events.hpp"
#include "messages/ids.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// Returns the key of a proposal in `fleet_state::decided`: SHA-256 of `principal` "/"
/// `key` (the UTF-8 bytes, no terminator).
digest idempotency_digest(const principal_id& principal, const std::string& key);

/// Builds and holds the fleet state from committed events.
class projection {
public:
  projection() = default;
  explicit projection(fleet_state state) : state_(std::move(state)) {
    // nop
  }

  /// A projection for a follower that needs neither idempotency nor the proposals (the
  /// rollback executor): built from `state` without `decided`, `proposals` and `audit`
  /// (which decisions fill), it never keeps them either. Its `state_digest` is not the
  /// journal's.
  static projection without_history(const fleet_state& state);

  /// Applies the committed event `ev` stored at `seq`.
  /// @pre `seq` is the successor of the last applied seq.
  /// @returns `INTEGRITY_VIOLATION` if the payload does not decode or seq skips.
  caf::error apply(seq_no seq, const event& ev);

  /// Applies a stored record's payload without copying it (replay's fast path).
  caf::error apply(seq_no seq, event_type type, const uint8_t* payload, size_t size);

  /// Returns SHA-256 over the canonical encoding of the state.
  digest state_digest() const;

  /// Returns the canonical encoding of the state (what snapshots store).
  std::vector<uint8_t> encode_state() const;

  const fleet_state& state() const noexcept {
    return state_;
  }

  /// Lists proposals with actions started but no outcome journaled (in doubt).
  std::vector<digest> in_doubt() const;

private:
  fleet_state state_;
  bool history_ = true; ///< keeps `proposals` and `idempotency`
};

} // namespace bulwark

namespace bulwark {

/// Checks that `ev`'s payload decodes as its type's payload (refused before append, so
/// no record ever reaches the journal that the projection could not apply).
caf::error check_payload(const event& ev);

} // namespace bulwark
