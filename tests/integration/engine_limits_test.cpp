// Blast radius, rate limits, bad input, idempotency across a restart, and a property
// test of the write-ahead order, through the embedding API on the virtual clock.

#include <doctest/doctest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "actors/blast_radius/blast_radius.hpp"
#include "engine/engine_impl.hpp"
#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

TEST_CASE_FIXTURE(engine_fixture, "percent scope: exactly 5% passes, one resource more fails") {
  // 40 coasters in the north: 5% = 2 resources (80 in the service: 4).
  CHECK(submit_now(make(4, {set(1, "a"), set(2, "a")})).ok);
  auto r = submit_now(make(4, {set(3, "a"), set(4, "a"), set(5, "a")}, {"coaster"},
                           {"north"}, "", "ops"));
  CHECK(r.code == "BLAST_RADIUS_EXCEEDED");
  CHECK(r.message.find("percent scope: 3 of 40 coaster in north") != std::string::npos);
  CHECK(r.message.find("limit 5%") != std::string::npos);
}

TEST_CASE_FIXTURE(engine_fixture, "a small fleet may always change one resource") {
  // 10 gates: 5% is 0.5, rounded down to 0, raised to the minimum of 1.
  CHECK(submit_now(make(4, {change{"gate-1", "mode", "x"}}, {"gates"})).ok);
  auto two = submit_now(make(4, {change{"gate-2", "mode", "x"}, change{"gate-3", "mode", "x"}},
                             {"gates"}, {"north"}, "", "ops"));
  CHECK(two.code == "BLAST_RADIUS_EXCEEDED");
}

TEST_CASE_FIXTURE(engine_fixture, "service and region scope name their dimension") {
  auto services = submit_now(make(4, {set(1, "a")}, {"coaster", "gates"}));
  CHECK(services.code == "BLAST_RADIUS_EXCEEDED");
  CHECK(services.message.find("service scope: 2 services asked, limit 1") != std::string::npos);
  auto regions = submit_now(make(4, {set(1, "a")}, {"coaster"}, {"north", "south"}));
  CHECK(regions.code == "BLAST_RADIUS_EXCEEDED");
  CHECK(regions.message.find("region scope") != std::string::npos);
}

TEST_CASE_FIXTURE(engine_fixture, "the fleet-wide budget stops a change sliced into small ones, by anyone") {
  CHECK(submit_now(make(4, {set(1, "a")})).ok);
  CHECK(submit_now(make(4, {set(2, "a")})).ok);
  auto third = submit_now(make(4, {set(3, "a")}));
  CHECK(third.code == "BLAST_RADIUS_EXCEEDED");
  CHECK(third.message.find("fleet-wide budget: 3 of 40 coaster in north") != std::string::npos);
  // Another principal shares the budget; the same resources again are not new.
  CHECK(submit_now(make(4, {set(3, "b")}, {"coaster"}, {"north"}, "", "ops")).code
        == "BLAST_RADIUS_EXCEEDED");
  CHECK(submit_now(make(4, {set(1, "b")}, {"coaster"}, {"north"}, "", "ops")).ok);
  // The south is a region of its own, within the service's 4.
  CHECK(submit_now(make(4, {set(21, "a"), set(22, "a")}, {"coaster"}, {"south"})).ok);
  eng->advance(std::chrono::hours{1});
  CHECK(submit_now(make(4, {set(3, "a")})).ok);
}

