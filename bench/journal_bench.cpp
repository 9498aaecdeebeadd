// Journal benchmark: the disk's fsync latency, durable append through the journal actor
// with 1, 16 and 256 concurrent appenders, verify and replay of 10k and 1M events (from
// genesis and from a snapshot). Every event is 256 bytes as stored (30-byte header plus
// payload; 288 bytes in LMDB with its chain hash). Runs in a fresh temporary directory
// (under $TMPDIR) that is removed at the end. A benchmark, not a test: it reports the
// targets of README "Performance" but never fails on them.

#include <atomic>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <sys/resource.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/journal/journal.hpp"
#include "bench/bench_util.hpp"
#include "messages/register.hpp"
#include "persistence/make_event.hpp"
#include "persistence/record.hpp"
#include "persistence/replay.hpp"

using namespace bulwark;
using namespace bulwark::bench;
namespace fs = std::filesystem;

namespace {

constexpr const char* usage = R"(usage: journal_bench [--quick] [--append] [--json] [--help]
  --quick  smaller sizes for a smoke run (a few seconds; no 1M-event runs)
  --append only fsync and durable append (no verify and replay runs)
  --json   print the results as one JSON object instead of the table
The journal lives in a fresh directory under $TMPDIR (default /tmp): point TMPDIR at
the disk you want to measure. Progress goes to stderr.
)";

constexpr size_t event_bytes = 256;   // header + payload, as stored
constexpr uint64_t fleet_size = 1000; // resources the applied actions change
constexpr int64_t epoch_ms = 1'700'000'000'000;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

// -- events of exactly `event_bytes` ---------------------------------------------------

// GCC 12 at -O3 reports a false -Wstringop-overflow inside the inlined canonical_writer
// (vector::insert of a digest into a fresh payload); only these builders silence it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"

/// Fixed-width ids keep the unpadded payload size constant, so one padding fits all.
resource_id resource_of(uint64_t i) {
  auto n = std::to_string(1'000'000 + i % fleet_size); // no printf: appenders call it hot
  return resource_id{"res-" + n.substr(1)};
}

caf::timestamp time_of(uint64_t i) {
  return caf::timestamp{std::chrono::milliseconds{epoch_ms + static_cast<int64_t>(i)}};
}

/// An `action_applied` event; `pad` bytes of new_value bring it to its stored size.
event applied_event(uint64_t i, size_t pad) {
  action_applied x;
  std::memcpy(x.proposal.bytes.data(), &i, sizeof i);
  x.resource = resource_of(i);
  x.key = "setting";
  x.new_value.assign(pad, 'v');
  return make_event(event_type::action_applied, time_of(i), x, trace_id{i});
}

/// A `resource_registered` event padded by a "note" attribute.
event registration_event(uint64_t i, size_t pad) {
  resource_registered x{resource_of(i), "svc", "north", {{"note", std::string(pad, 'n')}}};
  return make_event(event_type::resource_registered, time_of(i), x, trace_id{i});
}

#pragma GCC diagnostic pop

/// The padding that makes `build`'s events `event_bytes` long as stored.
template <class Build>
size_t padding_for(Build build) {
  auto stored = record_header_size + build(0, 0).payload.size();
  if (stored > event_bytes)
    fail("the unpadded event is already larger than the target size");
  return event_bytes - stored;
}

event applied_256(uint64_t i) {
  static const size_t pad = padding_for(applied_event);
  return applied_event(i, pad);
}

event registration_256(uint64_t i) {
  static const size_t pad = padding_for(registration_event);
  return registration_event(i, pad);
}

// -- results and the temporary tree ----------------------------------------------------

/// One line of the table; `met` stays empty for rows without a target.
struct row {
  std::string what, result, target, met;
};

/// Everything measured, for the table and for --json.
struct report {
  std::vector<row> rows;
  nlohmann::ordered_json json;

