// The incident lifecycle through the embedding API on the virtual clock: every step
// journaled and replayed, refusals that change nothing, the respond_by escalation with
// its notification hook, and the postmortem report (API and `bulwark incident report`).

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// coaster/north reports 30 % errors (a P1) while one of its coasters runs mode=bad or
/// while `outage` forces it; every other series 1 %. Rollbacks are approved as asked.
struct lifecycle_fixture : engine_fixture {
  bool outage = false;

  explicit lifecycle_fixture(std::string toml = {}) : engine_fixture(std::move(toml)) {
  }

  double rate(const std::string& service, const std::string& region) {
    if (service != "coaster" || region != "north")
      return 0.01;
    if (outage)
      return 0.3;
    for (auto& [k, v] : world)
      if (v == "bad" && std::stoi(k.substr(8, k.find('/') - 8)) < 20)
        return 0.3;
    return 0.01;
  }

  void tick(int n = 1) {
    for (int i = 0; i < n; ++i) {
      eng->advance(1s);
      for (auto [s, r] : {std::pair{"coaster", "north"}, {"coaster", "south"}, {"gates", "north"}})
        REQUIRE(eng->feed_metric(metric_sample{s, r, rate(s, r), 12.0, eng->now()}));
      for (auto& id : eng->pending_rollbacks())
        CHECK(eng->approve("ops", id).ok);
    }
  }

  std::vector<json> records(const std::string& type) const {
    std::vector<json> out;
    for (auto& e : events)
      if (e.type == type)
        out.push_back(json::parse(e.json));
    return out;
  }

  incident_info only_incident() {
    auto all = eng->incidents();
    REQUIRE(all.size() == 1);
    return all.front();
  }

  /// A bad change to coaster/north, detected, promoted (P1) and rolled back; returns the
  /// seq of the culprit's `action_applied`. `lasting`: the errors go on after the
  /// rollback, so the incident stays open.
  uint64_t incident_from_bad_change(bool lasting = false) {
    tick(20);
    auto r = submit_now(make(4, {set(1, "bad")}));
    REQUIRE(r.ok);
    outage = lasting;
    uint64_t applied = 0;
    for (auto& e : events)
      if (e.type == "action_applied" && e.json.find(r.proposal) != std::string::npos)
        applied = e.seq;
    REQUIRE(applied > 0);
    tick(35);
    auto inc = only_incident();
    REQUIRE(inc.status == "open");
    REQUIRE(inc.severity == "P1");
    return applied;
  }

  /// How many records of `type` were committed.
  size_t count(const std::string& type) const {
    return records(type).size();
  }
};

} // namespace