namespace {

/// 100 pumps in the east, so that 5 % is five of them and 4 % is four.
void add_pumps(engine_fixture& f) {
  for (int i = 0; i < 100; ++i)
    REQUIRE(f.eng->register_resource("pump-" + std::to_string(i), "pumps", "east").ok);
  f.eng->register_effector("pumps", [&f](const effect_request& r) { return f.effect(r); });
}

proposal_request pumps(int from, int n, const std::string& who, int level = 4) {
  std::vector<change> changes;
  for (int i = from; i < from + n; ++i)
    changes.push_back(change{"pump-" + std::to_string(i), "rate", "high"});
  return engine_fixture::make(level, changes, {"pumps"}, {"east"}, {}, who);
}

size_t count_type(const std::vector<committed_event>& events, const std::string& type) {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                           [&](auto& e) { return e.type == type; }));
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "two principals asking 4 percent each of one service and region get one yes, also after a restart") {
  add_pumps(*this);
  auto a = submit_now(pumps(0, 4, "agent"));
  CHECK(a.ok);
  auto b = submit_now(pumps(10, 4, "ops"));
  CHECK(b.code == "BLAST_RADIUS_EXCEEDED");
  CHECK(b.message.find("fleet-wide budget: 8 of 100 pumps") != std::string::npos);
  CHECK(b.message.find("all principals together") != std::string::npos);
  CHECK(count_type(events, "budget_charged") == 1); // the refusal charged nothing
  // The budget is journaled: a restart keeps it.
  restart();
  eng->register_effector("pumps", [this](const effect_request& r) { return effect(r); });
  auto again = submit_now(pumps(20, 4, "ops"));
  CHECK(again.code == "BLAST_RADIUS_EXCEEDED");
  CHECK(again.message.find("fleet-wide budget: 8 of 100 pumps") != std::string::npos);
  CHECK(submit_now(pumps(20, 1, "ops")).ok); // 5 of 100: the last room
  eng->advance(std::chrono::hours{1});
  CHECK(submit_now(pumps(20, 4, "ops")).ok); // the first charge's window is over
  // Finished and refused flights hold no reservation: the journal's charges count alone.
  auto& w = *eng->internals().blast_windows;
  std::lock_guard<std::mutex> guard{w.mtx};
  CHECK(w.policy.reservations() == 0);
}

