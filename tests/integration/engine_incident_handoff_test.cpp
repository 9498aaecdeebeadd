// At least once from anomaly to outcome, on the virtual clock: a candidate the
// orchestrator could not take is handed over again until it is journaled (each failed
// attempt journaled as orchestration_failed), an expired rollback approval escalates its
// incident and asks again, and an escalated incident is still rolled back and closed.

#include <algorithm>
#include <fstream>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "integration/handoff_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE_FIXTURE(handoff_fixture,
                  "a candidate whose append failed is handed over again and opens one incident") {
  bad_change();
  tick(28);
  REQUIRE(records("candidate_raised").empty());
  // Around the confirmation, the journal refuses every write while the samples come in:
  // the orchestrator cannot journal the candidate (nor the detector its failed attempt).
  // Between the samples it is writable again, when the next attempt comes (after 1 s).
  for (int i = 0; i < 5; ++i) {
    eng->advance(1s);
    REQUIRE(eng->chaos_fail_journal(true).ok);
    feed();
    REQUIRE(eng->chaos_fail_journal(false).ok);
  }
  tick(5);
  auto raised = records("candidate_raised");
  REQUIRE(raised.size() == 1);
  // Journaled on a later attempt, not at the confirming sample.
  CHECK(raised[0]["at"].get<std::string>() > raised[0]["payload"]["confirmed"].get<std::string>());
  CHECK(records("incident_opened").size() == 1);
  tick(60);
  // The rollback ran and the incident closed; no second candidate or incident.
  CHECK(only_incident().status == "recovered");
  CHECK(records("candidate_raised").size() == 1);
  CHECK(records("candidate_decided").size() == 1);
  CHECK(world["coaster-1/mode"] == "normal");
}

TEST_CASE_FIXTURE(handoff_fixture,
                  "an orchestrator that is down: each failed attempt is journaled, then decided once") {
  bad_change();
  tick(28);
  REQUIRE(records("candidate_raised").empty());
  // The orchestrator is killed before each of the seconds around the confirmation; its
  // supervisor restarts it 50 ms or more later, so the samples meet it dead.
  for (int i = 0; i < 4; ++i) {
    eng->advance(1s);
    auto r = eng->chaos_kill("orchestrator");
    REQUIRE_MESSAGE(r.ok, r.message);
    feed();
  }
  tick(5);
  auto failed = records("orchestration_failed");
  REQUIRE(!failed.empty());
  auto raised = records("candidate_raised");
  REQUIRE(raised.size() == 1);
  auto candidate = raised[0]["payload"]["candidate"].get<std::string>();
  for (size_t i = 0; i < failed.size(); ++i) {
    auto& p = failed[i]["payload"];
    CHECK(p["candidate"] == candidate); // one candidate, the same id on every attempt
    CHECK(p["service"] == "coaster");
    CHECK(p["region"] == "north");
    CHECK(p["attempt"] == i + 1);
    CHECK(p["code"] == "UNAVAILABLE");
    CHECK(p["reason"].get<std::string>().find("orchestrator") != std::string::npos);
    CHECK(p["retry_in_ms"].get<int64_t>() >= 1000);
    CHECK(failed[i]["seq"].get<uint64_t>() < raised[0]["seq"].get<uint64_t>());
  }
  CHECK(records("incident_opened").size() == 1);
  tick(60);
  CHECK(only_incident().status == "recovered");
  CHECK(records("candidate_decided").size() == 1);
  CHECK(records("incident_opened").size() == 1);
  // The records of the failed attempts verify, decode in the independent verifier and
  // replay.
  CHECK(eng->verify().ok);
  std::string out;
  CHECK(run_command("/usr/bin/python3 " BULWARK_SOURCE_DIR "/tests/tools/verify_journal.py "
                      + dir.sub("journal") + " --json",
                    &out)
        == 0);
  CHECK(out.find("\"orchestration_failed\": " + std::to_string(failed.size()))
        != std::string::npos);
  CHECK(run_command(std::string{BULWARK_BINARY} + " replay --data " + dir.sub("journal"), &out)
        == 0);
}

TEST_CASE_FIXTURE(handoff_fixture,
                  "an expired rollback approval escalates the incident and asks again") {
  auto_approve = false;
  bad_change();
  tick(35);
  auto opened = only_incident();
  REQUIRE(opened.status == "open");
  auto pending = eng->pending_rollbacks();
  REQUIRE(pending.size() == 1);
  // Nobody approves within the approval timeout (60 s).
  tick(62);
  CHECK(records("approval_expired").size() == 1);
  auto escalated = records("incident_escalated");
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0]["payload"]["incident"] == opened.id);
  auto inc = only_incident();
  CHECK(inc.status == "escalated");
  // Asked again: the same rollback awaits an approval once more.
  CHECK(records("rollback_requested").size() == 2);
  CHECK(eng->pending_rollbacks() == pending);
  CHECK(world["coaster-1/mode"] == "bad");
  // Expired again: escalated again and asked again.
  tick(61);
  CHECK(records("incident_escalated").size() == 2);
  CHECK(records("rollback_requested").size() == 3);
  CHECK(eng->pending_rollbacks() == pending);
  // The escalated incident is still workable: an operator rolls it back ...
  auto rb = eng->rollback("ops", opened.id, "escalated: rolling back now");
  CHECK_MESSAGE(rb.ok, rb.message);
  CHECK(rb.status == "succeeded");
  CHECK(world["coaster-1/mode"] == "normal");
  CHECK(eng->pending_rollbacks().empty());
  // ... and once the series has recovered for the verification window, it closes.
  tick(40);
  inc = only_incident();
  CHECK(inc.status == "recovered");
  CHECK(inc.rollback_result == "succeeded");
  CHECK(records("incident_closed").size() == 1);
  CHECK(records("incident_opened").size() == 1);
}

