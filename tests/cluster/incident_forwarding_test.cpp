// The recovery half through a follower, on real time with short windows: a
// deferred candidate promoted through the follower opens the incident on the leader, and
// its rollback, waiting for an operator, is approved through the follower and reverts the
// culprit; the journal, replicated back, holds each step once.

#include <doctest/doctest.h>

#include <mutex>
#include <thread>

#include "bulwark/engine.hpp"
#include "cluster/cluster_engines.hpp"

using namespace bulwark;
using bulwark::test::count;
using bulwark::test::pair_fixture;
using bulwark::test::wait_until;

namespace {

/// Windows of a few hundred milliseconds, so a real-time incident takes about a second;
/// candidates wait for an operator and their rollbacks for an approval.
const char* short_windows = R"([blast_radius]
max_percent = 100.0
[incident]
confirmation_ms = 300
warmup_samples = 3
verification_ms = 300
verification_timeout_ms = 60000
[[incident.policy]]
id = "default"
verdict = "DEFER"
rollback_level = 1
)";

/// Feeds the leader's detector `n` samples of `rate` for coaster/north, 50 ms apart (a
/// sample may be shed while the node is degraded: the detector then waits for the next).
void feed(engine& eng, double rate, int n) {
  for (int i = 0; i < n; ++i) {
    (void) eng.feed_metric(metric_sample{"coaster", "north", rate, 12.0, eng.now()});
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
}

} // namespace

TEST_CASE("a candidate promoted and its rollback approved through a follower run on the leader") {
  pair_fixture f{short_windows};
  std::mutex m;
  std::string mode = "normal"; // the world the leader's effector changes
  auto rate = [&] { // the error rate follows the world
    std::lock_guard<std::mutex> lock{m};
    return mode == "bad" ? 0.3 : 0.01;
  };
  f.leader->register_effector("coaster", [&](const effect_request& r) {
    std::lock_guard<std::mutex> lock{m};
    mode = r.compensation ? "normal" : "bad";
    return effect_result{};
  });
  REQUIRE(f.leader->register_resource("coaster-1", "coaster", "north", {{"mode", "normal"}}).ok);
  feed(*f.leader, 0.01, 5); // the baseline
  proposal_request p;
  p.idempotency_key = "culprit";
  p.principal = "agent";
  p.level = 4;
  p.services = {"coaster"};
  p.regions = {"north"};
  p.changes = {{"coaster-1", "mode", "bad"}};
  p.justification = "the change that breaks it";
  auto run = f.follower->submit(p).get();
  REQUIRE_MESSAGE(run.status == "succeeded", run.code << ": " << run.message);
  // Samples follow the world until the detector raises a (deferred) candidate.
  REQUIRE(wait_until([&] {
    feed(*f.leader, rate(), 2);
    return !f.leader->candidates().empty();
  }));
  f.synced();
  auto cands = f.follower->candidates(); // read locally, from the replicated journal
  REQUIRE(cands.size() == 1);
  CHECK(cands[0].verdict == "DEFER");
  CHECK(f.leader->incidents().empty());
  auto promoted = f.follower->promote("ops", cands[0].id, "promoted from the follower");
  REQUIRE_MESSAGE(promoted.ok, promoted.code << ": " << promoted.message);
  CHECK(f.follower->promote("ops", cands[0].id).status == "repeated"); // the leader's answer
  // The incident's rollback (level 1) waits for an operator; the follower approves it.
  std::vector<std::string> waiting;
  REQUIRE(wait_until([&] { return !(waiting = f.leader->pending_rollbacks()).empty(); }));
  REQUIRE(waiting.size() == 1);
  auto approved = f.follower->approve("ops", waiting[0], "approved from the follower");
  REQUIRE_MESSAGE(approved.ok, approved.code << ": " << approved.message);
  CHECK(wait_until([&] { return rate() < 0.1; })); // the culprit reverted
  CHECK(f.leader->pending_rollbacks().empty());
  CHECK(wait_until([&] {
    feed(*f.leader, rate(), 2);
    auto incs = f.leader->incidents();
    return incs.size() == 1 && incs[0].status == "recovered";
  }));
  f.synced();
  CHECK(f.follower->attribute("coaster-1", "mode") == std::optional<std::string>{"normal"});
  for (auto* eng : {f.leader.get(), f.follower.get()}) {
    CHECK(count(*eng, "candidate_decided") == 2); // the policy's DEFER, the manual promotion
    CHECK(count(*eng, "incident_opened") == 1);
    CHECK(count(*eng, "rollback_finished") == 1);
  }
  auto incs = f.follower->incidents();
  REQUIRE(incs.size() == 1);
  CHECK(incs[0].id == promoted.proposal);
  CHECK(incs[0].status == "recovered");
}
