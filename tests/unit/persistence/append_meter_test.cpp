// The append meter: totals, the rate over the last seconds and latency quantiles.

#include <doctest/doctest.h>

#include "persistence/append_meter.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

append_meter::time_point at(std::chrono::milliseconds ms) {
  return append_meter::time_point{ms};
}

} // namespace

TEST_CASE("an empty append meter reports zeros") {
  append_meter m;
  auto s = m.summarize(at(5000ms));
  CHECK(s.events_total == 0);
  CHECK(s.events_per_second == 0);
  CHECK(s.samples == 0);
  CHECK(s.p50 == caf::timespan{0});
  CHECK(s.p99 == caf::timespan{0});
}

TEST_CASE("the append rate covers the last ten seconds and forgets older ones") {
  append_meter m;
  m.record(at(1000ms), 500, {1ms});      // second 1
  m.record(at(5500ms), 300, {1ms, 2ms}); // second 5
  m.record(at(10900ms), 200, {3ms});     // second 10, still filling
  auto s = m.summarize(at(10950ms));
  CHECK(s.events_total == 1000);
  CHECK(s.appends_total == 4);
  CHECK(s.commits_total == 3); // one per record(): each is one durable transaction
  CHECK(s.events_per_second == doctest::Approx(100.0)); // seconds 1..10: 1000 / 10
  auto later = m.summarize(at(11000ms)); // second 1 has left the window
  CHECK(later.events_per_second == doctest::Approx(50.0));
  auto much_later = m.summarize(at(60000ms));
  CHECK(much_later.events_per_second == 0);
  CHECK(much_later.events_total == 1000); // totals stay
  CHECK(much_later.commits_total == 3);
  // A bucket reused after the ring wrapped starts from zero.
  m.record(at(12000ms), 7, {}); // second 12 shares its slot with second 1
  CHECK(m.summarize(at(12000ms)).events_per_second == doctest::Approx((300 + 200 + 7) / 10.0));
}

TEST_CASE("append latency quantiles come from the newest samples") {
  append_meter m;
  std::vector<caf::timespan> lat;
  for (int i = 1; i <= 100; ++i)
    lat.push_back(std::chrono::milliseconds{i});
  m.record(at(0ms), 100, lat);
  auto s = m.summarize(at(0ms));
  CHECK(s.samples == 100);
  CHECK(s.p50 == 51ms); // nearest rank over 1..100 ms
  CHECK(s.p99 == 99ms);
  CHECK(s.sum == caf::timespan{5050ms});
  // Once more than latency_samples arrive, the oldest are forgotten.
  std::vector<caf::timespan> fast(append_meter::latency_samples, 1ms);
  m.record(at(1000ms), fast.size(), fast);
  auto t = m.summarize(at(1000ms));
  CHECK(t.samples == append_meter::latency_samples);
  CHECK(t.p99 == 1ms);
  CHECK(t.appends_total == 100 + append_meter::latency_samples);
}

TEST_CASE("the journal's queue: the largest batch one commit answered, same window") {
  append_meter m;
  m.record(at(1000ms), 150, std::vector<caf::timespan>(150, 1ms)); // 150 appends waited
  m.record(at(2000ms), 3, {1ms, 1ms, 1ms});
  CHECK(m.summarize(at(2500ms)).max_batch == 150);
  CHECK(m.summarize(at(11500ms)).max_batch == 3); // second 1 has left the window
  CHECK(m.summarize(at(30000ms)).max_batch == 0); // quiet: no backlog
}
