// The gates through the embedding API: each decision record holds every gate's verdict
// with its evidence, and a gate whose input says no refuses the proposal, journaled.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// The payload of the newest `proposal_decided` among `events`.
json last_decision(const std::vector<committed_event>& events) {
  for (auto i = events.rbegin(); i != events.rend(); ++i)
    if (i->type == "proposal_decided")
      return json::parse(i->json)["payload"];
  FAIL("no decision journaled");
  return {};
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "gates: an allowed decision journals each gate of its level "
                                  "with its evidence") {
  auto running = eng->submit(make(3, {set(1, "slow"), set(2, "slow")}));
  eng->run(); // decided; its first window runs on the virtual clock
  auto d = last_decision(events);
  CHECK(d["allowed"] == true);
  REQUIRE(d["gates"].size() == 3);
  CHECK(d["gates"][0]["gate"] == "InterruptibleExecution");
  CHECK(d["gates"][0]["note"]
        == "2 steps one by one, interruptible between them; their 10 s of windows fit the "
           "deadline's 600 s");
  CHECK(d["gates"][1]["gate"] == "HumanObservation");
  CHECK(d["gates"][1]["note"] == "a 5 s window with analysis after each of 2 steps, the last "
                                 "included");
  CHECK(d["gates"][2]["gate"] == "RollbackOnInterrupt");
  for (auto& g : d["gates"])
    CHECK(g["passed"] == true);
}

TEST_CASE_FIXTURE(engine_fixture, "gates: a level-1 change to the value already there is "
                                  "refused by ExplicitConfirmation, journaled with the gates") {
  auto r = submit_now(make(1, {set(3, "normal")}));
  CHECK(r.code == "AUTHORITY_DENIED");
  CHECK(r.message == "ExplicitConfirmation: coaster-3/mode is 'normal' already: there is no "
                     "change to confirm");
  CHECK(eng->pending().empty()); // nobody is asked to approve a no-op
  auto d = last_decision(events);
  CHECK(d["allowed"] == false);
  CHECK(d["reason"] == r.message);
  REQUIRE(d["gates"].size() == 3);
  CHECK(d["gates"][0]["passed"] == true);  // HumanApproval
  CHECK(d["gates"][2]["passed"] == false); // ExplicitConfirmation
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "gates: a level-3 proposal whose windows do not fit its "
                                  "deadline is refused by InterruptibleExecution") {
  auto p = make(3, {set(1, "slow"), set(2, "slow")});
  p.timeout = 8s; // two 5 s windows need 10 s
  auto r = submit_now(p);
  CHECK(r.code == "AUTHORITY_DENIED");
  CHECK(r.message == "InterruptibleExecution: 2 steps with a 5 s window each need 10 s; the "
                     "deadline leaves 8 s");
  CHECK(calls.empty());
}

TEST_CASE("gates: a level-2 batch larger than one transaction may hold is refused by "
          "AtomicBatch") {
  engine_fixture f{"[authority]\nmax_batch = 2\n[blast_radius]\nmax_percent = 100.0\n"};
  auto r = f.submit_now(engine_fixture::make(2, {set(1, "a"), set(2, "b"), set(3, "c")}));
  CHECK(r.code == "AUTHORITY_DENIED");
  CHECK(r.message == "AtomicBatch: a batch of 3 actions is over the 2 that start in one "
                     "transaction (authority.max_batch)");
  CHECK(f.eng->pending().empty());
  auto two = f.eng->submit(engine_fixture::make(2, {set(1, "a"), set(2, "b")}));
  f.eng->run();
  CHECK(f.eng->pending().size() == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "gates: a read of a service with nothing registered is "
                                  "refused by TransactionReadOnly, a read of one that is passes") {
  auto none = submit_now(make(0, {}, {"turbines"}, {"north"}));
  CHECK(none.code == "AUTHORITY_DENIED");
  CHECK(none.message.find("TransactionReadOnly: nothing to read: service turbines") == 0);
  auto read = submit_now(make(0, {}, {"coaster"}, {"north"}));
  CHECK(read.ok);
  CHECK(read.status == "read");
  auto d = last_decision(events);
  CHECK(d["gates"][0]["note"].get<std::string>().find("read-only view of the journal at seq")
        == 0);
  CHECK(d["gates"][0]["note"].get<std::string>().find("40 resources") != std::string::npos);
}

TEST_CASE("gates: AuditOnly refuses level 4 while the audit queue is full, and an "
          "acknowledgement makes room") {
  engine_fixture f{"[authority]\naudit_backlog = 2\n[blast_radius]\nmax_percent = 100.0\n"};
  auto one = f.submit_now(engine_fixture::make(4, {set(1, "fast")}));
  auto two = f.submit_now(engine_fixture::make(4, {set(2, "fast")}));
  REQUIRE(one.ok);
  REQUIRE(two.ok);
  REQUIRE(f.eng->audit_pending().items.size() == 2);
  auto full = f.submit_now(engine_fixture::make(4, {set(3, "fast")}));
  CHECK(full.code == "AUTHORITY_DENIED");
  CHECK(full.message == "AuditOnly: the audit queue is full: 2 level-4 proposals await their "
                        "audit or run (authority.audit_backlog 2)");
  // Other levels do not pass through the gate: a level-1 change still waits for approval.
  auto other = f.eng->submit(engine_fixture::make(1, {set(4, "slow")}));
  f.eng->run();
  CHECK(f.eng->pending().size() == 1);
  REQUIRE(f.eng->audit_ack("ops-alice", one.proposal, "reviewed").ok);
  f.eng->run();
  auto again = f.submit_now(engine_fixture::make(4, {set(3, "fast")}));
  CHECK_MESSAGE(again.ok, again.code << ": " << again.message);
  auto d = last_decision(f.events);
  CHECK(d["gates"][1]["gate"] == "AuditOnly");
  CHECK(d["gates"][1]["note"] == "enters the audit queue (1 of 2 held: awaiting their audit "
                                 "or running)");
}
