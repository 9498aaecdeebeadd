#pragma once

/// Applied actions by (resource, key), for the rollback planner's conflict check. It
/// holds the seq of every applied action in [from(), to()], ascending per key: 8 bytes
/// per applied action plus one entry per key. The rollback actor keeps it as it follows
/// the journal, catches it up to the head before planning, and extends it backwards
/// (once) when a rollback reaches below `from()`. Pure: no clock, no I/O.
///
/// Lookups use hash maps; no result depends on their iteration order.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bulwark {

/// The seqs of applied actions per (resource, key).
class rollback_index {
public:
  /// One applied action as the index sees it.
  struct change {
    uint64_t seq;
    std::string resource;
    std::string key;
  };

  /// An empty index that covers nothing up to `head`: later seqs are added by `add`.
  explicit rollback_index(uint64_t head = 0);

  /// Records the applied action `seq`; seqs at or below `to()` are ignored (seen). A
  /// record that is not an applied action still moves `to()` by `skip`.
  void add(uint64_t seq, const std::string& resource, const std::string& key);

  /// Marks `seq` as followed (a record of another type).
  void skip(uint64_t seq);

  /// Adds the older applied actions `older` (ascending, all below `from()`), which then
  /// covers from `lo`.
  void prepend(uint64_t lo, const std::vector<change>& older);

  /// The first seq covered (to() + 1 when nothing is).
  uint64_t from() const noexcept {
    return from_;
  }

  /// The last seq followed.
  uint64_t to() const noexcept {
    return to_;
  }

  /// The applied seqs of (resource, key), ascending; null when there are none.
  const std::vector<uint64_t>* changes(const std::string& resource, const std::string& key) const;

  /// Applied actions indexed.
  size_t size() const noexcept {
    return size_;
  }

private:
  using by_key = std::unordered_map<std::string, std::vector<uint64_t>>;
  std::unordered_map<std::string, by_key> seqs_; ///< resource -> key -> seqs
  uint64_t from_;
  uint64_t to_;
  size_t size_ = 0;
};

} // namespace bulwark
