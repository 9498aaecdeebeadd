#pragma once

/// A history query over the journal: the events of a `history_filter`, one page at a
/// time, read in the store's short read transactions beside the writer. The caller
/// supplies the stop test (a deadline, a cancellation) and the progress sink, so this
/// file reads no clock and starts no thread.

#include <cstdint>
#include <functional>
#include <vector>

#include "caf/expected.hpp"

#include "messages/events.hpp"
#include "persistence/history_filter.hpp"

namespace bulwark {

class journal_store;

/// One page of a history query.
struct history_page {
  std::vector<journal_entry> events; ///< at most `limit`, in seq order
  uint64_t next = 0;    ///< the `from` of the next page; 0 when the range is exhausted
  uint64_t scanned = 0; ///< records read for this page
  uint64_t total = 0;   ///< records in [from, min(to, head)]
  uint64_t head = 0;    ///< the journal's head when the query began
  bool stopped = false; ///< `stop` ended the query early (events then holds what was found)
};

/// How a query is watched while it runs.
struct history_control {
  /// Asked every `check_every` records; true ends the query (`stopped`).
  std::function<bool()> stop;
  uint64_t check_every = 1024;
  /// Called with (scanned, total, matched) every `progress_every` records read.
  std::function<void(uint64_t, uint64_t, uint64_t)> progress;
  uint64_t progress_every = 65536;
};

/// Reads one page of `f` from `store`: the records of [f.from, min(f.to, head)] are
/// tested in seq order (type and time from the record header, then the payload's bytes,
/// then its decoded fields) until `f.limit` match or the range ends. Errors are the
/// store's (INTEGRITY_VIOLATION for a record that does not decode).
caf::expected<history_page> read_history(journal_store& store, const history_filter& f,
                                         const history_control& ctl = {});

} // namespace bulwark
