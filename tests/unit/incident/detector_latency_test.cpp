// Latency is a signal like the error rate: the detector's pure core (baseline, threshold,
// confirmation, recovery) and the engine opening an incident on p99 latency alone.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "actors/incident/detector_policy.hpp"
#include "actors/incident/incident_policy.hpp"
#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

const caf::timestamp t0{std::chrono::hours{24 * 365 * 50}};

metric_in sample(double latency_ms, int at_s, double rate = 0.01) {
  return metric_in{"coaster", "north", rate, latency_ms, t0 + std::chrono::seconds{at_s}};
}

/// A detector warmed up on coaster/north: 1 % errors, p99 100 ms (10 samples, 1 s apart).
detector_policy warmed(double latency_ms = 100) {
  detector_policy d{detector_settings{}};
  d.add_series("coaster", "north");
  for (int i = 0; i < 10; ++i)
    REQUIRE(d.observe(sample(latency_ms, i), t0 + 1h).verdict == sample_verdict::accepted);
  return d;
}

} // namespace

TEST_CASE("latency: p99 above factor x baseline for the confirmation window confirms an anomaly") {
  auto d = warmed();
  CHECK(d.latency_threshold("coaster", "north") == doctest::Approx(300)); // max(3 x 100, 250)
  CHECK(d.threshold("coaster", "north") == doctest::Approx(0.02));       // errors: unchanged
  caf::optional<anomaly> found;
  int at = 10;
  for (; at < 100 && !found; ++at)
    found = d.observe(sample(400, at), t0 + 1h).confirmed;
  REQUIRE(found);
  CHECK(found->by_latency);
  CHECK(found->onset == t0 + 10s);
  CHECK(found->confirmed - found->onset == 29s); // as for the error rate
  CHECK(found->latency_ms == 400);
  CHECK(found->latency_baseline == doctest::Approx(100));
  CHECK(found->latency_threshold == doctest::Approx(300));
  CHECK(found->error_rate == doctest::Approx(0.01));
  // Reported once.
  CHECK_FALSE(d.observe(sample(400, at), t0 + 1h).confirmed);
  // Its candidate says why, and its decision reads so.
  auto c = make_candidate(*found, rca_result{}, "default");
  CHECK(c.raised_by == "detector: p99 latency 400 ms over threshold 300 ms");
  CHECK(candidate_reason(c) == "detector: p99 latency 400 ms over threshold 300 ms in coaster/north");
  // An error-rate anomaly reads as before.
  c.raised_by = "detector";
  CHECK(candidate_reason(c).find("detector: error rate 10000 ppm over threshold") == 0);
}

TEST_CASE("latency: a short spike, or a rise under the floor, opens nothing") {
  auto d = warmed(10);
  CHECK(d.latency_threshold("coaster", "north") == doctest::Approx(250)); // the floor
  for (int at = 10; at < 100; ++at) // 20 x the baseline, under the floor: not an anomaly
    CHECK_FALSE(d.observe(sample(200, at), t0 + 1h).confirmed);
  for (int at = 100; at < 110; ++at) // over, but for 10 s only
    CHECK_FALSE(d.observe(sample(2000, at), t0 + 1h).confirmed);
  for (int at = 110; at < 200; ++at)
    CHECK_FALSE(d.observe(sample(10, at), t0 + 1h).confirmed);
}

TEST_CASE("latency: its baseline learns only from samples under its threshold") {
  auto d = warmed();
  for (int at = 10; at < 20; ++at)
    d.observe(sample(900, at), t0 + 1h);
  CHECK(d.latency_threshold("coaster", "north") == doctest::Approx(300));
  // A sample under it is learned (EWMA, alpha 0.1): 0.1 x 200 + 0.9 x 100 = 110.
  d.observe(sample(200, 20), t0 + 1h);
  CHECK(d.latency_threshold("coaster", "north") == doctest::Approx(330));
}

TEST_CASE("latency: recovery is verified only once both signals are under their thresholds") {
  auto d = warmed();
  digest id;
  id.bytes.fill(9);
  d.watch(id, "coaster", "north", t0 + 10s);
  // Errors fine, latency over: not recovering.
  for (int at = 10; at < 60; ++at)
    CHECK(d.observe(sample(900, at), t0 + 1h).verified.empty());
  // Both under for the verification window (30 s): recovered.
  std::vector<recovery> done;
  for (int at = 60; at < 100 && done.empty(); ++at)
    done = d.observe(sample(100, at), t0 + 1h).verified;
  REQUIRE(done.size() == 1);
  CHECK(done[0].recovered);
  CHECK(done[0].at == t0 + 90s);
}

TEST_CASE("latency: bad settings are refused naming the key") {
  auto msg = [](const incident_settings& s) {
    return describe(check_incident_settings(s, "f")).message;
  };
  incident_settings s;
  s.detector.latency_factor = 1.0;
  CHECK(msg(s).find("incident.latency_factor") != std::string::npos);
  s = incident_settings{};
  s.detector.latency_floor_ms = 0;
  CHECK(msg(s).find("incident.latency_floor_ms") != std::string::npos);
  s.detector.latency_floor_ms = 4'000'000;
  CHECK(msg(s).find("incident.latency_floor_ms") != std::string::npos);
}

TEST_CASE_FIXTURE(bulwark::test::engine_fixture,
                  "latency: a node opens an incident on p99 latency alone") {
  auto feed = [this](double latency_ms) {
    eng->advance(1s);
    for (auto [s, r] : {std::pair{"coaster", "north"}, {"coaster", "south"}, {"gates", "north"}})
      REQUIRE(eng->feed_metric(metric_sample{s, r, 0.01,
                                             std::string{s} == "coaster" && std::string{r} == "north"
                                               ? latency_ms : 100.0,
                                             eng->now()}));
  };
  for (int i = 0; i < 20; ++i)
    feed(100);
  CHECK(eng->incidents().empty());
  for (int i = 0; i < 35; ++i)
    feed(1500); // the error rate stays at 1 %
  auto incidents = eng->incidents();
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].service == "coaster");
  CHECK(incidents[0].region == "north");
  std::string raised_by;
  for (auto& e : events)
    if (e.type == "candidate_raised")
      raised_by = nlohmann::json::parse(e.json)["payload"]["raised_by"].get<std::string>();
  CHECK(raised_by == "detector: p99 latency 1500 ms over threshold 300 ms");
}
