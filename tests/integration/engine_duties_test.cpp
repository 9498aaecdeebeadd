// Separation of duties through the embedding API: who may approve or deny a proposal, and
// what a refused approval leaves (nothing: the proposal still waits).

#include <algorithm>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

TEST_CASE_FIXTURE(engine_fixture, "approvals: only an approver role approves or denies, never "
                                  "the proposer's own, and a refusal leaves it waiting") {
  // "ops" proposes; "ops" may not approve or deny it, nor may "low" (no approver role) or an
  // unknown name; "ops-alice" (an operator) may.
  auto f = eng->submit(make(1, {set(2, "reviewed")}, {"coaster"}, {"north"}, "k-duties", "ops"));
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  auto id = eng->pending().at(0).proposal;
  for (auto* who : {"ops", "low", "nobody-known"}) {
    CAPTURE(who);
    for (bool yes : {true, false}) {
      auto r = eng->approve(who, id, yes);
      CHECK(r.code == "AUTHORITY_DENIED");
      eng->run();
      CHECK(eng->pending().size() == 1);
    }
  }
  CHECK(eng->approve("ops", id).message.find("allow_self_approval") != std::string::npos);
  CHECK(eng->approve("low", id).message.find("holds no approver role") != std::string::npos);
  CHECK(calls.empty());
  REQUIRE(eng->approve("ops-alice", id).ok);
  eng->run();
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(f.get().status == "succeeded");
  CHECK(calls.size() == 1);
  // The approval's transaction names the approver's role and grant and the gates it met.
  auto granted = std::find_if(events.begin(), events.end(),
                              [](auto& e) { return e.type == "approval_granted"; });
  REQUIRE(granted != events.end());
  REQUIRE(std::next(granted) != events.end());
  CHECK(std::next(granted)->type == "approval_checked");
  CHECK(std::next(granted)->seq == granted->seq + 1);
  auto checked = nlohmann::json::parse(std::next(granted)->json)["payload"];
  CHECK(checked["approver"] == "ops-alice");
  CHECK(checked["role"] == "operator");
  CHECK(checked["proposal"] == id);
  REQUIRE(checked["gates"].size() == 2);
  CHECK(checked["gates"][0]["gate"] == "HumanApproval");
  CHECK(checked["gates"][0]["passed"] == true);
  CHECK(checked["gates"][1]["gate"] == "ExplicitConfirmation");
  // An admin approves too (and a bad approval of a finished proposal changes nothing).
  auto g = eng->submit(make(2, {set(3, "batch")}, {"coaster"}, {"north"}, "k-duties-2"));
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  REQUIRE(eng->approve("admin", eng->pending().at(0).proposal).ok);
  eng->run();
  CHECK(g.get().status == "succeeded");
  CHECK(eng->approve("ops-alice", id).code == "INVALID_INPUT");
}

TEST_CASE("approvals: self-approval when the configuration allows it, and a level that asks "
          "for an admin") {
  engine_fixture f{"[authority]\nallow_self_approval = true\n[authority.approver_role]\n"
                   "\"2\" = \"admin\"\n"};
  auto mine = f.eng->submit(engine_fixture::make(1, {set(1, "mine")},
                                                 {"coaster"}, {"north"}, "k-self", "ops"));
  f.eng->run();
  REQUIRE(f.eng->pending().size() == 1);
  REQUIRE(f.eng->approve("ops", f.eng->pending().at(0).proposal).ok);
  f.eng->run();
  CHECK(mine.get().status == "succeeded");
  auto batch = f.eng->submit(engine_fixture::make(2, {set(2, "batch")},
                                                  {"coaster"}, {"north"}, "k-admin"));
  f.eng->run();
  REQUIRE(f.eng->pending().size() == 1);
  auto id = f.eng->pending().at(0).proposal;
  auto op = f.eng->approve("ops-alice", id);
  CHECK(op.code == "AUTHORITY_DENIED");
  CHECK(op.message.find("needs the role admin") != std::string::npos);
  REQUIRE(f.eng->approve("admin", id).ok);
  f.eng->run();
  CHECK(batch.get().status == "succeeded");
}

TEST_CASE_FIXTURE(engine_fixture, "a grant lowered while a proposal waits refuses its approval, "
                                  "and a denial is still taken") {
  auto f = eng->submit(make(1, {set(5, "later")}, {"coaster"}, {"north"}, "k-lowered"));
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  auto id = eng->pending().at(0).proposal;
  REQUIRE(eng->grant("admin", "agent", 0, std::nullopt, "paused").ok);
  eng->run();
  auto r = eng->approve("ops-alice", id);
  CHECK(r.code == "AUTHORITY_DENIED");
  CHECK(r.message.find("grant of agent is now level 0") != std::string::npos);
  CHECK(calls.empty());
  REQUIRE(eng->approve("ops-alice", id, false).ok);
  eng->run();
  CHECK(f.get().status == "denied");
  CHECK(calls.empty());
}
