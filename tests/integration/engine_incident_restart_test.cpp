// The detector and the orchestrator under the watch supervisor: each killed (chaos hook)
// is restarted, the restart is journaled, incidents still open and close afterwards, and
// nothing acknowledged before the crash is lost or decided twice.

#include <doctest/doctest.h>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

/// Chaos on; coaster/north reports 30 % errors while a coaster there runs mode=bad.
struct restart_fixture : engine_fixture {
  restart_fixture() : engine_fixture("[chaos]\nenabled = true\n") {
  }

  double rate(const std::string& service, const std::string& region) {
    for (auto& [k, v] : world)
      if (v == "bad" && service == "coaster" && region == "north"
          && std::stoi(k.substr(8, k.find('/') - 8)) < 20)
        return 0.3;
    return 0.01;
  }

  /// `n` simulated seconds: every series reports; pending rollbacks are approved.
  void tick(int n = 1) {
    for (int i = 0; i < n; ++i) {
      eng->advance(1s);
      for (auto [s, r] : {std::pair{"coaster", "north"}, {"coaster", "south"}, {"gates", "north"}})
        REQUIRE(eng->feed_metric(metric_sample{s, r, rate(s, r), 12.0, eng->now()}));
      for (auto& id : eng->pending_rollbacks())
        CHECK(eng->approve("ops", id).ok);
    }
  }

  int count(const std::string& type, const std::string& text = {}) const {
    int n = 0;
    for (auto& e : events)
      n += e.type == type && e.json.find(text) != std::string::npos;
    return n;
  }

  /// Kills `name` and lets its supervisor restart it (the backoff passes).
  void kill(const std::string& name) {
    auto before = count("actor_restarted", "\"child\":\"" + name + "\"");
    auto r = eng->chaos_kill(name);
    REQUIRE_MESSAGE(r.ok, r.message);
    eng->advance(1s);
    REQUIRE(count("actor_restarted", "\"child\":\"" + name + "\"") == before + 1);
    CHECK(count("actor_restarted", "\"supervisor\":\"watch\"") >= 1);
  }

  incident_info only(const std::string& id) {
    for (auto& i : eng->incidents())
      if (i.id == id)
        return i;
    FAIL("no incident " << id);
    return {};
  }
};

} // namespace

TEST_CASE_FIXTURE(restart_fixture, "a killed detector restarts, open incidents still close, new ones open") {
  tick(20);
  REQUIRE(submit_now(make(4, {set(1, "bad")})).ok);
  tick(35); // detected, promoted, rolled back (approved): recovery is being verified
  auto open = eng->incidents();
  REQUIRE(open.size() == 1);
  auto first = open[0];
  REQUIRE(first.status == "open");
  REQUIRE(first.rollback_result == "succeeded");
  auto counts = eng->metric_stats();
  kill("detector");
  // The restarted detector watches the incident again (from its own start) and closes it.
  tick(40);
  auto closed = only(first.id);
  CHECK(closed.status == "recovered");
  CHECK(closed.mttr > 0ms);
  CHECK(count("incident_closed") == 1);
  // Its sample counts restart (telemetry is not journaled); the journal kept everything.
  CHECK(eng->metric_stats().accepted < counts.accepted + 40 * 3 + 1);
  CHECK(count("incident_opened") == 1);
  // After the warm-up the restarted detector finds a new bad change and its culprit.
  auto second = submit_now(make(4, {set(2, "bad")}));
  REQUIRE(second.ok);
  tick(75);
  auto all = eng->incidents();
  REQUIRE(all.size() == 2);
  for (auto& i : all) {
    CHECK(i.status == "recovered");
    CHECK(i.rollback_result == "succeeded");
  }
  CHECK(world["coaster-1/mode"] == "normal");
  CHECK(world["coaster-2/mode"] == "normal");
}

TEST_CASE_FIXTURE(restart_fixture, "a killed orchestrator restarts with every decided candidate") {
  tick(20);
  kill("orchestrator"); // before any candidate: the restarted one decides the next
  REQUIRE(submit_now(make(4, {set(3, "bad")})).ok);
  tick(35);
  auto incidents = eng->incidents();
  REQUIRE(incidents.size() == 1);
  auto cands = eng->candidates();
  REQUIRE(cands.size() == 1);
  CHECK(cands[0].incident == incidents[0].id);
  kill("orchestrator"); // with a decided candidate and an open incident
  // The restarted orchestrator read the candidate from the journal: a promotion of it
  // answers the same incident and journals nothing.
  auto head = eng->head().first;
  auto again = eng->promote("ops", cands[0].id, "after the restart");
  CHECK_MESSAGE(again.ok, again.message);
  CHECK(again.status == "repeated");
  CHECK(again.proposal == incidents[0].id);
  CHECK(eng->head().first == head);
  tick(40);
  CHECK(only(incidents[0].id).status == "recovered");
  CHECK(count("candidate_decided") == 1);
  CHECK(count("incident_opened") == 1);
  // Both restarts were journaled under the watch supervisor; an unknown name is refused.
  CHECK(count("actor_restarted", "\"child\":\"orchestrator\"") == 2);
  auto unknown = eng->chaos_kill("detectors");
  CHECK(unknown.code == "INVALID_INPUT");
  CHECK(unknown.message.find("detector, ") != std::string::npos); // the names it knows
  CHECK(unknown.message.find("orchestrator, ") != std::string::npos);
}
