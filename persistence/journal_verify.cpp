// journal_store::verify: parallel chain verification over ranges.

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "persistence/journal_store.hpp"
#include "persistence/record.hpp"
#include "persistence/sha256.hpp"
#include "persistence/store_impl.hpp"

namespace bulwark {

namespace {

/// The verdict on one range: the first bad seq in it (0 when it verified).
struct range_result {
  uint64_t bad = 0;
  std::string reason;
  digest last_chain;
};

/// Why the key `k`, met where the walk expected record `expected`, is not that record.
std::string unexpected_key(const MDB_val& k, uint64_t expected) {
  uint64_t seq = 0;
  if (load_key(k, seq) && seq > expected)
    return "missing (next stored record is " + std::to_string(seq) + ")";
  // Not an 8-byte seq, or a seq below the walk (0): no record of the chain lives there.
  constexpr size_t shown = 32;
  auto* p = static_cast<const uint8_t*>(k.mv_data);
  return "stray key " + to_hex(p, std::min(k.mv_size, shown))
         + (k.mv_size > shown ? "..." : "");
}

struct stored_tail {
  uint64_t last = 0;      ///< the newest 8-byte key in the events db
  digest last_chain;      ///< the chain stored with it
  uint64_t head = 0;      ///< the seq the meta record names
  digest head_chain;      ///< the chain the meta record names
  bool head_ok = false;   ///< the meta head record exists and is well formed
  std::string stray;      ///< why the first key after `last` is wrong (empty: no such key)
};

caf::expected<stored_tail> read_tail(const journal_store::impl& d) {
  read_scope scope;
  if (int rc = d.begin_read(scope))
    return lmdb_error(ec::unavailable, d.opts.dir, "begin", rc);
  stored_tail tail;
  lmdb_cursor cur;
  if (int rc = cur.open(scope.txn.get(), d.events))
    return lmdb_error(ec::unavailable, d.opts.dir, "cursor", rc);
  MDB_val k, v;
  size_t strays = 0;
  int rc = last_seq_record(cur, k, v, strays);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return lmdb_error(ec::unavailable, d.opts.dir, "read tail", rc);
  if (rc == 0) {
    load_key(k, tail.last);
    if (v.mv_size >= chain_size)
      std::memcpy(tail.last_chain.bytes.data(), v.mv_data, chain_size);
  }
  // Keys that are not 8 bytes may follow the newest record: the first of them is the
  // first key the walk would meet after it.
  if (strays > 0 && cur.get(k, v, rc == 0 ? MDB_NEXT : MDB_FIRST) == 0)
    tail.stray = unexpected_key(k, tail.last + 1);
  MDB_val hk{4, const_cast<char*>("head")}, hv;
  if (mdb_get(scope.txn.get(), d.meta, &hk, &hv) == 0 && hv.mv_size == 40) {
    MDB_val key{8, hv.mv_data};
    load_key(key, tail.head);
    std::memcpy(tail.head_chain.bytes.data(), static_cast<uint8_t*>(hv.mv_data) + 8, 32);
    tail.head_ok = true;
  }
  return tail;
}

/// The first key of the events db when it sorts before seq 1 (a key that is not an
/// 8-byte seq, or seq 0): verify reports it at seq 1. Empty when there is none.
std::string stray_before_first(const journal_store::impl& d, std::string& error) {
  read_scope scope;
  if (int rc = d.begin_read(scope)) {
    error = std::string{"cannot read: "} + mdb_strerror(rc);
    return {};
  }
  lmdb_cursor cur;
  cur.open(scope.txn.get(), d.events);
  MDB_val k, v;
  uint64_t seq = 0;
  if (cur.get(k, v, MDB_FIRST) != 0 || (load_key(k, seq) && seq >= 1))
    return {};
  return unexpected_key(k, 1);
}

/// Verifies [first, last]; `progress` counts records checked across all ranges.
range_result verify_range(const journal_store::impl& d, uint64_t first, uint64_t last,
                          std::atomic<uint64_t>& progress) {
  range_result out;
  read_scope scope;
  if (int rc = d.begin_read(scope)) {
    out.bad = first;
    out.reason = std::string{"cannot read: "} + mdb_strerror(rc);
    return out;
  }
  lmdb_cursor cur;
  cur.open(scope.txn.get(), d.events);
  sha256_hasher hasher;
  digest prev;
  MDB_val k, v;
  uint8_t key[8];
  if (first > 1) {
    // Start from the stored chain of the record before the range.
    store_key(first - 1, key);
    k = MDB_val{8, key};
    if (cur.get(k, v, MDB_SET_KEY) != 0 || v.mv_size < chain_size) {
      out.bad = first - 1;
      out.reason = "missing";
      return out;
    }
    std::memcpy(prev.bytes.data(), v.mv_data, chain_size); // MDB_NEXT moves to `first`
  } else {
    store_key(first, key);
    k = MDB_val{8, key};
  }
  int rc = first > 1 ? cur.get(k, v, MDB_NEXT) : cur.get(k, v, MDB_SET_RANGE);
  uint64_t expected = first;
  uint64_t done = 0;
  for (; expected <= last; ++expected, rc = cur.get(k, v, MDB_NEXT)) {
    uint64_t seq = 0;
    if (rc != 0 || !load_key(k, seq) || seq != expected) {
      out.bad = expected;
      out.reason = rc == 0 ? unexpected_key(k, expected) : "missing";
      break;
    }
    auto* bytes = static_cast<const uint8_t*>(v.mv_data);
    if (v.mv_size < chain_size + record_header_size) {
      out.bad = seq;
      out.reason = "record too short";
      break;
    }
    if (auto err = check_record(seq_no{seq}, bytes + chain_size, v.mv_size - chain_size)) {
      out.bad = seq;
      // The report names the seq already: keep the reason alone, as for every other check.
      out.reason = describe(err).message;
      auto prefix = "record " + std::to_string(seq) + ": ";
      if (out.reason.compare(0, prefix.size(), prefix) == 0)
        out.reason.erase(0, prefix.size());
      break;
    }
    auto chain = hasher.chain(prev, bytes + chain_size, v.mv_size - chain_size);
    if (std::memcmp(chain.bytes.data(), bytes, chain_size) != 0) {
      out.bad = seq;
      out.reason = "chain hash does not match (record or stored hash altered)";
      break;
    }
    prev = chain;
    if (++done == 4096) {
      progress += done;
      done = 0;
    }
  }
  progress += done;
  out.last_chain = prev;
  return out;
}

} // namespace

verify_report journal_store::verify(seq_no from, seq_no to, unsigned threads,
                                    const progress_fn& progress) {
  auto& d = *impl_;
  verify_report report;
  auto tail = read_tail(d);
  if (!tail) {
    report.ok = false;
    report.first_bad = seq_no{std::max<uint64_t>(from.value, 1)};
    report.reason = describe(tail.error()).message;
    return report;
  }
  uint64_t first = std::max<uint64_t>(from.value, 1);
  uint64_t last = std::min(to.value, tail->last);
  if (first == 1) {
    // The walk starts at key 1: anything sorting before it would go unseen.
    std::string error;
    auto stray = stray_before_first(d, error);
    if (!stray.empty() || !error.empty()) {
      report.ok = false;
      report.first_bad = seq_no{1};
      report.reason = stray.empty() ? error : stray;
      return report;
    }
  }
  std::vector<range_result> results;
  if (first <= last) {
    uint64_t total = last - first + 1;
    threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(total / 1024 + 1)));
    std::atomic<uint64_t> done{0};
    std::atomic<bool> finished{false};
    results.resize(threads);
    std::vector<std::thread> workers;
    uint64_t per = total / threads;
    for (unsigned i = 1; i < threads; ++i) {
      uint64_t a = first + per * i;
      uint64_t b = i + 1 == threads ? last : a + per - 1;
      workers.emplace_back([&, i, a, b] { results[i] = verify_range(d, a, b, done); });
    }
    std::thread reporter;
    if (progress)
      reporter = std::thread([&] {
        while (!finished.load()) {
          progress(done.load(), total);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      });
    results[0] = verify_range(d, first, threads == 1 ? last : first + per - 1, done);
    for (auto& w : workers)
      w.join();
    finished = true;
    if (reporter.joinable())
      reporter.join();
    if (progress)
      progress(done.load(), total);
    report.checked = done.load();
    for (auto& r : results)
      if (r.bad != 0) {
        report.ok = false;
        report.first_bad = seq_no{r.bad};
        report.reason = r.reason;
        return report;
      }
    report.head = seq_no{last};
    report.head_chain = results.back().last_chain;
  } else if (last == tail->last) {
    // Nothing left to check in range: the newest record's stored chain is the head.
    report.head = seq_no{last};
    report.head_chain = tail->last_chain;
  }
  if (to.value >= tail->last) {
    // The whole tail was checked: no key may follow the newest record, and the meta
    // head must name exactly that record.
    if (!tail->stray.empty()) {
      report.ok = false;
      report.first_bad = seq_no{tail->last + 1};
      report.reason = tail->stray;
    } else if (!tail->head_ok) {
      report.ok = false;
      report.first_bad = seq_no{tail->last + 1};
      report.reason = "the stored head record is missing or malformed";
    } else if (tail->head > tail->last) {
      report.ok = false;
      report.first_bad = seq_no{tail->last + 1};
      report.reason = "missing (the stored head names seq " + std::to_string(tail->head) + ")";
    } else if (tail->head < tail->last) {
      report.ok = false;
      report.first_bad = seq_no{tail->head + 1};
      report.reason = "beyond the stored head (seq " + std::to_string(tail->head) + ")";
    } else if (tail->last > 0 && tail->head_chain != report.head_chain) {
      report.ok = false;
      report.first_bad = seq_no{tail->last};
      report.reason = "chain hash differs from the stored head";
    }
  }
  return report;
}

} // namespace bulwark
