// Cluster benchmark: replication lag (leader commit -> follower durable) at a fixed rate
// with two followers on 127.0.0.1, and the time a follower takes to catch up N events.
// Usage: cluster_bench [--quick]   (figures go to docs/performance.md, "Cluster")

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/cluster/cluster.hpp"
#include "actors/journal/journal.hpp"
#include "bench/bench_util.hpp"
#include "messages/error.hpp"
#include "messages/events.hpp"
#include "messages/register.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {


#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
constexpr uint64_t fleet_size = 1000; // resources the applied actions change

caf::timestamp time_of(uint64_t i) {
  return caf::timestamp{std::chrono::milliseconds{1'700'000'000'000 + int64_t(i)}};
}

/// Event `i` of the stream (about 256 bytes stored): the fleet's registrations first, then
/// changes of its resources, as in journal_bench.
event event_of(uint64_t i) {
  auto id = resource_id{"r" + std::to_string(10'000 + i % fleet_size)};
  if (i < fleet_size) {
    resource_registered x{id, "svc", "north", {{"note", std::string(150, 'n')}}};
    return make_event(event_type::resource_registered, time_of(i), x, trace_id{i});
  }
  action_applied x;
  std::memcpy(x.proposal.bytes.data(), &i, sizeof i);
  x.resource = id;
  x.key = "setting";
  x.new_value.assign(150, 'v');
  return make_event(event_type::action_applied, time_of(i), x, trace_id{i});
}
#pragma GCC diagnostic pop

struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<journal_store> store;
  journal_actor journal;
  cluster_actor cluster;

  node(const std::string& dir, cluster_config c) {
    register_types(cfg);
    tune_scheduler(cfg);
    cfg.load<caf::io::middleman>();
    sys = std::make_unique<caf::actor_system>(cfg);
    store_options opts;
    opts.dir = dir;
    opts.create = true;
    store = std::move(*journal_store::open(opts));
    journal = *spawn_journal(*sys, store, journal_settings{});
    cluster_deps deps;
    deps.cfg = std::move(c);
    deps.journal = journal;
    deps.store = store;
    auto h = spawn_cluster(*sys, std::move(deps));
    if (!h)
      throw std::runtime_error(describe(h.error()).message);
    cluster = h->actor;
  }
  ~node() {
    caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
    journal = nullptr;
    cluster = nullptr;
    sys.reset();
  }
};

std::vector<peer_address> plan(size_t n) {
  std::vector<peer_address> out;
  for (size_t i = 1; i <= n; ++i)
    out.push_back(peer_address{"n" + std::to_string(i), "127.0.0.1", free_loopback_port()});
  return out;
}

cluster_config config_of(const std::vector<peer_address>& nodes, size_t me) {
  cluster_config c;
  c.node_id = nodes[me].node_id;
  c.cluster_id = "bench";
  c.leader = "n1";
  c.listen_port = nodes[me].port;
  c.tick = std::chrono::milliseconds{5};
  for (size_t i = 0; i < nodes.size(); ++i)
    if (i != me)
      c.peers.push_back(nodes[i]);
  return c;
}

void catch_up(uint64_t n) {
  temp_root root{"cluster-bench"};
  {
    store_options opts;
    opts.dir = root.sub("n1");
    opts.create = true;
    auto store = std::move(*journal_store::open(opts));
    for (uint64_t i = 0; i < n; i += 10000) {
      std::vector<event> batch;
      for (uint64_t j = i; j < std::min(n, i + 10000); ++j)
        batch.push_back(event_of(j));
      if (!store->append(std::move(batch)))
        throw std::runtime_error("prefill failed");
    }
  }
  auto nodes = plan(2);
  node leader{root.sub("n1"), config_of(nodes, 0)};
  auto target = leader.store->head().value;
  auto t0 = clock_type::now();
  node follower{root.sub("n2"), config_of(nodes, 1)};
  while (follower.store->head().value < target)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  auto ms = ms_since(t0);
  std::printf("catch-up: %llu events in %.0f ms (%.0f events/s), batches of %u\n",
              static_cast<unsigned long long>(target), ms, target / ms * 1000,
              config_of(nodes, 1).max_batch);
}

void lag(double rate, double seconds) {
  temp_root root{"cluster-bench"};
  auto nodes = plan(3);
  node leader{root.sub("n1"), config_of(nodes, 0)};
  node f2{root.sub("n2"), config_of(nodes, 1)};
  node f3{root.sub("n3"), config_of(nodes, 2)};
  // Let the followers connect (and the leader journal them) before measuring.
  while (f2.store->head() != leader.store->head() || f3.store->head() != leader.store->head()
         || leader.store->head().value < 2)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  std::mutex m;
  std::vector<std::pair<uint64_t, clock_type::time_point>> acked; // last seq of a batch
  std::atomic<int> running{4};
  std::atomic<uint64_t> next_event{0};
  const uint64_t per_batch = 125;
  auto interval = std::chrono::duration<double>(per_batch * 4 / rate);
  // Four appenders, each at a quarter of the rate: the journal's group commit joins them.
  auto appender = [&] {
    caf::scoped_actor self{*leader.sys};
    auto start = clock_type::now();
    for (int b = 0; ms_since(start) < seconds * 1000; ++b) {
      std::vector<event> batch;
      for (uint64_t j = 0; j < per_batch; ++j)
        batch.push_back(event_of(next_event++));
      self->request(leader.journal, std::chrono::seconds{30}, atom::append_v, std::move(batch))
        .receive([&](appended& a) {
                   std::lock_guard<std::mutex> g{m};
                   acked.emplace_back(a.last.value, clock_type::now());
                 },
                 [](caf::error&) {});
      std::this_thread::sleep_until(start + std::chrono::duration_cast<clock_type::duration>(
                                              interval * (b + 1)));
    }
    --running;
  };
  std::vector<std::thread> appenders;
  for (int k = 0; k < 4; ++k)
    appenders.emplace_back(appender);
  std::vector<double> lags;
  size_t next = 0;
  auto t0 = clock_type::now();
  while (true) {
    auto h = std::min(f2.store->head().value, f3.store->head().value);
    auto now = clock_type::now();
    {
      std::lock_guard<std::mutex> g{m};
      // Acks of concurrent appenders arrive out of seq order: keep the unseen ones.
      for (auto& [seq, at] : acked)
        if (seq != 0 && seq <= h) {
          lags.push_back(std::chrono::duration<double, std::milli>(now - at).count());
          seq = 0;
        }
      next = static_cast<size_t>(std::count_if(acked.begin(), acked.end(),
                                               [](auto& x) { return x.first == 0; }));
      if (running == 0 && next == acked.size())
        break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
  for (auto& t : appenders)
    t.join();
  auto total = static_cast<double>(acked.size() * per_batch);
  auto wall = ms_since(t0) / 1000;
  std::printf("lag at %.0f events/s asked (%.0f achieved, %zu batches of %llu), 2 followers: "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              rate, total / wall, acked.size(), static_cast<unsigned long long>(per_batch),
              percentile(lags, 50), percentile(lags, 99), percentile(lags, 100));
}

} // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string{argv[1]} == "--quick";
  spdlog::set_level(spdlog::level::warn);
  print_machine();
  lag(50'000, quick ? 2 : 5);
  catch_up(quick ? 100'000 : 1'000'000);
}
