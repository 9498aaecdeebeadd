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

namespace {

uint16_t console_port(const std::string& line) {
  auto at = line.find("console ");
  REQUIRE(at != std::string::npos);
  return static_cast<uint16_t>(std::stoi(line.substr(line.find(':', at) + 1)));
}

/// No answer: the connection closed (the leader is gone) or nothing came within 5 s.
bool gone(const nlohmann::json& r) {
  return r.is_null() || r.is_discarded();
}

/// Waits as a refusal asks (UNAVAILABLE, RATE_LIMITED and OVERLOADED carry retry_after);
/// returns whether the request is worth repeating.
bool back_off(const nlohmann::json& r) {
  if (gone(r) || r["ok"] == true || !r["error"]["retry_after"].is_number())
    return false;
  auto ms = r["error"]["retry_after"].get<int64_t>();
  std::this_thread::sleep_for(std::chrono::milliseconds{std::clamp<int64_t>(ms, 10, 1000)});
  return true;
}

/// A proposal the old leader acknowledged (answered ok).
struct acked {
  std::string key;
  std::string proposal; ///< hex digest
  uint64_t decided_seq = 0;
  nlohmann::json request;
};

nlohmann::json propose(uint64_t id, const std::string& key, int n) {
  char resource[32];
  std::snprintf(resource, sizeof resource, "coaster-north-%02d", 1 + n % 20);
  return {{"id", id},
          {"cmd", "propose"},
          {"args",
           {{"idempotency_key", key},
            {"level", 4},
            {"services", {"coaster"}},
            {"regions", {"north"}},
            {"changes", {{{"resource", resource}, {"key", "mode"},
                          {"value", n % 2 ? "slow" : "normal"}}}}}}};
}

/// Proposals whose `proposal_finished` the journal in `data` holds, by hex digest.
std::set<std::string> finished_in(const std::string& data) {
  std::set<std::string> out;
  auto store = test::open_store(data);
  REQUIRE(!store->read(seq_no{1}, seq_no{UINT64_MAX}, [&](journal_entry&& e) {
    proposal_finished f;
    if (e.ev.type == event_type::proposal_finished && !payload_of(e.ev, f))
      out.insert(to_hex(f.proposal));
    return true;
  }));
  return out;
}

/// Sets sync_followers, and governance limits wide enough that most proposals run (the
/// trial is about replication, not about the rate limit or the fleet's budget).
std::string with_sync(const std::string& config, int k) {
  std::ifstream in{config};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  text.replace(text.find("[cluster]\n"), 10,
               "[cluster]\nsync_followers = " + std::to_string(k) + "\n");
  text.replace(text.find("[authority]\n"), 12,
               "[blast_radius]\nmax_percent = 100.0\nwindow_ms = 1\n[authority]\n"
               "rate_per_second = 100000.0\nburst = 100000.0\n");
  std::ofstream{config} << text;
  return config;
}

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
  test::client conn{wport};
  conn.call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "root-token"}}}});
  for (auto& a : acks) {
    nlohmann::json r;
    // The new leader takes writes once its follower is in step (sync_followers).
    for (int tries = 0; tries < 100; ++tries) {
      r = conn.call(a.request);
      if (gone(r) || !back_off(r))
        break;
    }
    if (gone(r) || r["ok"] != true || r["result"]["decided_seq"] != a.decided_seq) {
      ++out.ran_twice;
      MESSAGE("repeat of " << a.key << " (decided at seq " << a.decided_seq
                           << "): " << r.dump());
    }
  }
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
