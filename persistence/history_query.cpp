// History queries: one page of matching events from a range of the journal.

#include "persistence/history_query.hpp"

#include <algorithm>
#include <cstring>

#include "persistence/journal_store.hpp"
#include "persistence/record.hpp"

namespace bulwark {

namespace {

int64_t load_time(const uint8_t* p) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n = (n << 8) | p[i];
  return static_cast<int64_t>(n);
}

} // namespace

caf::expected<history_page> read_history(journal_store& store, const history_filter& f,
                                         const history_control& ctl) {
  history_page page;
  page.head = store.head().value;
  auto last = std::min(f.to, page.head);
  if (f.from > last)
    return page;
  page.total = last - f.from + 1;
  bool subjects = history_has_subjects(f);
  caf::error decode_err;
  uint64_t next = f.from;
  auto err = store.scan(seq_no{f.from}, seq_no{last}, [&](seq_no seq, const uint8_t* chain,
                                                          const uint8_t* bytes, size_t size) {
    if (ctl.stop && page.scanned % ctl.check_every == 0 && ctl.stop()) {
      page.stopped = true; // this record is left for the next page
      return false;
    }
    next = seq.value + 1;
    ++page.scanned;
    if (ctl.progress && page.scanned % ctl.progress_every == 0)
      ctl.progress(page.scanned, page.total, page.events.size());
    if (size < record_header_size
        || !history_header_matches(f, bytes[1], load_time(bytes + 10)))
      return true;
    if (subjects && !history_payload_may_match(f, bytes + record_header_size,
                                               size - record_header_size))
      return true;
    journal_entry e;
    e.seq = seq;
    if ((decode_err = decode_record(seq, bytes, size, e.ev)))
      return false;
    if (subjects && !history_subjects_match(f, e.ev))
      return true;
    std::memcpy(e.chain.bytes.data(), chain, chain_size);
    page.events.push_back(std::move(e));
    return page.events.size() < f.limit;
  });
  if (err)
    return err;
  if (decode_err)
    return decode_err;
  page.next = next <= last ? next : 0;
  return page;
}

} // namespace bulwark
