// Load shedding through the engine: bounded admission with OVERLOADED and retry_after,
// admins ahead of automation, quarantine and release, telemetry shed and counted while
// constitutional events are all present.

#include <doctest/doctest.h>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

struct tight_fixture : engine_fixture {
  tight_fixture()
    : engine_fixture("[admission]\nmax_in_flight = 2\nmax_queued = 3\nper_principal = 3\n"
                     "quarantine_after = 3\n[health]\nadmission_queued_warning = 2\n"
                     "admission_queued_critical = 50\n") {
  }
};

int count(const std::vector<committed_event>& events, const std::string& type) {
  int n = 0;
  for (auto& e : events)
    n += e.type == type;
  return n;
}

} // namespace

TEST_CASE_FIXTURE(tight_fixture, "a 10x flood: the bound is admitted, the rest hear OVERLOADED at once") {
  // Level-1 proposals hold their slots while they wait for an approval.
  std::vector<std::future<result>> waiting;
  for (int i = 0; i < 50; ++i)
    waiting.push_back(eng->submit(make(1, {set(i % 40, "v" + std::to_string(i))}, {"coaster"},
                                       {i % 40 < 20 ? "north" : "south"})));
  eng->run();
  int overloaded = 0, pending = 0;
  for (auto& f : waiting) {
    if (f.wait_for(0s) != std::future_status::ready) {
      ++pending;
      continue;
    }
    auto r = f.get();
    CHECK(r.code == "OVERLOADED");
    CHECK(r.retry_after);
    ++overloaded;
  }
  CHECK(pending == 5);     // 2 in flight + 3 queued
  CHECK(overloaded == 45); // answered at once
  auto l = eng->load();
  CHECK(l.in_flight == 2);
  CHECK(l.queued == 3);
  CHECK(l.refused == 45);
  // Every admitted proposal's decision is journaled; no refused one reached the pipeline.
  CHECK(count(events, "proposal_decided") == 2);
  // The waiting queue is a BACKLOG indicator: its warning is journaled.
  eng->advance(1s);
  bool warned = false;
  for (auto& w : eng->warnings())
    warned |= w.mode == "BACKLOG" && w.indicator == "admission_queued" && w.value == 3;
  CHECK(warned);
  CHECK(count(events, "early_warning") >= 1);
  // An admin's proposal goes ahead of the waiting automation.
  auto urgent = eng->submit(make(4, {set(5, "admin")}, {"coaster"}, {"north"}, {}, "admin"));
  eng->run();
  for (auto& p : eng->pending())
    CHECK(eng->approve("admin", p.proposal).ok);
  eng->run();
  CHECK(urgent.wait_for(0s) == std::future_status::ready);
}

TEST_CASE_FIXTURE(tight_fixture, "a principal that keeps failing is quarantined until released") {
  failing.insert("coaster-1/mode");
  for (int i = 0; i < 3; ++i) {
    auto r = submit_now(make(4, {set(1, "bad" + std::to_string(i))}));
    CHECK(!r.ok);
    eng->advance(2min); // out of the breaker's and the blast window's way
  }
  auto q = submit_now(make(4, {set(2, "x")}));
  CHECK(q.code == "AUTHORITY_DENIED");
  CHECK(q.message.find("quarantined") != std::string::npos);
  CHECK(eng->load().quarantined == std::vector<std::string>{"agent"});
  CHECK(eng->release_principal("agent", "agent").code == "AUTHORITY_DENIED"); // admins only
  CHECK(eng->release_principal("admin", "agent").ok);
  CHECK(eng->release_principal("admin", "agent").code == "INVALID_INPUT");
  failing.clear();
  auto back = submit_now(make(4, {set(3, "ok")}));
  CHECK_MESSAGE(back.ok, back.code << ": " << back.message);
}

TEST_CASE_FIXTURE(engine_fixture, "telemetry is shed first and counted; constitutional events never") {
  auto sample = [](int i) {
    metric_sample s;
    s.service = "coaster";
    s.region = "north";
    s.error_rate = 0.01;
    s.latency_ms = i;
    return s;
  };
  for (int i = 0; i < 10; ++i)
    CHECK(eng->feed_metric(sample(i)));
  CHECK(eng->load().telemetry_shed == 0);
  // Degrade the node (a pending approval past 75 % of its timeout) and flood both ways.
  auto slow = eng->submit(make(1, {set(1, "slow")}));
  eng->advance(46s);
  REQUIRE(eng->health().level != "normal");
  int fed = 0;
  for (int i = 0; i < 100; ++i)
    fed += eng->feed_metric(sample(i)) ? 1 : 0;
  CHECK(fed < 100);
  CHECK(eng->load().telemetry_shed == static_cast<uint64_t>(100 - fed));
  int allowed = 0;
  for (int i = 0; i < 10; ++i)
    allowed += submit_now(make(4, {set(20 + i, "x")}, {"coaster"}, {"south"}, {}, "ops")).ok;
  CHECK(allowed >= 1);
  CHECK(count(events, "proposal_decided") == 11); // every proposal's decision journaled
  CHECK(count(events, "proposal_finished") == allowed);
  CHECK(slow.wait_for(0s) != std::future_status::ready);
}
