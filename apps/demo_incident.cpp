// The recovery act of `bulwark demo`: metrics flow from every service and region, one bad
// change breaks one service in one region, the detector confirms the anomaly, root-cause
// analysis names the change, the default policy promotes the candidate, the rollback is
// approved by the scripted operator (or runs at level 4 with --autonomous), and recovery
// is verified. Every other service and region must stay untouched.

#include <set>

#include "apps/demo_scenario.hpp"

namespace bulwark::cli {

using namespace std::chrono_literals;

namespace {

const char* bad_firmware = "2.0.0-rc1";

int64_t ms_between(std::chrono::system_clock::time_point a, std::chrono::system_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

} // namespace

/// One simulated second: every series reports, and the scripted operator approves any
/// rollback waiting for a person.
void demo_scenario::tick() {
  eng_->advance(1s);
  std::set<std::pair<std::string, std::string>> series;
  for (auto& r : fleet_)
    series.insert({r.service, r.region});
  for (auto& [service, region] : series) {
    metric_sample m{service, region, world_.error_rate(service, region), 20.0, eng_->now()};
    expect(eng_->feed_metric(m), "a sane metric sample was refused");
  }
  for (auto& id : eng_->pending_rollbacks()) {
    auto r = eng_->approve("ops-alice", id);
    note("  ops-alice approves rollback " + id.substr(0, 12) + ": " + r.status + " ("
         + std::to_string(r.applied) + " actions reverted)");
  }
}

void demo_scenario::act_incident() {
  for (auto& r : fleet_)
    world_.place(r.resource.value, r.service, r.region);
  world_.poison("firmware", bad_firmware);
  eng_->advance(2h); // a fresh rolling window for the rollout
  note("metrics: every service and region reports its error rate each second");
  for (int i = 0; i < 40; ++i)
    tick();
  note("rollout-agent: level 4, lights north brightness=80 on one resource (a good change)");
  auto good = submit_now(make("rollout-agent", 4, "lights", "north",
                              {{pick("lights", "north"), "brightness", "80"}}));
  expect(good.status == "succeeded", "the good change should succeed");
  for (int i = 0; i < 10; ++i)
    tick();
  std::vector<change> changes;
  std::set<std::string> chosen;
  while (chosen.size() < 2) // 5 % of the 40 coasters of the north: the budget's two
    chosen.insert(pick("coaster", "north"));
  for (auto& id : chosen)
    changes.push_back({id, "firmware", bad_firmware});
  note("rollout-agent: level 4, firmware " + std::string{bad_firmware}
       + " on 2 coaster north controllers (the bad change)");
  auto bad = submit_now(make("rollout-agent", 4, "coaster", "north", changes));
  expect(bad.status == "succeeded", "the bad change should apply: " + bad.message);
  auto applied_at = eng_->now();
  std::string incident;
  auto detected_at = applied_at;
  for (int i = 0; i < 180 && incident.empty(); ++i) {
    tick();
    for (auto& n : eng_->incidents())
      incident = n.id;
    detected_at = eng_->now();
  }
  expect(!incident.empty(), "the bad change should open an incident");
  if (incident.empty())
    return;
  auto info = eng_->incidents().front();
  note("detector: coaster/north error rate over threshold; incident " + incident.substr(0, 12)
       + " (" + info.severity + "), culprits " + std::to_string(info.culprits.size())
       + " actions");
  for (int i = 0; i < 180 && eng_->incidents().front().status == "open"; ++i)
    tick();
  info = eng_->incidents().front();
  note("incident " + incident.substr(0, 12) + ": " + info.status + " after rollback "
       + info.rollback.substr(0, 12) + " (" + info.rollback_result + "); MTTR "
       + std::to_string(info.mttr.count()) + " ms");
  // Checks: one incident, the right culprit, recovery in time, nobody else touched.
  auto cands = eng_->candidates();
  expect(eng_->incidents().size() == 1, "exactly one incident expected");
  for (auto& c : cands)
    expect(c.service == "coaster" && c.region == "north",
           "cascading: a candidate was raised for " + c.service + "/" + c.region);
  std::set<uint64_t> culprit_seqs(info.culprits.begin(), info.culprits.end());
  expect(culprit_seqs.size() == chosen.size(), "the culprit should be the 4 firmware actions");
  for (auto& id : chosen) {
    auto v = eng_->attribute(id, "firmware");
    expect(v && *v != bad_firmware, "the bad firmware should be rolled back on " + id);
  }
  expect(info.status == "recovered", "the incident should close as recovered");
  auto confirmation = 30s, verification = 30s;
  auto target = std::chrono::duration_cast<std::chrono::milliseconds>(confirmation + verification + 1s);
  expect(ms_between(info.onset, detected_at) < 30'000, "detection took 30 s or more");
  expect(info.mttr <= target, "MTTR over target: " + std::to_string(info.mttr.count()) + " ms");
  for (auto& b : eng_->breakers())
    expect(b.state == "closed", "breaker " + b.service + " should be closed, is " + b.state);
  auto second = eng_->rollback("ops-alice", incident);
  note("ops-alice asks to roll back the recovered incident again: " + second.status);
  expect(second.status == "no-op", "a second rollback must be a no-op");
  std::vector<uint64_t> seqs(culprit_seqs.begin(), culprit_seqs.end());
  incident_summary_ = {{"id", incident},
                       {"severity", info.severity},
                       {"status", info.status},
                       {"culprit_seqs", seqs},
                       {"rollback", info.rollback},
                       {"rollback_mode", args_.autonomous ? "level 4 (autonomous)"
                                                          : "level 1 (approved by ops-alice)"},
                       {"detection_ms", ms_between(info.onset, detected_at)},
                       {"onset_after_change_ms", ms_between(applied_at, info.onset)},
                       {"mttr_ms", info.mttr.count()},
                       {"mttr_target_ms", target.count()},
                       {"candidates", cands.size()}};
}

} // namespace bulwark::cli
