// The health actor under the watch supervisor: sampling on its timer, early warnings
// journaled before the failure (VAL-2, VAL-4, PV-002, JOURNAL-SPACE) once the evidence
// held for health.sustain_rounds rounds (3), degradation that returns to normal, and the
// embedding API's view.

#include <doctest/doctest.h>

#include "caf/send.hpp"

#include "bulwark/engine_caf.hpp"
#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

/// Index of the first event of `type` whose JSON contains `text`, or -1.
int find_event(const std::vector<committed_event>& events, const std::string& type,
               const std::string& text) {
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].type == type && events[i].json.find(text) != std::string::npos)
      return static_cast<int>(i);
  return -1;
}

const health_indicator* indicator(const health_info& h, const std::string& id) {
  for (auto& i : h.indicators)
    if (i.id == id)
      return &i;
  return nullptr;
}

struct space_fixture : engine_fixture {
  space_fixture()
    : engine_fixture("[health]\njournal_space_pct_warning = 0.00001\n"
                     "journal_space_pct_critical = 0.00002\n") {
  }
};

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "the health actor samples every indicator on its timer") {
  eng->advance(1s);
  auto h = eng->health();
  CHECK(h.rounds >= 1);
  CHECK(h.level == "normal");
  CHECK(h.modes.size() == 10);
  CHECK_FALSE(indicator(h, "prometheus_failed_rounds")->sampled); // no source configured
  for (auto& m : h.modes)
    CHECK(!m.action.empty());
  auto space = indicator(h, "journal_space_pct");
  REQUIRE(space != nullptr);
  CHECK(space->sampled);
  CHECK(space->value > 0);
  CHECK(space->warning == 80);
  CHECK(space->critical == 90);
  CHECK(indicator(h, "pending_approvals")->sampled);
  CHECK(indicator(h, "verification_age_s")->sampled);
  auto before = h.rounds;
  eng->advance(3s);
  CHECK(eng->health().rounds == before + 3);
  CHECK(eng->warnings().empty());
}

