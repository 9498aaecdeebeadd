// Failover trials on real `bulwark node` processes: three nodes, the leader with
// sync_followers = 1, console clients submitting level-4 proposals; the leader is
// SIGKILLed under load and the follower with the newest head is promoted. Every proposal
// the old leader acknowledged must be in the new leader's journal, finished, and a repeat
// of its key there must run nothing again.
//
// BULWARK_FAILOVER_TRIALS sets the number of trials (default 2);
// BULWARK_FAILOVER_SYNC=0 runs them without synchronous replication (to measure what
// asynchronous replication loses: the test then reports instead of checking).

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cluster/cluster_processes.hpp"
#include "cluster/trial_support.hpp"
#include "integration/node_process.hpp"
#include "messages/events.hpp"
#include "persistence/make_event.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_plan;
using bulwark::test::processes::fleet_file;
using bulwark::test::processes::node_process;
using bulwark::test::processes::same_head;
using bulwark::test::processes::write_config;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;
using namespace bulwark::test::trials;

namespace {

struct trial_result {
  size_t acked = 0;
  size_t lost = 0;
  size_t ran_twice = 0;
};

trial_result run_trial(int trial, int sync) {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  auto c1 = with_sync(write_config(dir, plan, "n1"), sync);
  auto c2 = with_sync(write_config(dir, plan, "n2"), sync);
  auto c3 = with_sync(write_config(dir, plan, "n3"), sync);
  auto n1 = std::make_unique<node_process>(c1, dir.sub("d1"), fleet_file);
  node_process n2{c2, dir.sub("d2")};
  node_process n3{c3, dir.sub("d3")};
  REQUIRE(wait_until([&] {
    return same_head(dir.sub("d1"), dir.sub("d2")) && same_head(dir.sub("d1"), dir.sub("d3"));
  }));
  // The leader registers its fleet once a follower is in step (sync_followers).
  REQUIRE(wait_until([&] {
    return test::processes::replay_json(dir.sub("d1"))["resources"] == 400;
  }));
  auto port = console_port(n1->first_line);
  std::mutex mtx;
  std::vector<acked> acks;
  std::map<std::string, size_t> other; // answers other than succeeded, by status or code
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      test::client conn{port};
      auto auth = conn.call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "root-token"}}}});
      if (gone(auth) || auth["ok"] != true)
        return;
      for (int i = 1; !stop; ++i) {
        auto key = "t" + std::to_string(trial) + "-c" + std::to_string(c) + "-" + std::to_string(i);
        auto req = propose(static_cast<uint64_t>(i), key, c * 1000 + i);
        auto r = conn.call(req);
        if (gone(r))
          return; // the leader is gone
        if (r["ok"] == true && r["result"]["status"] == "succeeded") {
          std::lock_guard<std::mutex> guard{mtx};
          acks.push_back(acked{key, r["result"]["proposal"], r["result"]["decided_seq"], req});
        } else {
          {
            std::lock_guard<std::mutex> guard{mtx};
            ++other[r["ok"] == true ? r["result"]["status"].get<std::string>()
                                    : r["error"]["code"].get<std::string>()];
          }
          back_off(r); // as a well-behaved client does
        }
      }
    });
  // Load for a while, then the leader dies at once.
  REQUIRE(wait_until([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return acks.size() >= 200;
  }));
  if (trial == 1) {
    // What the leader shows of its synchronous replication, in the console and the metrics.
    test::client conn{port};
    conn.call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "root-token"}}}});
    auto c = conn.call({{"id", 1}, {"cmd", "cluster"}});
    INFO(c.dump());
    REQUIRE(c["ok"] == true);
    CHECK(c["result"]["sync_followers"] == sync);
    uint64_t confirmed = 0;
    for (auto& peer : c["result"]["peers"])
      confirmed = std::max(confirmed, peer["confirmed"].get<uint64_t>());
    if (sync > 0) {
      CHECK(c["result"]["replicated"].get<uint64_t>() > 0);
      CHECK(confirmed >= c["result"]["replicated"].get<uint64_t>());
    }
    auto metrics =
      test::client{test::processes::metrics_port(n1->first_line)}.http_get("/metrics");
    CHECK(metrics.find("bulwark_cluster_sync_followers " + std::to_string(sync))
          != std::string::npos);
    CHECK(metrics.find("bulwark_cluster_replicated_seq ") != std::string::npos);
  }
  n1->stop(SIGKILL);
  stop = true;
  for (auto& t : clients)
    t.join();
  // Promote the follower with the newest head (the other is refused: "catch up first").
  auto h2 = test::open_store(dir.sub("d2"))->head().value;
  auto h3 = test::open_store(dir.sub("d3"))->head().value;
  auto& winner = h2 >= h3 ? n2 : n3;
  auto wdata = dir.sub(h2 >= h3 ? "d2" : "d3");
  auto wport = console_port(winner.first_line);
  nlohmann::json p;
  CHECK(wait_until([&] {
    test::client conn{wport};
    conn.call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "root-token"}}}});
    p = conn.call({{"id", 1}, {"cmd", "cluster-promote"}, {"args", {{"term", 2}}}});
    return !gone(p) && (p["ok"] == true || p["error"]["code"] != "UNAVAILABLE");
  }));
  INFO(p.dump());
  REQUIRE(p["ok"] == true);
  trial_result out;
  out.acked = acks.size();
  auto finished = finished_in(wdata);
  for (auto& a : acks)
    out.lost += finished.count(a.proposal) == 0 ? 1 : 0;
  // A repeat of every acknowledged key on the new leader: the journaled outcome, the same
  // decision, nothing run again.
  out.ran_twice = repeats_differing(wport, acks);
  MESSAGE("trial " << trial << " (sync_followers " << sync << "): " << out.acked
                   << " acknowledged, " << out.lost << " lost, " << out.ran_twice
                   << " answered differently on repeat; old head seq "
                   << test::open_store(dir.sub("d1"))->head().value << ", new leader's "
                   << h2 << "/" << h3 << "; other answers: " << nlohmann::json(other).dump());
  return out;
}

} // namespace

TEST_CASE("with sync_followers = 1 a leader SIGKILLed under load loses no acknowledged decision") {
  int trials = 2;
  if (auto* t = std::getenv("BULWARK_FAILOVER_TRIALS"))
    trials = std::max(1, std::atoi(t));
  int sync = 1;
  if (auto* s = std::getenv("BULWARK_FAILOVER_SYNC"))
    sync = std::atoi(s);
  trial_result total;
  for (int t = 1; t <= trials; ++t) {
    auto r = run_trial(t, sync);
    total.acked += r.acked;
    total.lost += r.lost;
    total.ran_twice += r.ran_twice;
  }
  MESSAGE(trials << " trials: " << total.acked << " acknowledged, " << total.lost << " lost, "
                 << total.ran_twice << " answered differently on repeat");
  CHECK(total.acked >= static_cast<size_t>(200 * trials));
  if (sync > 0) {
    CHECK(total.lost == 0);
    CHECK(total.ran_twice == 0);
  }
}