TEST_CASE_FIXTURE(engine_fixture, "levels 1 and 2 are charged at their approval, and a refused approval leaves them waiting") {
  add_pumps(*this);
  auto batch = eng->submit(pumps(0, 4, "ops", 2));
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  auto digest = eng->pending().at(0).proposal;
  CHECK(count_type(events, "budget_charged") == 0); // waiting is not executing
  CHECK(submit_now(pumps(10, 4, "agent")).ok);      // so the room is still there
  auto refused = eng->approve("admin", digest);
  CHECK(refused.code == "BLAST_RADIUS_EXCEEDED");
  CHECK(refused.message.find("still awaits approval") != std::string::npos);
  CHECK(eng->pending().size() == 1);
  CHECK(count_type(events, "approval_granted") == 0);
  eng->advance(std::chrono::hours{1} - std::chrono::seconds{61});
  // The approval window (60 s) ran out meanwhile: expired, never charged.
  eng->run();
  REQUIRE(batch.wait_for(0s) == std::future_status::ready);
  CHECK(batch.get().status == "expired");
  CHECK(count_type(events, "budget_charged") == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "an approval charges the budget in the approval's transaction") {
  add_pumps(*this);
  auto batch = eng->submit(pumps(0, 3, "ops", 2));
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  CHECK(eng->approve("admin", eng->pending().at(0).proposal).ok);
  eng->run();
  REQUIRE(batch.wait_for(0s) == std::future_status::ready);
  CHECK(batch.get().ok);
  auto granted = std::find_if(events.begin(), events.end(),
                              [](auto& e) { return e.type == "approval_granted"; });
  REQUIRE(granted != events.end());
  REQUIRE(std::distance(granted, events.end()) > 2);
  CHECK(std::next(granted)->type == "approval_checked");
  CHECK(std::next(granted, 2)->type == "budget_charged");
  CHECK(std::next(granted, 2)->seq == granted->seq + 2);
  // Three of five are spent: another principal gets two, not three.
  CHECK(submit_now(pumps(10, 3, "agent")).code == "BLAST_RADIUS_EXCEEDED");
  CHECK(submit_now(pumps(10, 2, "agent")).ok);
}

TEST_CASE_FIXTURE(engine_fixture, "a compensated flight gives its budget back") {
  // Level 3 on two north coasters (the region's whole budget), interrupted after step 0.
  auto f = eng->submit(make(3, {set(1, "a"), set(2, "b")}, {"coaster"}, {"north"}, "", "ops"));
  eng->run();
  auto id = test::decided_digest(events);
  CHECK(submit_now(make(4, {set(3, "x")})).code == "BLAST_RADIUS_EXCEEDED");
  REQUIRE(eng->interrupt("ops", id).ok);
  eng->run();
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(f.get().compensated == 1);
  // The fleet is as it was: the whole charge is back.
  CHECK(submit_now(make(4, {set(3, "x"), set(4, "x")})).ok);
}
TEST_CASE_FIXTURE(engine_fixture, "a principal over its rate is refused with retry_after") {
  int limited = 0;
  for (int i = 0; i < 260 && limited == 0; ++i) {
    auto r = submit_now(make(4, {set(1, "v" + std::to_string(i))}));
    if (r.code == "RATE_LIMITED") {
      ++limited;
      REQUIRE(r.retry_after);
      CHECK(r.retry_after->count() > 0);
    }
  }
  CHECK(limited == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "bad input is refused, journaled, and runs nothing") {
  std::vector<std::pair<proposal_request, std::string>> cases;
  auto p = make(7, {set(1, "x")});
  cases.emplace_back(p, "outside 0-4");
  cases.emplace_back(make(4, {}), "at least one mutation");
  std::vector<change> many;
  for (int i = 0; i < 1001; ++i)
    many.push_back(change{"coaster-1", "k" + std::to_string(i), "v"});
  cases.emplace_back(make(4, many), "over the limit");
  cases.emplace_back(make(4, {change{"nope", "mode", "x"}}), "unknown resource");
  cases.emplace_back(make(4, {set(25, "x")}), "outside the proposal's target");
  p = make(4, {set(1, "x")});
  p.timeout = std::chrono::milliseconds{-1};
  cases.emplace_back(p, "deadline is in the past");
  p = make(4, {set(1, "x")});
  p.principal = "has space";
  cases.emplace_back(p, "not a valid name");
  cases.emplace_back(make(4, {set(1, "x"), set(1, "y")}), "appears twice");
  for (auto& [req, why] : cases) {
    events.clear();
    auto r = submit_now(req);
    CAPTURE(why);
    CHECK(r.code == "INVALID_INPUT");
    CHECK(r.message.find(why) != std::string::npos);
    REQUIRE(events.size() == 2); // the refused decision and its basis
    CHECK(events[0].type == "proposal_decided");
    CHECK(events[0].json.find("\"allowed\":false") != std::string::npos);
    CHECK(events[1].type == "decision_basis");
  }
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "a repeated key returns the first result, also after a restart") {
  auto p = make(4, {set(1, "once")}, {"coaster"}, {"north"}, "same-key");
  auto first = submit_now(p);
  REQUIRE(first.ok);
  auto again = submit_now(p);
  CHECK(again.ok);
  CHECK(again.proposal == first.proposal);
  CHECK(calls.size() == 1);
  auto other = make(4, {set(1, "twice")}, {"coaster"}, {"north"}, "same-key");
  auto clash = submit_now(other);
  CHECK(clash.code == "INVALID_INPUT");
  CHECK(clash.message.find("another proposal") != std::string::npos);
  restart();
  auto after = submit_now(p);
  CHECK(after.ok);
  CHECK(after.proposal == first.proposal);
  CHECK(after.seq == first.seq);
  CHECK(calls.size() == 1);
  CHECK(submit_now(other).code == "INVALID_INPUT");
}

TEST_CASE_FIXTURE(engine_fixture, "a level-1 proposal approved after its timeout has passed "
                                  "runs: its execution time starts at the approval") {
  auto p = make(1, {set(4, "approved-late")}, {"coaster"}, {"north"}, "late-approval");
  p.timeout = 30s;
  auto f = eng->submit(p);
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  auto digest = eng->pending().at(0).proposal;
  eng->advance(36s); // past the proposal's 30 s, inside the 5-minute approval window
  REQUIRE(eng->approve("ops", digest).ok);
  eng->run();
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.ok);
  CHECK(r.status == "succeeded");
  CHECK(calls.size() == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "a level-0 read is finished at its decision: a repeat after a "
                                  "restart is the same read, and nothing of it stays running") {
  auto p = make(0, {}, {"coaster"}, {"north"}, "read-key");
  auto first = submit_now(p);
  REQUIRE(first.ok);
  CHECK(first.status == "read");
  CHECK(eng->running().empty());
  restart();
  auto after = submit_now(p);
  CHECK(after.ok);
  CHECK(after.status == "read"); // not "in doubt": a read has no outcome record to wait for
  CHECK(after.proposal == first.proposal);
  CHECK(after.seq == first.seq);
  CHECK(eng->in_doubt().empty());
  CHECK(eng->running().empty());
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "a request repeated later is the same proposal: its deadline "
                                  "is not content") {
  auto p = make(4, {set(2, "later")}, {"coaster"}, {"north"}, "late-key");
  auto first = submit_now(p);
  REQUIRE(first.ok);
  eng->advance(30s); // the repeat's deadline is 30 s later
  auto again = submit_now(p);
  CHECK(again.ok);
  CHECK(again.proposal == first.proposal);
  CHECK(again.seq == first.seq);
  auto longer = p;
  longer.timeout = 20min; // another timeout: still the same proposal
  CHECK(submit_now(longer).proposal == first.proposal);
  restart();
  eng->advance(5min);
  auto after = submit_now(p);
  CHECK(after.ok);
  CHECK(after.proposal == first.proposal);
  CHECK(after.seq == first.seq);
  CHECK(calls.size() == 1);

  // A level-1 proposal waiting for its approval: the later repeat waits for the same flight.
  auto w = make(1, {set(3, "wait")}, {"coaster"}, {"north"}, "wait-key");
  auto f1 = eng->submit(w);
  eng->run();
  auto digest = eng->pending().at(0).proposal;
  eng->advance(10s);
  auto f2 = eng->submit(w);
  eng->run();
  CHECK(eng->pending().size() == 1);
  REQUIRE(eng->approve("ops", digest).ok);
  eng->run();
  REQUIRE(f1.wait_for(0s) == std::future_status::ready);
  REQUIRE(f2.wait_for(0s) == std::future_status::ready);
  auto r1 = f1.get();
  auto r2 = f2.get();
  CHECK(r1.proposal == digest);
  CHECK(r2.proposal == digest);
  CHECK(r2.status == r1.status);
  CHECK(calls.size() == 2);
}

TEST_CASE_FIXTURE(engine_fixture, "a malformed idempotency key is refused naming the rule and "
                                  "journals nothing") {
  eng->run();
  auto before = events.size();
  auto bad = make(4, {set(4, "x")}, {"coaster"}, {"north"}, "not a valid key!");
  auto r = submit_now(bad);
  CHECK(r.code == "INVALID_INPUT");
  CHECK(r.message.find("printable characters") != std::string::npos);
  // Other content under the same malformed key: the same refusal, not "another proposal".
  auto other = make(4, {set(5, "y")}, {"coaster"}, {"north"}, "not a valid key!");
  auto again = submit_now(other);
  CHECK(again.code == "INVALID_INPUT");
  CHECK(again.message.find("printable characters") != std::string::npos);
  eng->run();
  CHECK(events.size() == before);
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "property: limits hold and every effect sits between its "
                                  "decision and its outcome") {
  std::mt19937_64 rng{2026};
  for (int i = 0; i < 150; ++i) {
    int level = 3 + static_cast<int>(rng() % 2);
    std::vector<change> changes;
    auto n = 1 + rng() % 4;
    for (size_t k = 0; k < n; ++k)
      changes.push_back(set(static_cast<int>(rng() % 40), "v" + std::to_string(rng() % 9),
                            "k" + std::to_string(k)));
    auto region = changes[0].resource < "coaster-20" ? "north" : "south";
    auto p = make(level, changes, {"coaster"}, {rng() % 5 ? region : "north"}, "",
                  rng() % 2 ? "agent" : "ops");
    if (rng() % 7 == 0)
      failing.insert(changes.back().resource + "/" + changes.back().key);
    auto f = eng->submit(p);
    eng->advance(30s);
    failing.clear();
    REQUIRE(f.wait_for(0s) == std::future_status::ready);
  }
  eng->advance(std::chrono::hours{2});
  // Replay the journal's story: each applied action needs an allowed decision before
  // it and a finish after it; at most 2 coaster resources (5% of 40) per proposal.
  std::map<std::string, int> phase; // proposal -> 1 decided, 2 finished
  std::map<std::string, std::set<std::string>> touched;
  int applied = 0;
  for (auto& e : events) {
    auto j = nlohmann::json::parse(e.json)["payload"];
    if (e.type == "proposal_decided" && j["allowed"].get<bool>())
      phase[j["proposal"]] = 1;
    if (e.type == "action_applied") {
      auto id = j["proposal"].get<std::string>();
      CHECK(phase[id] == 1);
      touched[id].insert(j["resource"].get<std::string>());
      ++applied;
    }
    if (e.type == "proposal_finished") {
      CHECK(phase[j["proposal"].get<std::string>()] == 1);
      phase[j["proposal"]] = 2;
    }
  }
  for (auto& [id, resources] : touched)
    CHECK(resources.size() <= 2);
  for (auto& [id, p] : phase)
    CHECK(p == 2);
  CHECK(applied > 0);
  CHECK(eng->verify().ok);
}
