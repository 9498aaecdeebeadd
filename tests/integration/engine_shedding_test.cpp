// Detection is never blinded by load shedding: while the node is degraded, metric
// samples are shed fairly per series, and never those of a series with a recent change
// or an open incident.

#include <doctest/doctest.h>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

struct shedding_fixture : engine_fixture {
  std::map<std::string, int> clock; ///< per region: each sample newer than the one before

  metric_sample sample(const std::string& region) {
    metric_sample s;
    s.service = "coaster";
    s.region = region;
    s.error_rate = 0.01;
    s.latency_ms = 10;
    s.at = std::chrono::system_clock::time_point{} + std::chrono::seconds{++clock[region]};
    return s;
  }

  /// Feeds `n` rounds of north then south (a fixed order); returns accepted per region.
  std::map<std::string, int> rounds(int n) {
    std::map<std::string, int> accepted;
    for (int i = 0; i < n; ++i)
      for (auto* region : {"north", "south"})
        accepted[region] += eng->feed_metric(sample(region)) ? 1 : 0;
    return accepted;
  }

  /// Degrades the node: a level-1 proposal waits past 75 % of its approval timeout for
  /// three health rounds in a row.
  void degrade() {
    eng->advance(1s);
    pending = eng->submit(make(1, {change{"gate-1", "mode", "slow"}}, {"gates"}));
    eng->advance(48s);
    REQUIRE(eng->health().level == "degraded");
  }

  std::future<result> pending;
};

} // namespace

TEST_CASE_FIXTURE(shedding_fixture, "shedding is fair per series: two series in a fixed order both keep half") {
  auto normal = rounds(10);
  CHECK(normal["north"] == 10);
  CHECK(normal["south"] == 10);
  degrade();
  auto shed_before = eng->load().telemetry_shed;
  auto degraded = rounds(100);
  // One turn for all series would shed every sample of one of them.
  CHECK(degraded["north"] == 50);
  CHECK(degraded["south"] == 50);
  CHECK(eng->load().telemetry_shed == shed_before + 100);
}

TEST_CASE_FIXTURE(shedding_fixture, "a series with a change inside the look-back is never shed") {
  // A change applied to a coaster in north protects coaster/north.
  REQUIRE(submit_now(make(4, {set(1, "fast")})).ok);
  degrade();
  auto degraded = rounds(100);
  CHECK(degraded["north"] == 100);
  CHECK(degraded["south"] == 50);
}

TEST_CASE_FIXTURE(shedding_fixture, "a series with an open incident is never shed, even critical") {
  // coaster/south fails with no change behind it: an incident with no suspect, so only
  // the incident protects the series.
  for (int i = 0; i < 60; ++i) {
    eng->advance(1s);
    for (auto* region : {"north", "south"}) {
      auto s = sample(region);
      s.error_rate = region == std::string{"south"} && i >= 20 ? 0.3 : 0.01;
      REQUIRE(eng->feed_metric(s));
    }
  }
  auto incidents = eng->incidents();
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].region == "south");
  CHECK(incidents[0].culprits.empty());
  // Critical: a proposal's approval waits past 90 % of its timeout for three rounds.
  pending = eng->submit(make(1, {change{"gate-1", "mode", "slow"}}, {"gates"}));
  eng->advance(57s);
  REQUIRE(eng->health().level == "critical");
  auto critical = rounds(100);
  CHECK(critical["south"] == 100);
  CHECK(critical["north"] == 25); // one in four
}
