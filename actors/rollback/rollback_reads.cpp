// What the rollback executor reads from the journal: the records it reverts, and the
// applied actions its conflict index lacks (zero-copy scans; only applied actions are
// decoded).

#include <algorithm>

#include "actors/rollback/rollback.hpp"
#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/record.hpp"

namespace bulwark {

namespace {

/// Targets closer than this are read in one scan; farther ones start a new one.
constexpr uint64_t scan_gap = 64;

/// Scans [lo, hi], calling `f(seq, type, applied)` for each record (applied decoded
/// only when `want(seq)` and the record is an applied action).
template <class Want, class F>
caf::error scan_applied(journal_store& store, uint64_t lo, uint64_t hi, Want want, F f) {
  caf::error bad;
  auto err = store.scan(seq_no{lo}, seq_no{hi}, [&](seq_no seq, const uint8_t*,
                                                    const uint8_t* bytes, size_t size) {
    if (size < record_header_size) {
      bad = refuse(ec::integrity_violation,
                   "record " + std::to_string(seq.value) + " is too short");
      return false;
    }
    auto type = static_cast<event_type>(bytes[1]);
    if (!want(seq.value))
      return true;
    caf::optional<action_applied> applied;
    if (type == event_type::action_applied) {
      action_applied a;
      if (decode(bytes + record_header_size, size - record_header_size, a)) {
        bad = refuse(ec::integrity_violation,
                     "record " + std::to_string(seq.value) + " does not decode");
        return false;
      }
      applied = std::move(a);
    }
    f(seq.value, type, std::move(applied));
    return true;
  });
  return err ? err : bad;
}

} // namespace

caf::expected<std::vector<planned_record>> load_records(journal_store& store,
                                                        const std::vector<seq_no>& seqs) {
  auto head = store.head().value;
  std::vector<uint64_t> wanted;
  for (auto s : seqs)
    if (s.value >= 1 && s.value <= head)
      wanted.push_back(s.value);
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::vector<planned_record> out;
  out.reserve(wanted.size());
  // Runs of nearby targets share one scan; the records between them are skipped undecoded.
  for (size_t i = 0; i < wanted.size();) {
    size_t j = i;
    while (j + 1 < wanted.size() && wanted[j + 1] - wanted[j] <= scan_gap)
      ++j;
    size_t next = i;
    auto err = scan_applied(
      store, wanted[i], wanted[j],
      [&](uint64_t seq) {
        while (next <= j && wanted[next] < seq)
          ++next;
        return next <= j && wanted[next] == seq;
      },
      [&](uint64_t seq, event_type type, caf::optional<action_applied> a) {
        out.push_back(planned_record{seq_no{seq}, type, std::move(a)});
      });
    if (err)
      return err;
    i = j + 1;
  }
  return out;
}

caf::error cover(journal_store& store, rollback_index& index, uint64_t lo) {
  auto head = store.head().value;
  auto all = [](uint64_t) { return true; };
  if (index.to() < head) {
    auto err = scan_applied(store, index.to() + 1, head, all,
                            [&](uint64_t seq, event_type, caf::optional<action_applied> a) {
                              if (a)
                                index.add(seq, a->resource.value, a->key);
                              else
                                index.skip(seq);
                            });
    if (err)
      return err;
  }
  lo = std::max<uint64_t>(lo, 1);
  if (lo >= index.from() || lo > head)
    return {};
  std::vector<rollback_index::change> older;
  auto err = scan_applied(store, lo, index.from() - 1, all,
                          [&](uint64_t seq, event_type, caf::optional<action_applied> a) {
                            if (a)
                              older.push_back({seq, std::move(a->resource.value),
                                               std::move(a->key)});
                          });
  if (err)
    return err;
  index.prepend(lo, older);
  return {};
}

} // namespace bulwark