  /// Adds a row; one with a target is judged against it (reported, never enforced).
  void add(std::string what, std::string result, std::string target = "", bool met = false) {
    if (!target.empty())
      json["targets"].push_back({{"what", what}, {"target", target}, {"met", met}});
    std::string verdict = target.empty() ? "" : met ? "met" : "MISSED";
    rows.push_back(row{std::move(what), std::move(result), std::move(target), verdict});
  }
  /// Adds p50/p99 of `lat` as `json[key]` and as a row.
  void latency(const char* key, const std::string& what, std::vector<double>& lat) {
    auto p50 = percentile(lat, 50), p99 = percentile(lat, 99);
    json[key] = {{"samples", lat.size()}, {"p50_us", p50}, {"p99_us", p99}};
    add(what + " (" + std::to_string(lat.size()) + " samples)",
        format("p50 %.0f us, p99 %.0f us", p50, p99));
  }
};

std::shared_ptr<journal_store> open_store(const std::string& dir) {
  store_options opts;
  opts.dir = dir;
  opts.create = true;
  opts.initial_map_size = uint64_t{1} << 30; // map growth is not what we measure
  auto store = journal_store::open(opts);
  if (!store)
    fail("cannot open the journal in " + dir);
  return std::move(*store);
}

// -- 1. fsync and the store's commit floor ---------------------------------------------

/// Returns the p99 (us) of write(4 KiB) + fdatasync: the floor of any durable commit.
double bench_fsync(const temp_root& tmp, int samples, report& rep) {
  auto path = tmp.sub("fsync.probe");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    fail("cannot create " + path);
  std::vector<char> block(4096, 'x');
  // Rewrites a ring of blocks in place: the device flush alone, no file-size metadata.
  auto lat = sample_us(samples, [&](int i) {
    if (::pwrite(fd, block.data(), block.size(), (i % 64) * 4096) < 0 || ::fdatasync(fd) != 0)
      fail("write/fdatasync failed on " + path);
  });
  ::close(fd);
  rep.latency("fsync", "fsync: 4 KiB write + fdatasync", lat);
  return rep.json["fsync"]["p99_us"].get<double>();
}

/// One event per transaction straight into the store: an ack's cost without actors, so
/// the 1-appender figure below splits into LMDB commit and messaging.
void bench_commit_floor(const temp_root& tmp, int samples, report& rep) {
  auto store = open_store(tmp.sub("commit-floor"));
  auto lat = sample_us(samples, [&](int i) {
    if (!store->append({applied_256(static_cast<uint64_t>(i))}))
      fail("journal_store::append failed");
  });
  rep.latency("commit_floor", "store commit, 1 event/txn, no actor", lat);
}

// -- 2. durable append through the journal actor --------------------------------------

/// What the journal told its subscriber: one `committed` message per transaction.
struct commit_tally {
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> events{0};
};

subscriber_actor::behavior_type commit_counter(subscriber_actor::pointer,
                                               std::shared_ptr<commit_tally> tally) {
  return {
    [tally](atom::committed, const std::vector<journal_entry>& entries) {
      tally->commits += 1;
      tally->events += entries.size();
    },
  };
}

struct appender_state {
  journal_actor journal;
  uint64_t next = 0; ///< id of the next event; ranges are disjoint across appenders
  uint64_t end = 0;
  std::vector<double>* acks = nullptr; ///< owned by bench_append, read once we are down
  static inline const char* name = "appender";
};
using appender_ptr = caf::stateful_actor<appender_state>*;

void append_next(appender_ptr self);

/// Records the acknowledgement latency, then keeps exactly one append outstanding.
void on_ack(appender_ptr self, clock_type::time_point sent) {
  self->state.acks->push_back(us_since(sent));
  if (self->state.next < self->state.end)
    append_next(self);
  else
    self->quit();
}

void append_next(appender_ptr self) {
  auto ev = applied_256(self->state.next++);
  auto sent = clock_type::now();
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(ev))
    .then([self, sent](const appended&) { on_ack(self, sent); },
          [self](caf::error& err) { self->quit(std::move(err)); });
}

