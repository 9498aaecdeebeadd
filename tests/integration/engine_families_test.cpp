// The flight families through the engine: one idempotency key across them, a family that
// dies while the others run on, and the pipeline's door answering for all of them.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::restarts_of;
using test::set;
using families_fixture = test::chaos_engine_fixture;

TEST_CASE_FIXTURE(families_fixture, "an idempotency key is held by one proposal across the flight families") {
  // Level 1 waits for its approval in the approved family; a level-4 proposal with its key
  // goes to the autonomous family and is refused there.
  auto waiting = eng->submit(make(1, {set(1, "approved")}, {"coaster"}, {"north"}, "shared"));
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  auto other = submit_now(make(4, {set(2, "autonomous")}, {"coaster"}, {"north"}, "shared"));
  CHECK_FALSE(other.ok);
  CHECK(other.code == "INVALID_INPUT");
  CHECK(other.message.find("was used for another proposal") != std::string::npos);
  CHECK(world.count("coaster-2/mode") == 0);
  // Approved, the first runs; the key stays its own once it is journaled.
  REQUIRE(eng->approve("admin", eng->pending().front().proposal).ok);
  eng->run();
  REQUIRE(waiting.wait_for(0s) == std::future_status::ready);
  CHECK(waiting.get().ok);
  CHECK(world["coaster-1/mode"] == "approved");
  auto again = submit_now(make(3, {set(3, "observed")}, {"coaster"}, {"north"}, "shared"));
  CHECK(again.code == "INVALID_INPUT");
  CHECK(world.count("coaster-3/mode") == 0);
}

TEST_CASE_FIXTURE(families_fixture, "a flight family that dies leaves the others running") {
  auto waiting = eng->submit(make(1, {set(1, "later")}));
  eng->run();
  auto pending = eng->pending();
  REQUIRE(pending.size() == 1);
  REQUIRE(eng->chaos_kill("flights:autonomous").ok);
  // The approved family never stopped: its flight still waits, and an approval runs it.
  CHECK(eng->pending().size() == 1);
  REQUIRE(eng->approve("admin", pending.front().proposal).ok);
  eng->run();
  REQUIRE(waiting.wait_for(0s) == std::future_status::ready);
  CHECK(waiting.get().ok);
  CHECK(world["coaster-1/mode"] == "later");
  eng->advance(1s); // the supervisor's backoff: the level-4 family is back
  CHECK(restarts_of(events, "flights:autonomous") == 1);
  CHECK(restarts_of(events, "flights:approved") == 0);
  auto r = submit_now(make(4, {set(2, "after")}));
  CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(world["coaster-2/mode"] == "after");
}

TEST_CASE_FIXTURE(families_fixture, "the pipeline's door lists every family's flights, in proposal order") {
  // Level 1 and level 2 wait for approval (one family); level 3 observes its step (another).
  auto one = eng->submit(make(1, {set(1, "a")}));
  auto two = eng->submit(make(2, {set(2, "b"), set(3, "b")}));
  auto three = eng->submit(make(3, {set(4, "c")}));
  eng->run();
  auto waiting = eng->pending();
  auto running = eng->running();
  CHECK(waiting.size() == 2);
  REQUIRE(running.size() == 1);
  CHECK(running.front().level == 3);
  std::vector<std::string> ids;
  for (auto& p : waiting)
    ids.push_back(p.proposal);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  // Every family's flights finish as before.
  for (auto& p : waiting)
    REQUIRE(eng->approve("admin", p.proposal).ok);
  eng->advance(6s); // the level-3 observation window
  for (auto* f : {&one, &two, &three}) {
    REQUIRE(f->wait_for(0s) == std::future_status::ready);
    CHECK(f->get().ok);
  }
  CHECK(eng->pending().empty());
  CHECK(eng->running().empty());
}