TEST_CASE_FIXTURE(lifecycle_fixture,
                  "lifecycle: acknowledge, note, severity, resolve, recovery, reopen, close, "
                  "journaled and replayed") {
  incident_from_bad_change();
  auto id = only_incident().id;
  auto ack = eng->acknowledge("ops", id, "alice", "on it");
  REQUIRE_MESSAGE(ack.ok, ack.message);
  CHECK(ack.seq == events.back().seq);
  CHECK(eng->note("ops", id, "the speed change looks guilty").ok);
  CHECK(eng->set_severity("ops", id, "P0", "riders stuck").ok);
  auto inc = only_incident();
  CHECK(inc.acknowledged);
  CHECK(inc.owner == "alice");
  CHECK(inc.notes == 1);
  CHECK(inc.severity == "P0");
  REQUIRE(eng->resolve("ops", id, "the rollback reverted the speed change").ok);
  CHECK(only_incident().status == "resolved");
  // The detector verifies the recovery: the resolved incident closes as recovered.
  tick(40);
  inc = only_incident();
  CHECK(inc.status == "recovered");
  CHECK(inc.resolution == "the rollback reverted the speed change");
  // Closed: nothing but reopen; refusals change nothing.
  auto head = eng->head();
  for (auto r : {eng->note("ops", id, "late"), eng->close("ops", id, "done"),
                 eng->acknowledge("ops", id, "bob")}) {
    CHECK(r.code == "INVALID_INPUT");
    CHECK(r.message.find("reopen it first") != std::string::npos);
  }
  CHECK(eng->head() == head);
  REQUIRE(eng->reopen("ops", id, "the errors came back").ok);
  CHECK(only_incident().status == "open");
  tick(5);
  REQUIRE(eng->close("ops", id, "fixed the coaster's firmware").ok);
  inc = only_incident();
  CHECK(inc.status == "closed");
  CHECK(inc.resolution == "fixed the coaster's firmware");
  CHECK(inc.mttr > 70s);
  for (auto* type : {"incident_acknowledged", "incident_noted", "incident_severity_changed",
                     "incident_resolved", "incident_reopened", "incident_closed_by_operator"})
    CHECK_MESSAGE(count(type) == 1, type);
  auto sev = records("incident_severity_changed").at(0)["payload"];
  CHECK(sev["from"] == "P1");
  CHECK(sev["to"] == "P0");
  CHECK(sev["by"] == "ops");
  CHECK(records("incident_acknowledged").at(0)["payload"]["owner"] == "alice");
  // Replay: a restarted engine has the same state and the same lifecycle.
  auto digest = eng->state_digest();
  restart();
  CHECK(eng->state_digest() == digest);
  auto again = only_incident();
  CHECK(again.status == "closed");
  CHECK(again.owner == "alice");
  CHECK(again.notes == 1);
  CHECK(again.severity == "P0");
  CHECK(again.mttr == inc.mttr);
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(lifecycle_fixture, "lifecycle: bad input through the API changes nothing") {
  incident_from_bad_change();
  auto id = only_incident().id;
  auto head = eng->head();
  auto unknown = std::string(64, '0');
  CHECK(eng->acknowledge("ops", unknown, "alice").message.find("unknown incident")
        != std::string::npos);
  CHECK(eng->acknowledge("ops", "zz", "alice").code == "INVALID_INPUT");
  CHECK(eng->acknowledge("", id, "alice").code == "INVALID_INPUT");
  CHECK(eng->set_severity("ops", id, "P9", "x").code == "INVALID_INPUT");
  CHECK(eng->resolve("ops", id, "early").message.find("acknowledge it before resolving")
        != std::string::npos);
  CHECK(eng->close("ops", id).message.find("never acknowledged") != std::string::npos);
  CHECK(eng->reopen("ops", id, "why").message.find("only resolved or closed")
        != std::string::npos);
  CHECK(eng->note("ops", id, "").message.find("needs a text") != std::string::npos);
  CHECK(eng->head() == head);
  // Close before acknowledge, with a reason: allowed.
  auto closed = eng->close("ops", id, "false alarm: a load test");
  REQUIRE_MESSAGE(closed.ok, closed.message);
  CHECK(only_incident().status == "closed");
  CHECK(!only_incident().acknowledged);
}

TEST_CASE("lifecycle: nobody acknowledges by respond_by: escalated, journaled, hook called") {
  // The recovery watch would escalate after 2 min; here it waits 2 h, so respond_by (1 h
  // for a P1) is what escalates the incident.
  lifecycle_fixture f{"[incident]\nverification_timeout_ms = 7200000\n"};
  std::vector<escalation_info> hooked;
  f.eng->on_escalation([&](const escalation_info& x) { hooked.push_back(x); });
  f.incident_from_bad_change(true); // the errors go on after the rollback: it stays open
  auto inc = f.only_incident();
  f.eng->advance(std::chrono::duration_cast<std::chrono::milliseconds>(
    inc.respond_by - f.eng->now() - 1s));
  CHECK(f.count("incident_escalated") == 0);
  CHECK(hooked.empty());
  f.eng->advance(2s);
  auto escalated = f.records("incident_escalated");
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0]["payload"]["incident"] == inc.id);
  CHECK(escalated[0]["payload"]["detail"].get<std::string>().find("respond_by (P1)")
        != std::string::npos);
  REQUIRE(hooked.size() == 1);
  CHECK(hooked[0].incident == inc.id);
  CHECK(hooked[0].severity == "P1");
  CHECK(hooked[0].seq == escalated[0]["seq"].get<uint64_t>());
  CHECK(hooked[0].respond_by == inc.respond_by);
  CHECK(f.only_incident().status == "escalated");
  CHECK(f.only_incident().severity == "P1");
  // Once only; the escalated incident is still acknowledged and worked on.
  f.eng->advance(30min);
  CHECK(f.count("incident_escalated") == 1);
  CHECK(hooked.size() == 1);
  CHECK(f.eng->acknowledge("ops", inc.id, "alice").ok);
}

TEST_CASE("lifecycle: an acknowledged incident is not escalated at respond_by") {
  lifecycle_fixture f{"[incident]\nverification_timeout_ms = 7200000\n"};
  int hooked = 0;
  f.eng->on_escalation([&](const escalation_info&) { ++hooked; });
  f.incident_from_bad_change(true);
  REQUIRE(f.eng->acknowledge("ops", f.only_incident().id, "alice").ok);
  f.eng->advance(61min);
  CHECK(f.count("incident_escalated") == 0);
  CHECK(hooked == 0);
  CHECK(f.only_incident().status == "open");
}