TEST_CASE_FIXTURE(engine_fixture, "VAL-2: an approval waiting too long warns before it expires") {
  eng->advance(1s);
  auto f = eng->submit(make(1, {set(1, "slow")}));
  eng->advance(30s);
  CHECK(find_event(events, "early_warning", "\"VAL-2\"") == -1);
  eng->advance(16s); // 46 s of 60: past 75 % for two rounds, not yet sustained
  CHECK(find_event(events, "early_warning", "\"VAL-2\"") == -1);
  CHECK(eng->health().level == "normal");
  eng->advance(1s); // the third round in a row past 75 %
  auto warned = find_event(events, "early_warning", "\"VAL-2\"");
  REQUIRE(warned >= 0);
  CHECK(events[warned].json.find("\"indicator\":\"approval_age_pct\"") != std::string::npos);
  CHECK(events[warned].json.find("\"threshold\":75") != std::string::npos);
  CHECK(eng->health().level == "degraded");
  REQUIRE(eng->warnings().size() == 1);
  CHECK(eng->warnings()[0].mode == "VAL-2");
  CHECK(eng->warnings()[0].level == "degraded");
  CHECK(eng->warnings()[0].active);
  CHECK(eng->warnings()[0].action.find("approve or deny") != std::string::npos);
  eng->advance(14s); // expired at 60 s
  auto expired = find_event(events, "approval_expired", "");
  REQUIRE(expired >= 0);
  CHECK(warned < expired); // the warning came first
  eng->advance(2s);
  // Back to normal on its own, journaled.
  CHECK(eng->health().level == "normal");
  CHECK(find_event(events, "degradation_changed", "\"to\":\"normal\"") > expired);
  // The samples before the expiry saw 90 % and more: a second, critical warning.
  auto ws = eng->warnings();
  REQUIRE(ws.size() == 2);
  CHECK(ws[1].level == "critical");
  CHECK(!ws[0].active);
  CHECK(!ws[1].active);
  CHECK(f.get().code == "APPROVAL_EXPIRED");
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(engine_fixture, "VAL-4: a restart storm warns before the supervisor escalates") {
  eng->advance(1s);
  for (int i = 0; i < 6; ++i) {
    caf::anon_send_exit(handles_of(*eng).authority, caf::exit_reason::kill);
    eng->run();
    eng->advance(1s);
  }
  auto warned = find_event(events, "early_warning", "\"VAL-4\"");
  auto escalated = find_event(events, "actor_restarted", "\"escalated\":true");
  REQUIRE(warned >= 0);
  REQUIRE(escalated >= 0);
  CHECK(warned < escalated);
  CHECK(events[warned].json.find("restart_intensity_pct") != std::string::npos);
  bool listed = false;
  for (auto& w : eng->warnings())
    listed |= w.mode == "VAL-4" && w.threshold == 60;
  CHECK(listed);
}

TEST_CASE_FIXTURE(engine_fixture, "PV-002: malformed digests are refused and counted") {
  eng->advance(1s);
  CHECK(eng->approve("admin", "not-a-digest").code == "INVALID_INPUT");
  CHECK(eng->approve("admin", std::string(64, 'g')).code == "INVALID_INPUT");
  eng->advance(5s);
  auto pv = indicator(eng->health(), "pv002_refused");
  REQUIRE(pv != nullptr);
  CHECK(pv->value == 2);
  // Two refusals in a minute, held for five rounds, are below the warning (5): a client's
  // few malformed digests do not degrade the node.
  CHECK(pv->level == "normal");
  CHECK(find_event(events, "early_warning", "\"PV-002\"") == -1);
  CHECK(eng->health().level == "normal");
  for (int i = 0; i < 3; ++i)
    CHECK(eng->approve("admin", "bad-" + std::to_string(i)).code == "INVALID_INPUT");
  eng->advance(2s);
  CHECK(indicator(eng->health(), "pv002_refused")->value == 5);
  CHECK(find_event(events, "early_warning", "\"PV-002\"") == -1); // two rounds: not yet
  eng->advance(1s);
  CHECK(find_event(events, "early_warning", "\"PV-002\"") >= 0);
  CHECK(eng->health().level == "degraded");
  eng->advance(2min); // out of the rate window: back to normal
  CHECK(indicator(eng->health(), "pv002_refused")->value == 0);
  CHECK(eng->health().level == "normal");
}

TEST_CASE_FIXTURE(engine_fixture, "PV-003: mutations refused for want of governance are counted") {
  eng->advance(1s);
  caf::anon_send_exit(handles_of(*eng).authority, caf::exit_reason::kill);
  eng->run();
  CHECK(submit_now(make(4, {set(1, "x")})).code == "GOVERNANCE_FAILURE");
  CHECK(submit_now(make(0, {}, {}, {})).ok); // a read is no refusal
  eng->advance(1s);
  CHECK(indicator(eng->health(), "pv003_refused")->value == 1);
  CHECK(find_event(events, "early_warning", "\"PV-003\"") == -1); // one round: not yet
  eng->advance(2s); // the refusal stays in the rate window: sustained
  CHECK(indicator(eng->health(), "pv003_refused")->value == 1);
  CHECK(find_event(events, "early_warning", "\"PV-003\"") >= 0);
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(space_fixture, "JOURNAL-SPACE: the critical level is reached and journaled") {
  // The first round runs at start: the third in a row is at 2 s.
  eng->advance(1s);
  CHECK(eng->health().level == "normal");
  CHECK(eng->warnings().empty());
  eng->advance(1s);
  auto h = eng->health();
  CHECK(h.level == "critical");
  auto ws = eng->warnings();
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].mode == "JOURNAL-SPACE");
  CHECK(ws[0].level == "critical");
  CHECK(ws[0].threshold == doctest::Approx(0.00002));
  CHECK(ws[0].action.find("max_map_mb") != std::string::npos);
  // The halt guard refuses new mutations now, before journal writes start failing; reads
  // go on.
  auto refused = submit_now(make(4, {set(1, "x")}));
  CHECK(refused.code == "AUDIT_UNAVAILABLE");
  CHECK(refused.message.find("JOURNAL-SPACE") != std::string::npos);
  CHECK(refused.retry_after);
  CHECK(calls.empty());
  CHECK(submit_now(make(0, {}, {}, {})).ok);
  eng->stop();
  std::string out;
  REQUIRE(test::run_command("/usr/bin/python3 " BULWARK_SOURCE_DIR
                            "/tests/tools/verify_journal.py " + dir.sub("journal") + " --json",
                            &out) == 0);
  CHECK(out.find("\"early_warning\": 1") != std::string::npos);
  CHECK(out.find("\"degradation_changed\": 1") != std::string::npos);
}

TEST_CASE_FIXTURE(engine_fixture, "health events decode in the independent verifier") {
  eng->advance(1s);
  auto f = eng->submit(make(1, {set(1, "slow")}));
  eng->advance(50s);
  eng->advance(20s);
  CHECK(f.get().code == "APPROVAL_EXPIRED");
  REQUIRE(find_event(events, "early_warning", "") >= 0);
  REQUIRE(find_event(events, "degradation_changed", "") >= 0);
  eng->stop();
  std::string out;
  auto rc = test::run_command("/usr/bin/python3 " BULWARK_SOURCE_DIR
                              "/tests/tools/verify_journal.py " + dir.sub("journal") + " --json",
                              &out);
  CHECK(rc == 0);
  CHECK(out.find("\"early_warning\"") != std::string::npos);
  CHECK(out.find("\"degradation_changed\"") != std::string::npos);
}
