#include "persistence/replay.hpp"

#include <future>
#include <string>

#include "persistence/record.hpp"

namespace bulwark {

caf::expected<replay_result> replay(journal_store& store, const replay_options& opts) {
  replay_result out;
  auto to = std::min(opts.to.value, store.head().value);
  if (opts.use_snapshot) {
    auto snap = store.load_snapshot(seq_no{to});
    if (!snap)
      return snap.error();
    if (*snap) {
      out.snapshot = (*snap)->seq;
      out.proj = projection{std::move((*snap)->state)};
    }
  }
  uint64_t from = out.proj.state().seq + 1;
  uint64_t verify_from = opts.verify_prefix ? 1 : from;
  auto checked = std::async(std::launch::async, [&store, verify_from, to] {
    return store.verify(seq_no{verify_from}, seq_no{to}, 1);
  });
  caf::error apply_err;
  auto read_err = store.scan(seq_no{from}, seq_no{to}, [&](seq_no seq, const uint8_t*,
                                                          const uint8_t* bytes, size_t size) {
    if ((apply_err = check_record(seq, bytes, size)))
      return false;
    apply_err = out.proj.apply(seq, static_cast<event_type>(bytes[1]),
                               bytes + record_header_size, size - record_header_size);
    return !apply_err;
  });
  auto report = checked.get();
  if (!report.ok)
    return refuse(ec::integrity_violation,
                  "record " + std::to_string(report.first_bad.value) + ": " + report.reason);
  if (read_err)
    return read_err;
  if (apply_err)
    return apply_err;
  if (out.proj.state().seq != to)
    return refuse(ec::integrity_violation,
                  "replay stopped at seq " + std::to_string(out.proj.state().seq)
                    + " before " + std::to_string(to));
  out.seq = seq_no{to};
  auto chain = store.chain_at(out.seq);
  if (!chain)
    return chain.error();
  out.chain = *chain;
  out.state_digest = out.proj.state_digest();
  return out;
}

} // namespace bulwark
