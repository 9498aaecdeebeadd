// Journal benchmark: fsync latency of this disk, durable append through the journal actor
// with 1, 16 and 256 concurrent appenders (throughput, p50/p99 acknowledgement latency),
// verify and replay of 10k and 1M events (from genesis and from a snapshot).
//
// Usage: journal_bench [--quick]    (256-byte events; a fresh temporary journal)

#include <atomic>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/journal/journal.hpp"
#include "bench/bench_util.hpp"
#include "messages/register.hpp"
#include "persistence/make_event.hpp"
#include "persistence/replay.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

/// An event whose stored bytes (header + payload) are about 256 bytes.
event make_256(uint64_t i) {
  action_applied x;
  x.proposal.bytes[0] = static_cast<uint8_t>(i);
  x.resource = resource_id{"res-" + std::to_string(i % 1000)};
  x.key = "setting";
  x.new_value = std::string(141, 'v');
  return make_event(event_type::action_applied,
                    caf::timestamp{std::chrono::milliseconds{1'700'000'000'000 + static_cast<int64_t>(i)}},
                    x, trace_id{i});
}

std::string temp_dir(const char* tag) {
  auto t = (std::filesystem::temp_directory_path() / (std::string{"bulwark-bench-"} + tag + "-XXXXXX")).string();
  if (::mkdtemp(t.data()) == nullptr)
    std::exit(2);
  return t;
}

void bench_fsync(const std::string& dir, double& p99_out) {
  auto path = dir + "/fsync.probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  char block[4096];
  std::memset(block, 'x', sizeof block);
  std::vector<double> lat;
  for (int i = 0; i < 1000; ++i) {
    auto t0 = clock_type::now();
    if (::pwrite(fd, block, sizeof block, (i % 64) * 4096) < 0 || ::fdatasync(fd) != 0)
      std::exit(2);
    lat.push_back(ms_since(t0) * 1000);
  }
  ::close(fd);
  std::filesystem::remove(path);
  auto p50 = percentile(lat, 50), p99 = percentile(lat, 99);
  p99_out = p99;
  std::printf("fsync (4 KiB write + fdatasync), 1000 samples: p50 %.0f us, p99 %.0f us\n", p50, p99);
}

/// `appenders` actors each keep one append outstanding until `total` are acknowledged.
void bench_append(size_t appenders, size_t total) {
  auto dir = temp_dir("append");
  store_options opts;
  opts.dir = dir;
  opts.create = true;
  opts.initial_map_size = uint64_t{1} << 30;
  std::shared_ptr<journal_store> store = std::move(*journal_store::open(opts));
  caf::actor_system_config cfg;
  register_types(cfg);
  caf::actor_system sys{cfg};
  auto j = *spawn_journal(sys, store, journal_settings{0});
  std::vector<std::vector<double>> lat(appenders);
  std::atomic<size_t> remaining{appenders};
  size_t per = total / appenders;
  auto t0 = clock_type::now();
  for (size_t a = 0; a < appenders; ++a)
    sys.spawn([j, per, a, &lat, &remaining](caf::event_based_actor* self) {
      auto n = std::make_shared<size_t>(0);
      auto next = std::make_shared<std::function<void()>>();
      *next = [=, &lat, &remaining] {
        auto start = clock_type::now();
        self->request(j, caf::infinite, atom::append_v, make_256(a * per + *n))
          .then([=, &lat, &remaining](const appended&) {
            lat[a].push_back(ms_since(start) * 1000);
            if (++*n < per) {
              (*next)();
            } else {
              *next = nullptr; // break the self-reference so the actor can be destroyed
              --remaining;     // the main thread polls it
            }
          });
      };
      (*next)();
    });
  while (remaining.load() != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  auto secs = ms_since(t0) / 1000;
  std::vector<double> all;
  for (auto& l : lat)
    all.insert(all.end(), l.begin(), l.end());
  auto done = all.size();
  std::printf("durable append, %3zu appenders: %8.0f events/s, ack p50 %6.0f us, p99 %6.0f us"
              " (%zu events)\n",
              appenders, static_cast<double>(done) / secs, percentile(all, 50),
              percentile(all, 99), done);
  caf::anon_send_exit(j, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  store.reset();
  std::filesystem::remove_all(dir);
}

void fill(journal_store& store, size_t n) {
  for (size_t i = 0; i < n; i += 10000) {
    std::vector<event> batch;
    for (size_t k = i; k < std::min(n, i + 10000); ++k)
      batch.push_back(make_256(k));
    if (!store.append(std::move(batch)))
      std::exit(2);
  }
}

void bench_verify_replay(size_t n) {
  auto dir = temp_dir("verify");
  store_options opts;
  opts.dir = dir;
  opts.create = true;
  opts.initial_map_size = uint64_t{2} << 30;
  auto store = std::move(*journal_store::open(opts));
  // A fleet of 1000 resources first, so applied actions change projected state.
  std::vector<event> reg;
  for (int i = 0; i < 1000; ++i)
    reg.push_back(make_event(event_type::resource_registered, caf::timestamp{},
                             resource_registered{resource_id{"res-" + std::to_string(i)}, "svc",
                                                 "north", {}}));
  store->append(std::move(reg));
  fill(*store, n - 1000);
  double best = 1e18;
  for (int i = 0; i < 3; ++i) {
    auto t0 = clock_type::now();
    auto r = store->verify(seq_no{1}, seq_no{UINT64_MAX}, 2);
    best = std::min(best, ms_since(t0));
    if (!r.ok)
      std::exit(3);
  }
  std::printf("verify %7zu events (2 threads): %8.2f ms (best of 3)\n", n, best);
  best = 1e18;
  for (int i = 0; i < 3; ++i) {
    auto t0 = clock_type::now();
    auto r = replay(*store, replay_options{seq_no{UINT64_MAX}, false, false});
    best = std::min(best, ms_since(t0));
    if (!r)
      std::exit(3);
  }
  std::printf("replay %7zu events from genesis:  %8.2f ms (best of 3)\n", n, best);
  // A snapshot 1000 events before the head, then replay from it.
  auto at = replay(*store, replay_options{seq_no{n - 1000}, false, false});
  store->write_snapshot(at->proj);
  best = 1e18;
  for (int i = 0; i < 3; ++i) {
    auto t0 = clock_type::now();
    auto r = replay(*store, replay_options{seq_no{UINT64_MAX}, true, false});
    best = std::min(best, ms_since(t0));
    if (!r || !r->snapshot)
      std::exit(3);
  }
  std::printf("replay %7zu events from a snapshot 1000 events back: %8.2f ms (best of 3)\n", n,
              best);
  store.reset();
  std::filesystem::remove_all(dir);
}

} // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string{argv[1]} == "--quick";
  if (argc > 1 && !quick) {
    std::printf("usage: journal_bench [--quick]\n");
    return std::string{argv[1]} == "--help" ? 0 : 1;
  }
  print_machine();
  std::printf("events: about 256 bytes stored (30-byte header + payload)\n\n");
  auto dir = temp_dir("fsync");
  double fsync_p99 = 0;
  bench_fsync(dir, fsync_p99);
  std::filesystem::remove_all(dir);
  bench_append(1, quick ? 500 : 3000);
  bench_append(16, quick ? 5000 : 50000);
  bench_append(256, quick ? 25600 : 307200);
  bench_verify_replay(10000);
  if (!quick)
    bench_verify_replay(1000000);
  return 0;
}
