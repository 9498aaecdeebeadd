#pragma once

/// The newest records of a leader's journal, kept in memory for its cluster actor, which
/// answers the followers' pulls from here instead of reading the store.
///
/// A transaction's records enter as soon as they are encoded, before its commit: the
/// followers write them while the leader's own fsync runs, so a synchronous
/// acknowledgement waits for the slower of the two writes, not for both in a row. A
/// follower may therefore hold records its leader never committed (the leader crashed or
/// its commit failed); none of them was acknowledged. When a commit fails after its
/// records entered, they are withdrawn, and the leader stops writing: its next records
/// would take the same seqs. Bounded; thread-safe.

#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "caf/optional.hpp"

#include "messages/ids.hpp"

namespace bulwark {

class replica_tail {
public:
  /// Keeps at most about `max_bytes` of records (the newest transaction always).
  explicit replica_tail(uint64_t max_bytes = uint64_t{8} << 20);

  /// Adds a transaction's records, the first at `first`. One that does not follow the
  /// newest held restarts the tail; one that would replace held records (a journal
  /// restarted after they entered but before they were committed) withdraws them first.
  void add(seq_no first, std::vector<std::vector<uint8_t>> records);

  /// Drops the records from `from` on (their transaction failed) and marks the tail
  /// withdrawn.
  void withdraw(seq_no from);

  /// Whether records were withdrawn since the last call (then clears the mark).
  bool take_withdrawn();

  /// Forgets every record (the node starts or stops leading).
  void clear();

  /// The newest record held (0: none).
  seq_no head() const;

  /// Copies the records from `from` on, up to `max` of them and about `max_bytes`, into
  /// `out`; false (nothing copied) when `from` is not held.
  bool read(seq_no from, uint32_t max, uint64_t max_bytes,
            std::vector<std::vector<uint8_t>>& out) const;

  /// The chain hash stored in record `seq`, when held.
  caf::optional<digest> chain_at(seq_no seq) const;

private:
  void trim();

  uint64_t max_bytes_;
  mutable std::mutex mtx_;
  uint64_t first_ = 0; ///< seq of records_.front()
  uint64_t bytes_ = 0;
  uint64_t newest_size_ = 0; ///< records of the newest transaction (never trimmed)
  std::deque<std::vector<uint8_t>> records_;
  bool withdrawn_ = false;
};

} // namespace bulwark
