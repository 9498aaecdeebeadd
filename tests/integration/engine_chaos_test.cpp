// Chaos hooks: off by default, enabled by configuration or test; effector faults, journal
// write failures, killing a supervised actor (restarted), delayed messages.

#include <doctest/doctest.h>

#include <map>

#include "engine/engine_impl.hpp"
#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

struct chaos_fixture : engine_fixture {
  chaos_fixture() : engine_fixture("[chaos]\nenabled = true\n") {
  }
};

int count(const std::vector<committed_event>& events, const std::string& type,
          const std::string& text = {}) {
  int n = 0;
  for (auto& e : events)
    n += e.type == type && e.json.find(text) != std::string::npos;
  return n;
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "chaos hooks are off by default and refuse every fault") {
  for (auto r : {eng->chaos_fail_effector("coaster", 1), eng->chaos_kill("authority"),
                 eng->chaos_fail_journal(true), eng->chaos_delay_messages(10ms),
                 eng->chaos_delay_effector("coaster", 10ms)}) {
    CHECK(!r.ok);
    CHECK(r.code == "AUTHORITY_DENIED");
    CHECK(r.message.find("[chaos] enabled") != std::string::npos);
  }
  CHECK(submit_now(make(4, {set(1, "x")})).ok); // nothing was injected
  CHECK(calls.size() == 1);
}

TEST_CASE_FIXTURE(chaos_fixture, "chaos: failed effector calls are retried and then fail") {
  REQUIRE(eng->chaos_fail_effector("coaster", 1).ok);
  // One injected outage: the breaker retries (same idempotency key) and the call succeeds.
  auto once = eng->submit(make(4, {set(1, "x")}));
  eng->advance(5s);
  CHECK(once.get().ok);
  CHECK(calls.size() == 1); // the injected failure never reached the host's effector
  CHECK(world["coaster-1/mode"] == "x");
  // Failing more calls than the attempts: the action fails and nothing is applied.
  REQUIRE(eng->chaos_fail_effector("coaster", 100).ok);
  auto many = eng->submit(make(4, {set(2, "y")}));
  eng->advance(30s);
  auto r = many.get();
  CHECK(!r.ok);
  CHECK(world.count("coaster-2/mode") == 0);
  CHECK(eng->chaos_fail_effector("coaster", 0).ok); // cleared
  eng->advance(5min); // let the breaker close again
  // Another principal: agent's rolling blast-radius window already holds two resources.
  auto after = submit_now(make(4, {set(3, "z")}, {"coaster"}, {"north"}, {}, "ops"));
  CHECK_MESSAGE(after.ok, after.code << ": " << after.message);
}

TEST_CASE_FIXTURE(chaos_fixture, "chaos: journal write failures refuse every action before it runs") {
  auto before = eng->head().first;
  REQUIRE(eng->chaos_fail_journal(true).ok);
  CHECK(submit_now(make(4, {set(1, "x")})).code == "AUDIT_UNAVAILABLE");
  CHECK(calls.empty());
  CHECK(eng->head().first == before);
  REQUIRE(eng->chaos_fail_journal(false).ok);
  CHECK(submit_now(make(4, {set(1, "y")})).ok);
}

TEST_CASE_FIXTURE(chaos_fixture, "chaos: a killed actor is restarted by its supervisor") {
  for (auto* name : {"authority", "health", "breaker:coaster"}) {
    CAPTURE(name);
    auto r = eng->chaos_kill(name);
    CHECK(r.ok);
    eng->advance(1s);
    CHECK(count(events, "actor_restarted", std::string{"\"child\":\""} + name + "\"") == 1);
  }
  CHECK(submit_now(make(4, {set(1, "after")})).ok);
  auto rounds = eng->health().rounds;
  eng->advance(2s);
  CHECK(eng->health().rounds > rounds); // the restarted health actor samples again
  auto unknown = eng->chaos_kill("nobody");
  CHECK(unknown.code == "INVALID_INPUT");
  CHECK(unknown.message.find("unknown actor 'nobody'") != std::string::npos);
  CHECK(unknown.message.find("journal") != std::string::npos); // the names it knows
}