TEST_CASE("lifecycle: an escalation the journal refused at respond_by is journaled once it "
          "takes writes again") {
  lifecycle_fixture f{"[incident]\nverification_timeout_ms = 7200000\n"};
  int hooked = 0;
  f.eng->on_escalation([&](const escalation_info&) { ++hooked; });
  f.incident_from_bad_change(true);
  auto inc = f.only_incident();
  f.eng->advance(std::chrono::duration_cast<std::chrono::milliseconds>(
    inc.respond_by - f.eng->now() - 1s));
  f.eng->inject_journal_failures(true); // the journal fails when respond_by comes
  f.eng->advance(10s);
  CHECK(f.count("incident_escalated") == 0);
  CHECK(hooked == 0);
  CHECK(f.only_incident().status == "open");
  f.eng->inject_journal_failures(false);
  f.eng->advance(2s); // no restart: the running orchestrator tries again
  CHECK(f.count("incident_escalated") == 1);
  CHECK(hooked == 1);
  CHECK(f.only_incident().status == "escalated");
  f.eng->advance(30min);
  CHECK(f.count("incident_escalated") == 1); // once only
  CHECK(hooked == 1);
}

TEST_CASE("lifecycle: a restarted engine arms respond_by again from the journal") {
  lifecycle_fixture f{"[incident]\nverification_timeout_ms = 7200000\n"};
  f.incident_from_bad_change(true);
  auto inc = f.only_incident();
  f.restart();
  int hooked = 0;
  f.eng->on_escalation([&](const escalation_info&) { ++hooked; });
  f.eng->advance(61min);
  CHECK(f.count("incident_escalated") == 1);
  CHECK(hooked == 1);
  CHECK(f.only_incident().status == "escalated");
  CHECK(f.only_incident().id == inc.id);
}

TEST_CASE_FIXTURE(lifecycle_fixture,
                  "report: the postmortem from the journal, by the API and offline by the CLI") {
  auto culprit = incident_from_bad_change();
  auto id = only_incident().id;
  REQUIRE(eng->acknowledge("ops", id, "alice").ok);
  tick(40); // recovery verified: closed as recovered
  REQUIRE(only_incident().status == "recovered");
  auto mttr = only_incident().mttr;
  auto r = eng->report(id);
  REQUIRE_MESSAGE(r.status.ok, r.status.message);
  CHECK(r.markdown.find("# Postmortem: incident " + id.substr(0, 16)) != std::string::npos);
  CHECK(r.markdown.find("| " + std::to_string(culprit) + " |") != std::string::npos);
  CHECK(r.markdown.find("| MTTR | ") != std::string::npos);
  CHECK(r.markdown.find("(" + std::to_string(mttr.count()) + " ms)") != std::string::npos);
  auto doc = json::parse(r.json);
  CHECK(doc["incident"] == id);
  CHECK(doc["status"] == "recovered");
  CHECK(doc["mttr_ms"] == mttr.count());
  CHECK(doc["owner"] == "alice");
  CHECK(doc["decision"]["verdict"] == "PROMOTE");
  CHECK(doc["detection"]["error_ppm"].get<uint32_t>() > 250000);
  REQUIRE(doc["changes"].size() == 1);
  CHECK(doc["changes"][0]["seq"] == culprit);
  CHECK(doc["changes"][0]["culprit"] == true);
  CHECK(doc["changes"][0]["reverted"] == true);
  REQUIRE(doc["rollbacks"].size() == 1);
  CHECK(doc["rollbacks"][0]["succeeded"] == true);
  std::vector<std::string> steps;
  for (auto& s : doc["timeline"])
    steps.push_back(s["what"]);
  CHECK(steps == std::vector<std::string>{"candidate_raised", "candidate_decided",
                                          "incident_opened", "rollback_requested",
                                          "approval_granted", "rollback_finished",
                                          "incident_acknowledged", "incident_closed"});
  CHECK(eng->report(std::string(64, '0')).status.code == "INVALID_INPUT");
  CHECK(eng->report("zz").status.code == "INVALID_INPUT");
  // Offline: the same report from the journal directory alone.
  std::string out;
  auto cli = std::string{BULWARK_BINARY} + " incident report " + id + " --data " + dir.sub("journal");
  REQUIRE(run_command(cli, &out) == 0);
  CHECK(out == r.markdown);
  out.clear(); // run_command appends
  REQUIRE(run_command(cli + " --json", &out) == 0);
  auto parsed = json::parse(out, nullptr, false);
  REQUIRE(!parsed.is_discarded());
  CHECK(parsed == doc);
  CHECK(run_command(std::string{BULWARK_BINARY} + " incident report " + std::string(64, '0')
                      + " --data " + dir.sub("journal") + " 2>/dev/null",
                    &out)
        == 1);
  CHECK(run_command(std::string{BULWARK_BINARY} + " incident report zz --data "
                      + dir.sub("journal") + " 2>/dev/null",
                    &out)
        == 1);
}
