// The cluster supervisor: the cluster actor and the command actor, killed under load on a
// leader and a follower, are restarted behind their doors; replication resumes from the
// journal's head, the follower's journal ends equal to the leader's, and every proposal a
// caller saw succeed has exactly one journaled outcome and ran once.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bulwark/engine.hpp"
#include "cluster/cluster_engines.hpp"
#include "cluster/cluster_node.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/event_json.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using bulwark::test::change_mode;
using bulwark::test::pair_fixture;
using bulwark::test::wait_until;

namespace {

const char* wide = "[chaos]\nenabled = true\n[blast_radius]\nmax_percent = 100.0\n";

/// What the leader's journal says: outcomes per proposal, restarted children.
struct journal_view {
  std::map<std::string, int> outcomes;
  std::multiset<std::string> restarted;
};

journal_view read_journal(engine& eng) {
  journal_view out;
  auto err = eng.internals().store->read(seq_no{1}, seq_no{UINT64_MAX}, [&](journal_entry&& e) {
    auto j = to_json(e);
    if (j["type"] == "proposal_finished")
      ++out.outcomes[j["payload"]["proposal"].get<std::string>()];
    if (j["type"] == "actor_restarted")
      out.restarted.insert(j["payload"]["supervisor"].get<std::string>() + "/"
                           + j["payload"]["child"].get<std::string>());
    return true;
  });
  REQUIRE(!err);
  return out;
}

} // namespace

TEST_CASE("the cluster and command actors killed under load on both nodes, replication resumes") {
  pair_fixture fx{wide};
  std::mutex mtx;
  std::map<std::string, int> applied; // forward calls per idempotency key
  fx.leader->register_effector("coaster", [&](const effect_request& r) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!r.compensation)
      ++applied[r.idempotency_key];
    return effect_result{};
  });
  for (int i = 0; i < 40; ++i)
    REQUIRE(fx.leader->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
  fx.synced();
  auto term = fx.leader->cluster_status()->term;
  std::vector<std::future<result>> answers;
  for (int i = 0; i < 40; ++i) {
    auto& via = i % 2 == 0 ? fx.leader : fx.follower;
    answers.push_back(via->submit(change_mode("k" + std::to_string(i),
                                              "coaster-" + std::to_string(i))));
    if (i == 10)
      REQUIRE(fx.follower->chaos_kill("cluster").ok);
    if (i == 20)
      REQUIRE(fx.leader->chaos_kill("cluster").ok);
    if (i == 30)
      REQUIRE(fx.leader->chaos_kill("commands").ok);
    std::this_thread::sleep_for(10ms); // a steady flow, not one burst before the kills
  }
  std::vector<result> results;
  for (auto& f : answers) {
    REQUIRE(f.wait_for(60s) == std::future_status::ready); // a bound against a hang only
    results.push_back(f.get());
  }
  // Both restarted and connected again: a proposal given to the follower runs on the leader.
  bool ran = false;
  result last;
  for (int i = 0; i < 300 && !ran; ++i) {
    auto f = fx.follower->submit(change_mode("after", "coaster-39"));
    REQUIRE(f.wait_for(60s) == std::future_status::ready);
    last = f.get();
    ran = last.ok;
    if (!ran)
      std::this_thread::sleep_for(20ms);
  }
  CHECK_MESSAGE(ran, last.code << ": " << last.message);
  fx.synced(); // the follower's journal ends equal to the leader's
  auto leader_status = fx.leader->cluster_status();
  auto follower_status = fx.follower->cluster_status();
  REQUIRE(leader_status);
  REQUIRE(follower_status);
  CHECK(leader_status->role == "leader"); // the restarted actors kept their roles and term
  CHECK(follower_status->role == "follower");
  CHECK(leader_status->term == term);
  CHECK(follower_status->term == term);
  CHECK(follower_status->leader == "n1");
  CHECK(!follower_status->replication_stopped);
  // An operator command through the restarted command actor, from the follower.
  auto forced = fx.follower->breaker_force("admin", "coaster", true);
  CHECK_MESSAGE(forced.ok, forced.code << ": " << forced.message);
  CHECK(fx.follower->breaker_release("admin", "coaster").ok);
  // The leader journaled its own restarts (a follower's journal takes only the leader's).
  REQUIRE(wait_until([&] {
    auto v = read_journal(*fx.leader);
    return v.restarted.count("cluster/cluster") == 1 && v.restarted.count("cluster/commands") == 1;
  }));
  fx.synced();
  auto view = read_journal(*fx.leader);
  int succeeded = 0;
  for (auto& r : results) {
    if (!r.ok) // refused while a cluster actor was down: said so, never a false outcome
      CHECK_MESSAGE(r.code == "UNAVAILABLE", r.code << ": " << r.message);
    if (r.ok) {
      ++succeeded;
      CHECK(view.outcomes[r.proposal] == 1);
    }
  }
  CHECK(succeeded >= 20); // the kills refuse those in their window; the others run
  for (auto& [id, n] : view.outcomes)
    CHECK(n == 1);
  std::lock_guard<std::mutex> guard{mtx};
  for (auto& [key, n] : applied) {
    CAPTURE(key);
    CHECK(n == 1);
  }
  CHECK(fx.follower->internals().store->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
}

TEST_CASE("chaos kill reaches the cluster supervisor's actors, an unknown name lists them") {
  pair_fixture fx{wide};
  auto names = fx.leader->internals().chaos->targets();
  for (auto* name : {"cluster", "commands", "attempt_keeper"})
    CHECK(std::count(names.begin(), names.end(), name) == 1);
  auto unknown = fx.leader->chaos_kill("nobody");
  CHECK(unknown.code == "INVALID_INPUT");
  for (auto& n : names)
    CHECK(unknown.message.find(n) != std::string::npos);
}
