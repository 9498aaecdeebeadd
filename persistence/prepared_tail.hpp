#pragma once

/// Space written ahead of LMDB's last page, so that commits overwrite instead of grow.
///
/// A commit that grows data.mdb makes its `fdatasync` also persist the file's new size
/// and blocks (an ext4 journal commit): on the virtual disk this roughly doubles the
/// sync (README, "Journal"). A `prepared_tail` keeps zeros written and synced, on a
/// thread of its own, a little way past LMDB's last page; LMDB's later page writes then
/// land inside the file. Zeros past the last page are never read (LMDB references no page
/// beyond its last one; docs/journal-format.md, "data.mdb").
///
/// The one rule that keeps it safe: the region being zeroed never overlaps pages a
/// transaction may write. The writer (holding its own lock around every write
/// transaction) calls `before_write` with a bound of how far the transaction may grow the
/// file, which waits for an extension that starts below that bound, and `after_commit`,
/// which starts the next extension only beyond a margin past the used end. Nothing else
/// may write the environment meanwhile (the engine's lock on the data directory).

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace bulwark {

class prepared_tail {
public:
  /// Prepares at most `max_bytes` ahead of the used end of `path` (the data file), and
  /// never more than an eighth of the used size: a small journal gets none.
  prepared_tail(std::string path, uint64_t max_bytes);
  ~prepared_tail();
  prepared_tail(const prepared_tail&) = delete;
  prepared_tail& operator=(const prepared_tail&) = delete;

  /// Before a write transaction that may grow the file up to `used_end + bound`: waits
  /// for an extension in progress that starts below that.
  void before_write(uint64_t used_end, uint64_t bound);

  /// After a committed write transaction (`bound` as given to before_write): starts an
  /// extension when the prepared space ahead of `used_end` runs low. Never past
  /// `map_size`.
  void after_commit(uint64_t used_end, uint64_t bound, uint64_t map_size);

  /// Waits until no extension is in progress (tests, shutdown).
  void settle();

  /// The end of the space written and synced so far (bytes from the file's start).
  uint64_t prepared_end() const;

  /// Extensions finished, and the ones that failed (a failed extension, a full disk say,
  /// only leaves LMDB to grow the file itself; journal_store::prepared() reports both).
  uint64_t extensions() const;
  uint64_t failures() const;

  /// How far a transaction writing `bytes` of values in `records` records may grow the
  /// file at most: pages for leaves or overflow runs, plus the branch, meta and
  /// free-list pages it touches.
  static uint64_t growth_bound(uint64_t bytes, uint64_t records);

private:
  void run();
  bool zero(uint64_t from, uint64_t to);

  std::string path_;
  uint64_t max_bytes_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  uint64_t prepared_ = 0;   ///< [0, prepared_) is written (the file's size when known)
  uint64_t job_from_ = 0;   ///< the extension in progress: [job_from_, job_to_)
  uint64_t job_to_ = 0;
  bool busy_ = false;
  bool stop_ = false;
  uint64_t extensions_ = 0;
  uint64_t failures_ = 0;
  int fd_ = -1;
  bool direct_ = false;
  std::thread worker_;
};

} // namespace bulwark
