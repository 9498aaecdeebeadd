// Embedded engines with a [cluster] section, on 127.0.0.1: proposals given to a follower
// pass the leader's admission, in the class they were given where they entered.

#include <doctest/doctest.h>

#include <future>
#include <mutex>

#include "actors/admission/admission_policy.hpp"
#include "bulwark/engine.hpp"
#include "cluster/cluster_engines.hpp"
#include "engine/engine_impl.hpp"
#include "messages/commands.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::change_mode;
using bulwark::test::cluster_plan;
using bulwark::test::start_engine;
using bulwark::test::synced;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;
using bulwark::test::write_config;

namespace {

/// A leader admitting one proposal at a time and its follower; the leader's effector
/// records the resources it changes and holds the first call until `release()`.
struct held_pair {
  temp_dir dir;
  std::promise<void> go;
  std::shared_future<void> gate = go.get_future().share();
  std::mutex m;
  std::vector<std::string> order;
  std::unique_ptr<engine> leader, follower;

  explicit held_pair(size_t max_queued) {
    auto plan = cluster_plan::make(2);
    auto bounds = "[blast_radius]\nmax_percent = 100.0\n[admission]\nmax_in_flight = 1\n"
                  "max_queued = " + std::to_string(max_queued) + "\nper_principal = 4\n";
    leader = start_engine(dir, write_config(dir, plan, "n1", 0, "", bounds), "d1");
    REQUIRE(leader);
    leader->register_effector("coaster", [this](const effect_request& r) {
      {
        std::lock_guard<std::mutex> lock{m};
        order.push_back(r.resource);
      }
      gate.wait(); // the first holds the one place in flight until the test says
      return effect_result{};
    });
    for (int i = 0; i < 4; ++i)
      REQUIRE(leader->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
    follower = start_engine(dir, write_config(dir, plan, "n2", 0, "", bounds), "d2");
    REQUIRE(follower);
    REQUIRE(wait_until([&] { return follower->head() == leader->head(); }));
  }

  ~held_pair() {
    release();
  }

  void release() {
    if (!released) {
      released = true;
      go.set_value();
    }
  }

  bool released = false;
};

} // namespace

TEST_CASE("proposals given to a follower pass the leader's admission bounds") {
  held_pair f{1};
  auto& leader = f.leader;
  auto& follower = f.follower;
  auto first = follower->submit(change_mode("k1", "coaster-0"));
  REQUIRE(wait_until([&] { return leader->load().in_flight == 1; }));
  auto second = follower->submit(change_mode("k2", "coaster-1"));
  REQUIRE(wait_until([&] { return leader->load().queued == 1; }));
  // The queue's one place is taken: the leader's admission refuses, through the follower
  // as on the leader itself, and nothing of these runs.
  for (auto* eng : {follower.get(), leader.get()}) {
    auto key = eng == leader.get() ? "k4" : "k3";
    auto shed = eng->submit(change_mode(key, "coaster-2")).get();
    CHECK(shed.code == "OVERLOADED");
    CHECK(shed.retry_after);
  }
  CHECK(leader->load().refused == 2);
  f.release();
  CHECK(first.get().status == "succeeded");
  auto r2 = second.get();
  CHECK_MESSAGE(r2.status == "succeeded", r2.code << ": " << r2.message);
  CHECK(leader->load().in_flight == 0);
  CHECK(synced(*leader, *follower));
  CHECK(follower->attribute("coaster-2", "mode") == std::optional<std::string>{});
}

TEST_CASE("a follower forwards a proposal in the class it was given: the operator's runs first") {
  held_pair f{4};
  auto& leader = f.leader;
  auto first = f.follower->submit(change_mode("k1", "coaster-0"));
  REQUIRE(wait_until([&] { return leader->load().in_flight == 1; }));
  auto automated = f.follower->submit(change_mode("k2", "coaster-1")); // "agent": automation
  REQUIRE(wait_until([&] { return leader->load().queued == 1; }));
  // What the follower's console sends: the same principal's proposal, in the operator
  // class (the console's proposals are people's). Queued behind k2, it must run first.
  auto& d = f.follower->internals();
  proposal p;
  p.idempotency_key = "k3";
  p.principal = principal_id{"agent"};
  p.level = authority_level::enforce;
  p.services = {"coaster"};
  p.regions = {"north"};
  p.mutations = {mutation{resource_id{"coaster-2"}, "mode", "slow"}};
  p.justification = "cluster test: a person's proposal";
  p.deadline = caf::make_timestamp() + std::chrono::seconds{30};
  auto people = std::async(std::launch::async, [&] {
    return d.call<outcome>(d.cluster, atom::submit_v, p,
                           static_cast<uint8_t>(admission_class::operator_));
  });
  REQUIRE(wait_until([&] { return leader->load().queued == 2; }));
  f.release();
  CHECK(first.get().status == "succeeded");
  CHECK(automated.get().status == "succeeded");
  auto o = people.get();
  REQUIRE(o);
  CHECK(o->status == proposal_status::succeeded);
  std::lock_guard<std::mutex> lock{f.m};
  CHECK(f.order == std::vector<std::string>{"coaster-0", "coaster-2", "coaster-1"});
}
