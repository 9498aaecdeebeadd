#pragma once

/// The attempts store: every orchestration attempt (docs/incidents.md, "The attempts
/// store"), kept in an LMDB environment of its own, `<data>/attempts.mdb` (with its lock
/// file `attempts.mdb-lock`), apart from the journal's. Retention deletes old attempts
/// here; the journal's file, its map, its lock and its write transactions are never
/// touched by it, so pruning can neither stall nor change the chain.
///
/// Thread-safe: one writer at a time (LMDB), readers on any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"
#include "caf/timestamp.hpp"

#include "messages/attempts.hpp"

namespace bulwark {

/// The file name of the attempts store inside a node's data directory.
inline constexpr const char* attempt_store_file = "attempts.mdb";

class attempt_store {
public:
  /// Opens (creating it when missing) the store at `path` (a file, e.g.
  /// `<data>/attempts.mdb`); INVALID_INPUT when the file is not an attempts store.
  static caf::expected<std::unique_ptr<attempt_store>> open(const std::string& path);

  ~attempt_store();
  attempt_store(const attempt_store&) = delete;
  attempt_store& operator=(const attempt_store&) = delete;

  /// Keeps one attempt (a repeated id at the same start replaces it).
  caf::error put(const attempt_record& x);

  /// The attempts `keep` accepts, newest first, at most `limit`.
  caf::expected<std::vector<attempt_record>>
  list(const std::function<bool(const attempt_record&)>& keep, size_t limit) const;

  /// Deletes every attempt started before `cutoff`; returns how many.
  caf::expected<uint64_t> prune_before(caf::timestamp cutoff);

  /// Attempts held.
  uint64_t count() const;

  const std::string& path() const noexcept;

private:
  struct impl;
  explicit attempt_store(std::unique_ptr<impl> d);
  std::unique_ptr<impl> impl_;
};

} // namespace bulwark
