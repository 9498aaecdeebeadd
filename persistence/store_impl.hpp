#pragma once

/// Internal to persistence/: the LMDB handles behind `journal_store` and RAII helpers.
/// Only persistence/ includes <lmdb.h> (VAL-3).

#include <cstdint>
#include <atomic>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include <lmdb.h>

#include "caf/error.hpp"

#include "messages/error.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/prepared_tail.hpp"

namespace bulwark {

/// An LMDB value viewing `size` bytes at `data` (LMDB takes a non-const pointer).
inline MDB_val as_val(const void* data, size_t size) {
  return MDB_val{size, const_cast<void*>(data)};
}

/// An LMDB value viewing a NUL-terminated name (without the NUL).
inline MDB_val as_val(const char* text) {
  return as_val(text, std::char_traits<char>::length(text));
}

/// Encodes a seq as the 8-byte big-endian LMDB key.
inline void store_key(uint64_t seq, uint8_t (&out)[8]) {
  for (int i = 7; i >= 0; --i, seq >>= 8)
    out[i] = static_cast<uint8_t>(seq);
}

/// Decodes an 8-byte big-endian key; false if the size is wrong.
inline bool load_key(const MDB_val& k, uint64_t& seq) {
  if (k.mv_size != 8)
    return false;
  auto* p = static_cast<const uint8_t*>(k.mv_data);
  seq = 0;
  for (int i = 0; i < 8; ++i)
    seq = (seq << 8) | p[i];
  return true;
}

/// Builds an error naming the journal directory, the LMDB call and its message.
caf::error lmdb_error(ec code, const std::string& dir, const char* what, int rc);

/// An LMDB transaction that aborts unless committed.
class lmdb_txn {
public:
  lmdb_txn() = default;
  ~lmdb_txn() {
    abort();
  }
  lmdb_txn(const lmdb_txn&) = delete;
  lmdb_txn& operator=(const lmdb_txn&) = delete;

  int begin(MDB_env* env, unsigned flags) {
    return mdb_txn_begin(env, nullptr, flags, &txn_);
  }
  /// Commits; the handle is gone afterwards whatever the result.
  int commit() {
    return mdb_txn_commit(std::exchange(txn_, nullptr));
  }
  void abort() noexcept {
    if (txn_ != nullptr)
      mdb_txn_abort(std::exchange(txn_, nullptr));
  }
  MDB_txn* get() const noexcept {
    return txn_;
  }

private:
  MDB_txn* txn_ = nullptr;
};

/// An LMDB cursor closed with its scope (declare it after its transaction).
class lmdb_cursor {
public:
  lmdb_cursor() = default;
  ~lmdb_cursor() {
    if (cur_ != nullptr)
      mdb_cursor_close(cur_);
  }
  lmdb_cursor(const lmdb_cursor&) = delete;
  lmdb_cursor& operator=(const lmdb_cursor&) = delete;
  int open(MDB_txn* txn, MDB_dbi dbi) {
    return mdb_cursor_open(txn, dbi, &cur_);
  }
  int get(MDB_val& k, MDB_val& v, MDB_cursor_op op) {
    return mdb_cursor_get(cur_, &k, &v, op);
  }
  MDB_cursor* get() const noexcept {
    return cur_;
  }

private:
  MDB_cursor* cur_ = nullptr;
};

/// Moves `cur` to the newest record whose key is an 8-byte seq, stepping back over keys
/// of any other size after it; `strays` counts the keys stepped over. Returns the LMDB
/// code (MDB_NOTFOUND when there is no such record).
inline int last_seq_record(lmdb_cursor& cur, MDB_val& k, MDB_val& v, size_t& strays) {
  strays = 0;
  int rc = cur.get(k, v, MDB_LAST);
  for (; rc == 0 && k.mv_size != 8; rc = cur.get(k, v, MDB_PREV))
    ++strays;
  return rc;
}

/// A read transaction together with the shared map lock it needs.
struct read_scope {
  std::shared_lock<std::shared_mutex> lock;
  lmdb_txn txn; // destroyed first: the transaction ends before the lock is released
};

struct journal_store::impl {
  store_options opts;
  MDB_env* env = nullptr;
  MDB_dbi events = 0;
  MDB_dbi snapshots = 0;
  MDB_dbi meta = 0;
  uint64_t map_size = 0;
  // Readers hold it shared for the life of a read transaction; map growth holds it
  // exclusively, since LMDB cannot tell that a read transaction is open.
  mutable std::shared_mutex map_lock;
  mutable std::mutex head_lock;
  seq_no head;
  digest head_chain;
  std::atomic<bool> fail_writes{false}; ///< chaos hook
  uint64_t page_size = 4096;
  // Held around every write transaction with the prepared tail's two calls.
  std::mutex write_lock;
  std::unique_ptr<prepared_tail> tail; ///< when opts.prepare_max > 0

  ~impl() {
    if (env != nullptr)
      mdb_env_close(env);
  }

  /// (LMDB's last page + 1) x page size: where the used part of data.mdb ends.
  uint64_t used_end() const;

  /// Begins a read transaction, adopting a map grown by another process.
  int begin_read(read_scope& scope) const;

  /// After a failed write `what` with LMDB code `rc`: grows the map (the caller retries)
  /// if the map was full and may still grow; otherwise returns `AUDIT_UNAVAILABLE`.
  caf::error grow_or_fail(int rc, const char* what);

  /// Writes the stored bytes of records (chain || event bytes) straight into the space
  /// LMDB reserves for them in the transaction (`MDB_RESERVE`): no copy of each record
  /// is built first. `write` may run more than once per record (after map growth).
  struct record_source {
    std::function<size_t(size_t)> size_of;        ///< stored size of record i
    std::function<void(size_t, uint8_t*)> write;  ///< fills exactly size_of(i) bytes
    /// Runs once every record is written, before the commit (the fsync); false fails
    /// the transaction as an injected write failure. None: commit.
    std::function<bool()> before_commit;
  };

  /// Writes `entries.size()` records from `source` in one transaction (retrying after
  /// map growth), then moves the head to the last entry, whose seq and chain must be
  /// final once `source.write` has run for every record. `prev`/`prev_chain` are the
  /// head the entries continue.
  caf::error write_entries(const std::vector<journal_entry>& entries,
                           const record_source& source, seq_no prev, const digest& prev_chain);
};

/// One write transaction's hold on the store: the writer's lock, and the prepared tail
/// kept clear of the pages it may write (`bytes` of values in `records` records).
class write_scope {
public:
  write_scope(journal_store::impl& d, uint64_t bytes, uint64_t records);
  /// After a successful commit: lets the tail prepare more space ahead of it.
  void committed();

private:
  journal_store::impl& d_;
  std::lock_guard<std::mutex> guard_;
  uint64_t bound_;
};

} // namespace bulwark