TEST_CASE_FIXTURE(handoff_fixture,
                  "an incident escalated for a failed recovery closes once the series recovers") {
  bad_change();
  outage = true; // the errors go on after the rollback: one excess, never interrupted
  tick(35);      // detected, rolled back (approved): the recovery watch runs
  REQUIRE(only_incident().rollback_result == "succeeded");
  tick(125); // past the verification timeout (2 min)
  REQUIRE(only_incident().status == "escalated");
  REQUIRE(records("incident_escalated").size() == 1);
  outage = false;
  tick(40);
  auto inc = only_incident();
  CHECK(inc.status == "recovered");
  CHECK(records("incident_closed").size() == 1);
  // No second escalation while it was watched without a deadline.
  CHECK(records("incident_escalated").size() == 1);
}

TEST_CASE_FIXTURE(handoff_fixture, "a rollback's approval needs an approver role, and during a "
                                   "halt only an admin's runs it") {
  auto_approve = false;
  bad_change();
  tick(35);
  auto pending = eng->pending_rollbacks();
  REQUIRE(pending.size() == 1);
  auto low = eng->approve("low", pending[0]);
  CHECK(low.code == "AUTHORITY_DENIED");
  CHECK(low.message.find("holds no approver role") != std::string::npos);
  REQUIRE(eng->halt("admin", "drill").ok);
  eng->run();
  auto op = eng->approve("ops", pending[0]);
  CHECK(op.code == "HALTED");
  CHECK(op.message.find("only an admin") != std::string::npos);
  CHECK(eng->pending_rollbacks() == pending); // both refusals changed nothing
  CHECK(world["coaster-1/mode"] == "bad");
  auto admin = eng->approve("admin", pending[0]);
  CHECK_MESSAGE(admin.ok, admin.code << ": " << admin.message);
  eng->run();
  CHECK(world["coaster-1/mode"] == "normal");
  CHECK(eng->pending_rollbacks().empty());
  // The approval is journaled with its evidence: the admin's role, in one transaction.
  auto granted = std::find_if(events.begin(), events.end(),
                              [](auto& e) { return e.type == "approval_granted"; });
  REQUIRE(granted != events.end());
  REQUIRE(std::next(granted) != events.end());
  CHECK(std::next(granted)->type == "approval_checked");
  auto checked = json::parse(std::next(granted)->json)["payload"];
  CHECK(checked["approver"] == "admin");
  CHECK(checked["role"] == "admin");
  CHECK(checked["approve"] == true);
}

TEST_CASE("a reload's approvers hold for a rollback that waits for its approval") {
  handoff_fixture f{"[authority]\noperators = [\"ops\"]\n"};
  f.auto_approve = false;
  f.bad_change();
  f.tick(35);
  auto pending = f.eng->pending_rollbacks();
  REQUIRE(pending.size() == 1);
  // ops-carol is no approver yet: refused, nothing journaled.
  auto before = f.eng->approve("ops-carol", pending[0]);
  CHECK_FALSE(before.ok);
  CHECK(before.code == "AUTHORITY_DENIED");
  CHECK(f.records("approval_granted").empty());
  // An admin's reload makes her one; the waiting rollback takes her approval.
  std::ofstream{f.dir.sub("bulwark.toml")} << "[chaos]\nenabled = true\n[authority]\n"
                                               "operators = [\"ops\", \"ops-carol\"]\n";
  auto r = f.eng->reload_policy("admin");
  REQUIRE_MESSAGE(r.status.ok, r.status.code << ": " << r.status.message);
  REQUIRE(r.changed);
  auto after = f.eng->approve("ops-carol", pending[0]);
  CHECK_MESSAGE(after.ok, after.code << ": " << after.message);
  f.tick(5);
  auto granted = f.records("approval_granted");
  REQUIRE(granted.size() == 1);
  CHECK(granted[0]["payload"]["approver"] == "ops-carol");
  auto finished = f.records("rollback_finished");
  REQUIRE(finished.size() == 1);
  CHECK(finished[0]["payload"]["succeeded"] == true);
  f.tick(60);
  CHECK(f.only_incident().status == "recovered");
  CHECK(f.world["coaster-1/mode"] == "normal");
}
