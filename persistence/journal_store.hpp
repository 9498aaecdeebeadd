#pragma once

/// The LMDB journal store: append, read, verify, head and snapshots (no actors).
///
/// One writer (the journal actor) calls `append`; any thread may read concurrently
/// (LMDB readers with `MDB_NOTLS`). The on-disk layout is docs/journal-format.md.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include "messages/events.hpp"
#include "messages/ids.hpp"
#include "persistence/projection.hpp"

namespace bulwark {

/// The journal format version this build writes and reads (meta key "format").
inline constexpr uint32_t journal_format_version = 1;

/// The engine's `prepare_max` unless bulwark.toml says otherwise ([journal] prepare_mb).
inline constexpr uint64_t default_prepare_max = uint64_t{32} << 20;

/// How to open a journal.
struct store_options {
  std::string dir;
  bool read_only = false;
  bool create = false;                          ///< create a new journal if none exists
  uint64_t initial_map_size = uint64_t{64} << 20; ///< first LMDB map size
  uint64_t max_map_size = uint64_t{64} << 30;     ///< growth stops here: AUDIT_UNAVAILABLE
  unsigned max_readers = 126;
  /// Writable only: keep up to this many bytes of zeros written ahead of LMDB's last
  /// page (at most an eighth of the used size), so that commits overwrite the file
  /// instead of growing it (persistence/prepared_tail.hpp); 0: never. Only for a store
  /// that is the sole writer of its environment (the engine locks the directory).
  uint64_t prepare_max = 0;
};

/// A snapshot of the projection read back from the store.
struct snapshot {
  seq_no seq;
  digest chain;
  digest state_digest;
  fleet_state state;
};

/// Map use for the JOURNAL-SPACE indicator.
struct space_usage {
  uint64_t used_bytes = 0;
  uint64_t map_bytes = 0;
  uint64_t max_map_bytes = 0;
};

/// The prepared space past LMDB's last page (prepared_tail), for tests and the log.
struct prepare_stats {
  uint64_t used_end = 0;      ///< (last page + 1) x page size
  uint64_t prepared_end = 0;  ///< zeros are written and synced up to here
  uint64_t extensions = 0;
  uint64_t failures = 0;
};

/// Called during long scans with (records done, records total).
using progress_fn = std::function<void(uint64_t, uint64_t)>;

/// The LMDB journal of one node.
class journal_store {
public:
  /// Opens (or, with `create`, creates) the journal in `opts.dir`. Errors name the
  /// path and the problem: `INVALID_INPUT` for a missing or foreign directory or a
  /// newer format, `INTEGRITY_VIOLATION` for a truncated file or a broken tail,
  /// `UNAVAILABLE` for permissions and I/O.
  static caf::expected<std::unique_ptr<journal_store>> open(const store_options& opts);

  ~journal_store();
  journal_store(const journal_store&) = delete;
  journal_store& operator=(const journal_store&) = delete;

  /// Returns the newest committed seq (0 when empty).
  seq_no head() const;

  /// Returns the chain hash at `head()` (zeros when empty).
  digest head_chain() const;

  /// Each record's stored bytes (chain || record), in order, as `append` writes them.
  using encoded_fn = std::function<void(std::vector<std::vector<uint8_t>>&&)>;

  /// Appends `events` in one durable write transaction, all or nothing.
  /// Grows the map on `MDB_MAP_FULL` up to `max_map_size`; beyond it, or on any write
  /// error, nothing is written and the error is `AUDIT_UNAVAILABLE`.
  /// `encoded`, when given, receives the records once they are encoded, before the commit
  /// (its fsync) starts, whether or not the commit then succeeds (a leader ships them to
  /// its followers meanwhile); the chaos hook then fails the commit after it.
  caf::expected<std::vector<journal_entry>> append(std::vector<event> events,
                                                   const encoded_fn& encoded = {});

  /// Appends stored records (chain || event bytes) copied from another journal, in one
  /// transaction: each must continue the sequence and link to the chain, else nothing is
  /// written and the error is `INTEGRITY_VIOLATION` naming the record.
  caf::error import_records(const std::vector<std::vector<uint8_t>>& values);

  /// Calls `f` for each decoded entry in [from, to] in order until it returns false.
  caf::error read(seq_no from, seq_no to, const std::function<bool(journal_entry&&)>& f);

  /// Calls `f(seq, chain, event bytes, size)` for each stored record in [from, to] in order,
  /// without copying, until it returns false; the bytes are valid during the call only.
  /// Missing records are `INTEGRITY_VIOLATION`; record headers are not checked here.
  caf::error scan(seq_no from, seq_no to,
                  const std::function<bool(seq_no, const uint8_t*, const uint8_t*, size_t)>& f);

  /// Returns the stored chain hash of `seq` (zeros for seq 0).
  caf::expected<digest> chain_at(seq_no seq);

  /// Verifies [from, to] (clamped to the stored range) with `threads` parallel ranges;
  /// names the first record that does not link, decode or follow in sequence, and
  /// checks the stored head.
  verify_report verify(seq_no from, seq_no to, unsigned threads = 2,
                       const progress_fn& progress = {});

  /// Stores a snapshot of `p` at its seq with the chain hash of that seq.
  caf::error write_snapshot(const projection& p);

  /// Returns the stored value of a snapshot of `state` (at `state.seq`, whose chain hash
  /// is `chain`): pure, safe on any thread, so a large state can be encoded off the
  /// writer's thread (docs/journal-format.md, "Snapshots").
  static std::vector<uint8_t> encode_snapshot(const fleet_state& state, const digest& chain);

  /// Stores a snapshot value made by encode_snapshot under `seq`.
  caf::error put_snapshot(uint64_t seq, const std::vector<uint8_t>& value);

  /// Loads the newest snapshot at or below `at_most`; none if there is none.
  /// A snapshot whose digest or chain does not match is skipped (older ones are tried).
  caf::expected<caf::optional<snapshot>> load_snapshot(seq_no at_most);

  /// Returns the seqs of stored snapshots, ascending.
  caf::expected<std::vector<seq_no>> snapshots();

  /// Returns map use and limits.
  space_usage space() const;

  /// Returns the prepared space; with `settle`, after any extension in progress ends.
  prepare_stats prepared(bool settle = false) const;

  /// Drops the map's pages from this process's resident set (they stay in the page cache
  /// and fault back in when read): after a scan of the whole journal (a full
  /// verification, start-up) they would otherwise count as resident memory.
  void release_resident() const;

  /// Copies the environment (compacted, consistent) into the empty directory `dir`.
  caf::error copy_to(const std::string& dir);

  /// Chaos hook (off by default): while set, every append fails with AUDIT_UNAVAILABLE
  /// before it touches LMDB, as a full disk or an I/O error would.
  void inject_write_failures(bool on) noexcept;

  /// The directory this store was opened from.
  const std::string& dir() const noexcept;

  struct impl;

private:
  explicit journal_store(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace bulwark
