#include "persistence/replay.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "persistence/record.hpp"

namespace bulwark {

namespace {

/// Verifies the chain over [from, to] in chunks that any number of threads take in turn
/// (each chunk starts from the stored chain hash before it, so every link is checked
/// once). A second thread starts at once; the thread that applies the records joins in
/// when it is done, so both cores share whatever verification is left.
class chain_check {
public:
  chain_check(journal_store& store, uint64_t from, uint64_t to)
    : store_(store), next_(from), to_(to) {
    // nop
  }

  /// Verifies chunks until none is left.
  void work() {
    for (;;) {
      auto a = next_.fetch_add(chunk);
      if (a > to_)
        return;
      auto r = store_.verify(seq_no{a}, seq_no{std::min(to_, a + chunk - 1)}, 1);
      if (!r.ok) {
        std::lock_guard<std::mutex> guard{mtx_};
        if (first_bad_.ok || r.first_bad.value < first_bad_.first_bad.value)
          first_bad_ = std::move(r);
      }
    }
  }

  /// The lowest failing record, or ok; call after every worker is done.
  verify_report result() const {
    return first_bad_;
  }

private:
  static constexpr uint64_t chunk = 2048;
  journal_store& store_;
  std::atomic<uint64_t> next_;
  uint64_t to_;
  std::mutex mtx_;
  verify_report first_bad_; ///< ok until a chunk fails
};

} // namespace

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
  // An empty range still checks that the stored head names the newest record.
  chain_check check{store, verify_from, std::max(verify_from, to)};
  std::thread helper{[&check] { check.work(); }};
  caf::error apply_err;
  auto read_err = store.scan(seq_no{from}, seq_no{to}, [&](seq_no seq, const uint8_t*,
                                                          const uint8_t* bytes, size_t size) {
    if ((apply_err = check_record(seq, bytes, size)))
      return false;
    apply_err = out.proj.apply(seq, static_cast<event_type>(bytes[1]),
                               bytes + record_header_size, size - record_header_size);
    return !apply_err;
  });
  check.work();
  helper.join();
  auto report = check.result();
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
