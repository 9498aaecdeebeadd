// Load shedding through the engine: bounded admission with OVERLOADED and retry_after,
// admins ahead of automation, quarantine and release, telemetry shed and counted while
// constitutional events are all present.

#include <doctest/doctest.h>

#include <algorithm>

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
  // The waiting queue is a BACKLOG indicator: its warning is journaled once the queue has
  // stayed over the warning for health.sustain_rounds rounds (3).
  eng->advance(1s);
  CHECK(eng->warnings().empty());
  eng->advance(2s);
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
  // The quarantine is journaled, and a restart keeps it.
  REQUIRE(count(events, "quarantine_changed") == 1);
  auto journaled = std::find_if(events.begin(), events.end(),
                                [](auto& e) { return e.type == "quarantine_changed"; });
  CHECK(journaled->json.find("\"quarantined\":true") != std::string::npos);
  CHECK(journaled->json.find("\"by\":\"admission\"") != std::string::npos);
  CHECK(journaled->json.find("\"principal\":\"agent\"") != std::string::npos);
  restart();
  CHECK(eng->load().quarantined == std::vector<std::string>{"agent"});
  CHECK(submit_now(make(4, {set(2, "y")})).code == "AUTHORITY_DENIED");
  CHECK(eng->release_principal("agent", "agent").code == "AUTHORITY_DENIED"); // admins only
  CHECK(count(events, "quarantine_changed") == 1);
  CHECK(eng->release_principal("admin", "agent").ok);
  CHECK(eng->release_principal("admin", "agent").code == "INVALID_INPUT");
  // The release is journaled too, and survives a restart.
  REQUIRE(count(events, "quarantine_changed") == 2);
  CHECK(events.back().type == "quarantine_changed");
  CHECK(events.back().json.find("\"quarantined\":false") != std::string::npos);
  CHECK(events.back().json.find("\"by\":\"admin\"") != std::string::npos);
  restart();
  CHECK(eng->load().quarantined.empty());
  failing.clear();
  auto back = submit_now(make(4, {set(3, "ok")}));
  CHECK_MESSAGE(back.ok, back.code << ": " << back.message);
}

TEST_CASE_FIXTURE(engine_fixture, "telemetry is shed first and counted, constitutional events never") {
  int n = 0; // each sample newer than the one before (the detector refuses the rest)
  auto sample = [&n](int i) {
    metric_sample s;
    s.service = "coaster";
    s.region = "north";
    s.error_rate = 0.01;
    s.latency_ms = i;
    s.at = std::chrono::system_clock::time_point{} + std::chrono::seconds{++n};
    return s;
  };
  for (int i = 0; i < 10; ++i)
    CHECK(eng->feed_metric(sample(i)));
  CHECK(eng->load().telemetry_shed == 0);
  // Degrade the node (a pending approval past 75 % of its timeout) and flood both ways.
  auto slow = eng->submit(make(1, {set(1, "slow")}));
  eng->advance(48s); // past 75 % for three rounds in a row
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

namespace {

/// Slow token rates (burst 4), and approvals that degrade the node long before they expire.
struct rate_fixture : engine_fixture {
  rate_fixture()
    : engine_fixture("[authority]\nrate_per_second = 0.001\nburst = 4.0\n"
                     "[blast_radius]\nmax_percent = 100.0\n") {
  }

  /// Submits level-4 proposals of `principal` until one is rate limited; returns how many
  /// were allowed first (at most `cap`).
  int allowed_before_limit(const std::string& principal, int cap) {
    for (int i = 0; i < cap; ++i) {
      auto r = submit_now(make(4, {set(i % 20, principal + std::to_string(i))}, {"coaster"},
                               {"north"}, "", principal));
      if (r.code == "RATE_LIMITED")
        return i;
      REQUIRE_MESSAGE(r.ok, r.code << ": " << r.message);
    }
    return cap;
  }
};

} // namespace

TEST_CASE_FIXTURE(rate_fixture, "token rates shrink while the node is degraded and recover") {
  eng->advance(1s);
  CHECK(allowed_before_limit("agent", 10) == 4); // the whole burst at normal
  // A level-1 proposal waiting for approval past 75 % of its timeout for three rounds in a
  // row degrades the node.
  auto waiting = eng->submit(make(1, {set(30, "slow")}, {"coaster"}, {"south"}, "", "low"));
  eng->advance(46s);
  CHECK(eng->health().level == "normal"); // two rounds past 75 %: not sustained yet
  eng->advance(2s);
  REQUIRE(eng->health().level == "degraded");
  CHECK(allowed_before_limit("ops", 10) == 2); // half the burst while degraded
  eng->advance(13s); // the approval expires; the node recovers on its own
  eng->advance(2s);
  REQUIRE(eng->health().level == "normal");
  CHECK(waiting.get().code == "APPROVAL_EXPIRED");
  // A principal's full burst again (a new principal: the others' buckets are spent).
  REQUIRE(eng->grant("admin", "agent2", 4).ok);
  CHECK(allowed_before_limit("agent2", 10) == 4);
}

namespace {

/// One proposal in flight at a time, so the order of admission is the order of decisions.
struct single_lane_fixture : engine_fixture {
  single_lane_fixture()
    : engine_fixture("[admission]\nmax_in_flight = 1\nmax_queued = 50\nper_principal = 20\n"
                     "[blast_radius]\nmax_percent = 100.0\n") {
  }

  /// The principals of the proposals decided so far, in journal order.
  std::vector<std::string> deciders() const {
    std::vector<std::string> out;
    for (auto& e : events)
      if (e.type == "proposal_decided")
        for (auto* p : {"\"principal\":\"agent\"", "\"principal\":\"ops\""})
          if (e.json.find(p) != std::string::npos)
            out.push_back(std::string{p}.substr(13, std::string{p}.size() - 14));
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(single_lane_fixture, "a flooding principal does not delay another beyond its turn") {
  // agent floods ten level-1 proposals: one is in flight (waiting for its approval), nine
  // wait in admission. Then ops asks once.
  std::vector<std::future<result>> flood;
  for (int i = 0; i < 10; ++i)
    flood.push_back(eng->submit(make(1, {set(i, "flood")})));
  eng->run();
  auto theirs = eng->submit(make(1, {set(20, "mine")}, {"coaster"}, {"south"}, "", "ops"));
  eng->run();
  REQUIRE(eng->pending().size() == 1); // only agent's first is admitted
  CHECK(eng->load().queued == 10);
  // Each approval frees the slot. Principals take turns: agent's next proposal had its
  // turn booked before ops arrived, so ops comes right after it, not after all nine.
  auto approve_next = [&] {
    auto p = eng->pending();
    REQUIRE(p.size() == 1);
    REQUIRE(eng->approve("admin", p[0].proposal).ok);
    eng->run();
  };
  approve_next();
  approve_next();
  CHECK(deciders() == std::vector<std::string>{"agent", "agent", "ops"});
  approve_next();
  REQUIRE(theirs.wait_for(0s) == std::future_status::ready);
  CHECK(theirs.get().ok); // ops waited one turn, not nine
  CHECK(eng->load().queued == 7);
  for (int i = 0; i < 8; ++i)
    approve_next();
  for (auto& f : flood) {
    REQUIRE(f.wait_for(0s) == std::future_status::ready);
    CHECK(f.get().ok);
  }
  auto order = deciders();
  CHECK(order.size() == 11);
  CHECK(std::count(order.begin(), order.end(), "ops") == 1);
}
