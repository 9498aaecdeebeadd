// The authority under the governance supervisor: fail closed while it is down, resume
// after its restart (rebuilt from the journal), journal every restart, escalate a storm;
// the doors under theirs.

#include <doctest/doctest.h>

#include "caf/send.hpp"

#include "actors/circuit_breaker/effectors.hpp"
#include "bulwark/engine_caf.hpp"
#include "engine/engine_impl.hpp"
#include "integration/engine_doors.hpp"
#include "integration/engine_fixture.hpp"
#include "integration/journal_records.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

void kill_authority(engine& eng) {
  auto h = handles_of(eng);
  caf::anon_send_exit(h.authority, caf::exit_reason::kill);
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "no mutation passes while the authority is down, all resume after its restart") {
  REQUIRE(eng->halt("admin", "before the crash").ok);
  kill_authority(*eng);
  eng->run();
  auto down = submit_now(make(4, {set(1, "x")}));
  CHECK(down.code == "GOVERNANCE_FAILURE");
  CHECK(calls.empty());
  auto read = submit_now(make(0, {}, {}, {}));
  CHECK(read.ok); // reads go on
  eng->advance(100ms); // the supervisor's first backoff is 50 ms
  // The restarted authority rebuilt the halt from the journal: still halted.
  CHECK(submit_now(make(4, {set(1, "x")})).code == "HALTED");
  REQUIRE(eng->release("admin", "after the crash").ok);
  CHECK(submit_now(make(4, {set(1, "y")})).ok);
  int restarts = 0;
  for (auto& e : events)
    if (e.type == "actor_restarted") {
      ++restarts;
      CHECK(e.json.find("\"child\":\"authority\"") != std::string::npos);
    }
  CHECK(restarts == 1);
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(engine_fixture, "a restart storm escalates and the engine stays closed") {
  for (int i = 0; i < 6; ++i) {
    kill_authority(*eng);
    eng->run();
    eng->advance(1s);
  }
  bool escalated = false;
  for (auto& e : events)
    escalated |= e.type == "actor_restarted"
                 && e.json.find("\"escalated\":true") != std::string::npos;
  CHECK(escalated);
  CHECK(submit_now(make(4, {set(2, "x")})).code == "GOVERNANCE_FAILURE");
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "journal write failures: nothing runs without its decision journaled") {
  auto before = eng->head().first;
  eng->inject_journal_failures(true);
  for (int level : {1, 2, 3, 4}) {
    auto r = submit_now(make(level, {set(level, "x")}));
    CAPTURE(level);
    CHECK(r.code == "AUDIT_UNAVAILABLE");
    eng->advance(std::chrono::hours{1}); // refusals still count in the rolling window
  }
  CHECK(calls.empty()); // the effectors' own record: not one call
  CHECK(eng->halt("admin", "x").code == "AUDIT_UNAVAILABLE");
  CHECK(eng->head().first == before);
  eng->inject_journal_failures(false);
  CHECK(submit_now(make(4, {set(1, "y")})).ok);
  CHECK(calls.size() == 1);
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(engine_fixture, "a crashed breaker is restarted by the execution supervisor") {
  auto h = handles_of(*eng);
  breaker_directory::entry e;
  REQUIRE(h.breakers->find("coaster", e));
  auto old = e.handle;
  caf::anon_send_exit(e.handle, caf::exit_reason::kill);
  eng->run();
  eng->advance(100ms);
  REQUIRE(h.breakers->find("coaster", e));
  CHECK(e.handle != old);
  CHECK(submit_now(make(4, {set(1, "after-restart")})).ok);
  bool journaled = false;
  for (auto& ev : events)
    journaled |= ev.type == "actor_restarted"
                 && ev.json.find("\"child\":\"breaker:coaster\"") != std::string::npos;
  CHECK(journaled);
}

TEST_CASE_FIXTURE(engine_fixture, "a restarted breaker takes over its gate: state and timers survive the crash") {
  auto h = handles_of(*eng);
  // A retryable failure leaves a retry waiting on the breaker's timer.
  int attempts = 0;
  eng->register_effector("gates", [&](const effect_request&) {
    ++attempts;
    return attempts < 2 ? effect_result{false, "busy", true} : effect_result{};
  });
  auto f = eng->submit(make(4, {change{"gate-1", "mode", "x"}}, {"gates"}));
  eng->run();
  CHECK(attempts == 1);
  breaker_directory::entry e;
  REQUIRE(h.breakers->find("gates", e));
  auto old = e.handle;
  caf::anon_send_exit(e.handle, caf::exit_reason::kill);
  eng->run();
  eng->advance(100ms);
  REQUIRE(h.breakers->find("gates", e));
  CHECK(e.handle != old);
  // The successor re-armed the retry: it runs after its backoff and the call succeeds.
  eng->advance(2s);
  CHECK(attempts == 2);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(f.get().ok);
  // A forced state, too, outlives a crash of the actor.
  REQUIRE(eng->breaker_force("admin", "gates", true).ok);
  REQUIRE(h.breakers->find("gates", e));
  caf::anon_send_exit(e.handle, caf::exit_reason::kill);
  eng->run();
  eng->advance(100ms);
  bool forced = false;
  for (auto& b : eng->breakers())
    forced |= b.service == "gates" && b.state == "forced-open";
  CHECK(forced);
  CHECK(submit_now(make(4, {change{"gate-2", "mode", "x"}}, {"gates"})).code == "CIRCUIT_OPEN");
}

TEST_CASE_FIXTURE(engine_fixture, "the doors are supervised: a door's end is journaled as an "
                                  "escalation and its room refuses from then on") {
  auto applied = submit_now(make(4, {set(3, "changed")}));
  REQUIRE(applied.ok);
  auto door = test::door_of(*eng, "rollback");
  REQUIRE(door);
  caf::anon_send_exit(door, caf::exit_reason::kill);
  door = nullptr;
  eng->run();
  auto restarts = test::stored(*eng, "actor_restarted");
  REQUIRE(restarts.size() == 1);
  CHECK(restarts[0]["payload"]["supervisor"] == "doors");
  CHECK(restarts[0]["payload"]["child"] == "door:rollback");
  CHECK(restarts[0]["payload"]["escalated"] == true);
  // The rollback room answers nobody: an operator's rollback fails and changes nothing.
  auto effects = test::stored(*eng, "action_applied");
  REQUIRE(effects.size() == 1);
  auto rb = eng->rollback_seqs("ops", {effects[0]["seq"].get<uint64_t>()}, "undo");
  CHECK_FALSE(rb.ok);
  CHECK(rb.code == "UNAVAILABLE"); // at once, not after a timeout
  CHECK(world["coaster-3/mode"] == "changed");
  CHECK(test::stored(*eng, "rollback_requested").empty());
  // The other rooms go on.
  CHECK(submit_now(make(4, {set(4, "x")})).ok);
}

TEST_CASE_FIXTURE(engine_fixture, "a door ended in order is no escalation, a killed one is") {
  auto escalations = [&] {
    int n = 0;
    for (auto& r : test::stored(*eng, "actor_restarted"))
      n += r["payload"]["supervisor"] == "doors";
    return n;
  };
  auto rollback = test::door_of(*eng, "rollback");
  REQUIRE(rollback);
  caf::anon_send_exit(rollback, caf::exit_reason::user_shutdown); // as a node's stop ends its console's
  rollback = nullptr;
  eng->run();
  CHECK(escalations() == 0);
  auto blast = test::door_of(*eng, "blast_radius");
  REQUIRE(blast);
  caf::anon_send_exit(blast, caf::exit_reason::kill);
  blast = nullptr;
  eng->run();
  CHECK(escalations() == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "a stop ends the doors without an escalation") {
  REQUIRE(submit_now(make(4, {set(3, "x")})).ok);
  restart();
  REQUIRE(submit_now(make(4, {set(4, "y")})).ok);
  for (auto& r : test::stored(*eng, "actor_restarted"))
    CHECK(r["payload"]["supervisor"] != "doors");
}