/// Appends events [first, first + count) one at a time; quits with the first error.
caf::behavior appender(appender_ptr self, journal_actor journal, uint64_t first,
                       uint64_t count, std::vector<double>* acks) {
  self->state = appender_state{std::move(journal), first, first + count, acks};
  acks->reserve(count);
  append_next(self);
  return {}; // alive while its one request is pending; quits after the last ack
}

/// Spawns the appenders and waits for all of them; returns the wall time in seconds.
double drive_appenders(caf::actor_system& sys, const journal_actor& journal,
                       uint64_t per, std::vector<std::vector<double>>& acks) {
  caf::scoped_actor self{sys};
  auto t0 = clock_type::now();
  for (size_t a = 0; a < acks.size(); ++a)
    self->spawn<caf::monitored>(appender, journal, a * per, per, &acks[a]);
  caf::error failure;
  for (size_t a = 0; a < acks.size(); ++a)
    self->receive([&](const caf::down_msg& dm) {
      if (dm.reason && dm.reason != caf::exit_reason::normal)
        failure = dm.reason;
    });
  auto secs = ms_since(t0) / 1000;
  if (failure)
    fail("an append failed: " + sys.render(failure));
  return secs;
}

/// CPU seconds (user + system, every thread) this process has used so far. Includes
/// what CAF's idle scheduler workers burn polling for work while a commit waits on fsync.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

