#pragma once

/// The fleet state's record of decided proposals, for idempotency: one fixed-size entry
/// per proposal, found by the digest of its principal and idempotency key.
///
/// The entries live in one sorted, immutable run shared by every copy of the state (a
/// copy of the state costs a pointer, not the history) plus a small ordered map of newer
/// and changed entries, merged into a new run as it grows. The two together always read,
/// iterate and encode as one list sorted by key, so where a merge happened never shows
/// in the state's bytes or digest.

#include <cstdint>
#include <unordered_map>
#include <memory>
#include <vector>

#include "caf/error.hpp"
#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"

#include "messages/error.hpp"
#include "messages/ids.hpp"

namespace bulwark {

/// The outcome of a decided proposal as the index records it.
namespace decided {
constexpr uint8_t running = 0;   ///< allowed, no `proposal_finished` yet
constexpr uint8_t succeeded = 1; ///< finished, succeeded
constexpr uint8_t failed = 2;    ///< finished, failed
constexpr uint8_t refused = 3;   ///< refused at its decision
constexpr uint8_t read = 4;      ///< a level-0 read: answered at its decision, never runs
/// Finished, failed, and a compensation of it failed too (a `compensation_failed` record).
constexpr uint8_t compensation_failed = 5;
} // namespace decided

/// One decided proposal.
struct decided_proposal {
  digest key;               ///< SHA-256 of principal "/" idempotency key
  digest proposal;          ///< the proposal's digest
  uint64_t decided_seq = 0; ///< seq of its `proposal_decided` record
  ec code = ec::none;       ///< the decision's code (none when allowed)
  uint8_t status = decided::running;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decided_proposal& x) {
  return f(caf::meta::type_name("decided_proposal"), x.key, x.proposal, x.decided_seq, x.code,
           x.status);
}

/// Decided proposals by key: see the file comment. Not thread-safe; copies are
/// independent (the shared run is never changed).
class decided_index {
public:
  /// The canonical writers list the entries straight from the index (persistence/codec.hpp):
  /// the same bytes as the inspect() below, without its sorted copy.
  using canonical_element = decided_proposal;

  /// Returns the entry of `key`, or null.
  const decided_proposal* find(const digest& key) const;

  /// Adds `x` unless its key is known; returns whether it was added (the first decision
  /// under a key keeps it).
  bool insert(const decided_proposal& x);

  /// Sets the status of `key`'s entry (nothing when there is none).
  void settle(const digest& key, uint8_t status);

  size_t size() const noexcept {
    return size_;
  }
  bool empty() const noexcept {
    return size_ == 0;
  }
  void clear();

  /// Calls `f(const decided_proposal&)` for every entry in key order.
  template <class F>
  void each(F&& f) const {
    static const std::vector<decided_proposal> none;
    auto& base = base_ ? base_->entries : none;
    auto fresh = fresh_in_order();
    auto i = base.begin();
    auto j = fresh.begin();
    while (i != base.end() || j != fresh.end()) {
      if (j == fresh.end() || (i != base.end() && i->key < (*j)->key)) {
        f(*i++);
      } else {
        if (i != base.end() && !((*j)->key < i->key))
          ++i; // the fresh entry shadows the older one
        f(**j++);
      }
    }
  }

  /// Returns every entry in key order.
  std::vector<decided_proposal> sorted() const;

  /// Replaces the content with `xs`; refused unless keys strictly ascend.
  caf::error assign(std::vector<decided_proposal> xs);

private:
  /// The fresh entries in key order (the map keeps none).
  std::vector<const decided_proposal*> fresh_in_order() const;
  void merge();
  void set_run(std::vector<decided_proposal> entries);

  /// The sorted run, with each key's first 8 bytes (big-endian) beside it: a lookup
  /// searches those, 8 bytes an entry in a few cache lines, instead of entries of 81
  /// bytes each, and compares whole keys only where the prefix matches.
  struct run {
    std::vector<decided_proposal> entries;
    std::vector<uint64_t> prefixes;
  };
  std::shared_ptr<const run> base_; ///< never changed once built
  /// Newer and changed entries: they win. Hashed, for the lookups every decision and
  /// outcome makes; whatever lists them sorts them first (`fresh_in_order`), so no
  /// listing, encoding or digest depends on the hash order.
  std::unordered_map<digest, decided_proposal, digest_hash> fresh_;
  size_t size_ = 0;                          ///< distinct keys
};

/// Encodes as `list<decided_proposal>` in key order.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decided_index& x) {
  std::vector<decided_proposal> all;
  if constexpr (Inspector::reads_state)
    all = x.sorted();
  return f(all, caf::meta::load_callback([&]() -> caf::error { return x.assign(std::move(all)); }));
}

} // namespace bulwark