TEST_CASE_FIXTURE(chaos_fixture, "chaos: kill reaches every supervised actor of the engine by name") {
  // Every long-lived actor of an engine without [cluster] (a clustered one adds `cluster`
  // and `commands`; a node adds `console` and `http_feed`), each restarted by its
  // supervisor; the fixture's subscriber (which collects `events`) among them.
  const std::vector<std::string> families = {"flights:approved", "flights:autonomous",
                                             "flights:observed", "flights:read"};
  const std::vector<std::string> names = {
    "admission",        "attempt_keeper",     "authority",        "blast_radius",
    "detector",         "flights:approved",   "flights:autonomous", "flights:observed",
    "flights:read",     "health",             "journal",          "orchestrator",
    "pipeline",         "rollback",           "subscriber:1"};
  CHECK(eng->internals().chaos->targets() == names);
  std::map<std::string, int> expected; // restarts journaled per child
  for (auto& name : names) {
    CAPTURE(name);
    auto r = eng->chaos_kill(name);
    CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
    eng->advance(3s); // spread: a supervisor allows 5 restarts in 10 s
    if (name == "pipeline") // the four flight families at once, each restarted
      for (auto& f : families)
        ++expected[f];
    else
      ++expected[name];
    for (auto& [child, n] : expected) {
      CAPTURE(child);
      CHECK(count(events, "actor_restarted", "\"child\":\"" + child + "\"") == n);
    }
  }
  CHECK(count(events, "actor_restarted", "\"escalated\":true") == 0);
  CHECK(submit_now(make(4, {set(1, "after")})).ok);
  CHECK(eng->chaos_kill("breaker:nothing").code == "INVALID_INPUT");
  // The restarted subscriber missed no event and saw none twice: seqs follow one another.
  REQUIRE(!events.empty());
  for (size_t i = 1; i < events.size(); ++i)
    CHECK(events[i].seq == events[i - 1].seq + 1);
  CHECK(events.back().seq == eng->head().first);
}

TEST_CASE_FIXTURE(chaos_fixture, "chaos: delayed messages reach the pipeline late, and in order") {
  REQUIRE(eng->chaos_delay_messages(500ms).ok);
  auto f = eng->submit(make(4, {set(1, "late")}));
  eng->run();
  CHECK(f.wait_for(0s) != std::future_status::ready);
  CHECK(calls.empty());
  eng->advance(499ms);
  CHECK(calls.empty());
  eng->advance(1ms);
  CHECK(f.get().ok);
  CHECK(calls.size() == 1);
  REQUIRE(eng->chaos_delay_messages(0ms).ok);
  CHECK(submit_now(make(4, {set(2, "now")})).ok);
  CHECK(eng->chaos_delay_messages(-1ms).code == "INVALID_INPUT");
}

TEST_CASE_FIXTURE(chaos_fixture, "chaos: disabling the hooks clears every fault") {
  REQUIRE(eng->chaos_fail_effector("coaster", 100).ok);
  REQUIRE(eng->chaos_fail_journal(true).ok);
  REQUIRE(eng->chaos_enable(false).ok);
  CHECK(submit_now(make(4, {set(1, "x")})).ok);
  CHECK(eng->chaos_kill("authority").code == "AUTHORITY_DENIED");
}

TEST_CASE_FIXTURE(chaos_fixture, "chaos restart storm: VAL-4 warns before the supervisor escalates") {
  eng->advance(1s);
  for (int i = 0; i < 6; ++i) {
    REQUIRE(eng->chaos_kill("authority").ok);
    eng->advance(1s);
  }
  int warned = -1, escalated = -1;
  for (size_t i = 0; i < events.size(); ++i) {
    if (warned < 0 && events[i].type == "early_warning"
        && events[i].json.find("\"VAL-4\"") != std::string::npos)
      warned = static_cast<int>(i);
    if (escalated < 0 && events[i].type == "actor_restarted"
        && events[i].json.find("\"escalated\":true") != std::string::npos)
      escalated = static_cast<int>(i);
  }
  REQUIRE(warned >= 0);
  REQUIRE(escalated >= 0);
  CHECK(warned < escalated);
  CHECK(submit_now(make(4, {set(1, "x")})).code == "GOVERNANCE_FAILURE");
  CHECK(calls.empty());
}