/// Waits (bounded) until the subscriber has seen `total` events, so the count is final.
uint64_t commits_after(const commit_tally& tally, uint64_t total) {
  auto t0 = clock_type::now();
  while (tally.events.load() < total && ms_since(t0) < 10'000)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return tally.commits.load();
}

void report_append(size_t appenders, double secs, double cpu_secs, uint64_t commits,
                   double fsync_p99, std::vector<double>& lat, report& rep) {
  auto n = static_cast<double>(lat.size());
  auto p50 = percentile(lat, 50), p99 = percentile(lat, 99);
  auto cpu_us = cpu_secs * 1e6 / std::max(n, 1.0);
  rep.json["append"].push_back({{"appenders", appenders}, {"events", lat.size()},
                                {"seconds", secs}, {"events_per_s", n / secs},
                                {"cpu_us_per_event", cpu_us}, {"commits", commits},
                                {"ack_p50_us", p50}, {"ack_p99_us", p99}});
  auto what = "durable append, " + std::to_string(appenders) + " appender"
              + (appenders > 1 ? "s (" : " (") + std::to_string(lat.size()) + " events)";
  auto c = static_cast<double>(std::max<uint64_t>(commits, 1));
  auto result = format("%.0f ev/s, %.0f commits (%.1f ev/commit), ack p50 %.0f us,", n / secs,
                       static_cast<double>(commits), n / c, p50)
                + format(" p99 %.0f us, %.1f us process CPU/event", p99, cpu_us);
  if (appenders == 1)
    rep.add(what, result, format("p99 ack <= 3x fsync p99 = %.0f us", 3 * fsync_p99),
            p99 <= 3 * fsync_p99);
  else if (appenders == 256)
    rep.add(what, result, ">= 200000 ev/s", n / secs >= 200'000);
  else
    rep.add(what, result);
}

/// Stops its actors on scope exit, also when a measurement throws: otherwise the actor
/// system's destructor would wait for them forever.
struct stopper {
  std::vector<caf::actor> actors;
  ~stopper() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
};

/// Durable append with `appenders` concurrent appenders on a fresh journal.
void bench_append(const temp_root& tmp, size_t appenders, uint64_t total, double fsync_p99,
                  report& rep) {
  auto store = open_store(tmp.sub("append-" + std::to_string(appenders)));
  caf::actor_system_config cfg;
  register_types(cfg);
  tune_scheduler(cfg);
  caf::actor_system sys{cfg}; // declared after `store`, so it is gone before the store
  auto journal = spawn_journal(sys, store, journal_settings{}); // detached, default snapshots
  if (!journal)
    fail("cannot spawn the journal: " + sys.render(journal.error()));
  // The pipeline subscribes on a real node too, so counting commits this way costs what
  // production pays: one message (a copy of the entries) per transaction.
  auto tally = std::make_shared<commit_tally>();
  auto counter = sys.spawn(commit_counter, tally);
  stopper stop{{caf::actor_cast<caf::actor>(*journal), caf::actor_cast<caf::actor>(counter)}};
  caf::anon_send(*journal, atom::subscribe_v, counter, store->head());
  uint64_t per = total / appenders;
  std::vector<std::vector<double>> acks(appenders);
  auto cpu0 = cpu_seconds();
  auto secs = drive_appenders(sys, *journal, per, acks);
  auto commits = commits_after(*tally, per * appenders);
  auto cpu = cpu_seconds() - cpu0;
  std::vector<double> all;
  for (auto& a : acks)
    all.insert(all.end(), a.begin(), a.end());
  report_append(appenders, secs, cpu, commits, fsync_p99, all, rep);
}

// -- 3./4. verify and replay ------------------------------------------------------------

/// Appends `n` events directly to the store in batches of 10k: the fleet first, then
/// actions on it, so replay has real state to build.
void fill(journal_store& store, uint64_t n) {
  for (uint64_t i = 0; i < n;) {
    std::vector<event> batch;
    for (auto end = std::min(n, i + 10'000); i < end; ++i)
      batch.push_back(i < fleet_size ? registration_256(i) : applied_256(i));
    if (!store.append(std::move(batch)))
      fail("filling the journal failed");
  }
}

/// Times `f` over a journal of `n` events (best of 3 for small ones, where noise
/// dominates; 1M once), of which it processes `done`; stores it under json[key] and adds
/// a row, judged against `target_ms` unless that is 0.
template <class F>
void timed(report& rep, const char* key, const std::string& what, uint64_t n, uint64_t done,
           double target_ms, F f) {
  int runs = n <= 10'000 ? 3 : 1;
  auto ms = best_ms(runs, f);
  rep.json[key].push_back({{"events", n}, {"processed", done}, {"runs", runs}, {"ms", ms}});
  auto name = what + (runs > 1 ? " (best of 3)" : "");
  auto result = format("%.2f ms (%.2f M ev/s)", ms, static_cast<double>(done) / ms / 1000);
  if (target_ms > 0)
    rep.add(name, result, format("<= %.0f ms", target_ms), ms <= target_ms);
  else
    rep.add(name, result);
}

replay_result replay_or_fail(journal_store& store, seq_no to, bool use_snapshot) {
  auto r = replay(store, replay_options{to, use_snapshot, false});
  if (!r)
    fail("replay failed");
  return std::move(*r);
}

/// Writes a snapshot 1000 events before the head (what a restarting node usually finds)
/// and replays from it.
void bench_snapshot_replay(journal_store& store, uint64_t n, report& rep) {
  seq_no at{n - 1000};
  auto proj = replay_or_fail(store, at, false).proj;
  auto write = best_ms(1, [&] {
    if (store.write_snapshot(proj))
      fail("write_snapshot failed");
  });
  auto kib = static_cast<double>(proj.encode_state().size()) / 1024;
  rep.json["snapshot"].push_back({{"seq", at.value}, {"state_kib", kib}, {"write_ms", write}});
  auto what = "replay " + std::to_string(n) + " events from a snapshot at "
              + std::to_string(at.value) + format(" (%.0f KiB, written in %.1f ms)", kib, write);
  timed(rep, "replay_snapshot", what, n, n - at.value, 0, [&] {
    if (replay_or_fail(store, seq_no{UINT64_MAX}, true).snapshot != at)
      fail("replay did not start at the snapshot");
  });
}

void bench_store(const temp_root& tmp, uint64_t n, report& rep) {
  auto store = open_store(tmp.sub("store-" + std::to_string(n)));
  auto t0 = clock_type::now();
  fill(*store, n);
  auto secs = ms_since(t0) / 1000;
  rep.add("fill " + std::to_string(n) + " events (journal_store::append, 10k per txn)",
          format("%.2f s (%.0f ev/s)", secs, static_cast<double>(n) / secs));
  auto events = std::to_string(n) + " events";
  double verify_target = n == 10'000 ? 3 : n == 1'000'000 ? 300 : 0;
  timed(rep, "verify", "verify " + events + ", 2 threads", n, n, verify_target, [&] {
    auto r = store->verify(seq_no{1}, seq_no{UINT64_MAX}, 2);
    if (!r.ok || r.checked != n)
      fail("verify failed: " + r.reason);
  });
  timed(rep, "replay", "replay " + events + " from genesis", n, n, n == 10'000 ? 5 : 0, [&] {
    if (replay_or_fail(*store, seq_no{UINT64_MAX}, false).seq.value != n)
      fail("replay stopped early");
  });
  bench_snapshot_replay(*store, n, rep);
}

// -- output and main ------------------------------------------------------------------

void print_table(const report& rep) {
  print_machine();
  std::printf("events: %zu bytes stored (%zu-byte header + payload; %zu in LMDB with the "
              "chain hash)\n\n",
              event_bytes, record_header_size, event_bytes + chain_size);
  int w0 = 11, w1 = 6;
  for (auto& r : rep.rows) {
    w0 = std::max(w0, static_cast<int>(r.what.size()));
    w1 = std::max(w1, static_cast<int>(r.result.size()));
  }
  std::printf("%-*s  %-*s  %s\n", w0, "measurement", w1, "result", "target (README)");
  for (auto& r : rep.rows)
    std::printf("%-*s  %-*s  %s%s%s\n", w0, r.what.c_str(), w1, r.result.c_str(),
                r.target.c_str(), r.met.empty() ? "" : ": ", r.met.c_str());
}

void run(bool quick, bool append_only, report& rep) {
  temp_root tmp{"bulwark-journal-bench"};
  auto m = describe_machine();
  rep.json["machine"] = {{"cores", m.cores}, {"cpu", m.cpu}, {"kernel", m.kernel}};
  rep.json["mode"] = quick ? "quick" : "full";
  rep.json["event_bytes"] = event_bytes;
  std::fprintf(stderr, "measuring fsync and the store's commit floor...\n");
  int samples = quick ? 200 : 1000;
  auto fsync_p99 = bench_fsync(tmp, samples, rep);
  bench_commit_floor(tmp, samples, rep);
  for (auto [appenders, total] : {std::pair<size_t, uint64_t>{1, quick ? 300 : 3'000},
                                  {16, quick ? 4'800 : 50'000},
                                  {256, quick ? 25'600 : 307'200}}) {
    std::fprintf(stderr, "measuring durable append, %zu appender(s)...\n", appenders);
    bench_append(tmp, appenders, total, fsync_p99, rep);
  }
  for (uint64_t n : {uint64_t{10'000}, uint64_t{1'000'000}}) {
    if (append_only || (quick && n > 10'000))
      continue;
    std::fprintf(stderr, "measuring verify and replay of %s events...\n",
                 std::to_string(n).c_str());
    bench_store(tmp, n, rep);
  }
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false, json = false, append_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--append") {
      append_only = true;
      continue;
    }
    if (arg == "--quick" || arg == "--json") {
      (arg == "--quick" ? quick : json) = true;
      continue;
    }
    std::fputs(usage, arg == "--help" ? stdout : stderr);
    return arg == "--help" ? 0 : 1;
  }
  report rep;
  try {
    run(quick, append_only, rep);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "journal_bench: %s\n", e.what());
    return 1;
  }
  if (json)
    std::printf("%s\n", rep.json.dump(2).c_str());
  else
    print_table(rep);
  return 0;
}
