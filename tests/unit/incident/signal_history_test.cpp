// The analysis of level-3 observation windows: a service's samples in a window, counted
// against the threshold each was judged by.

#include <doctest/doctest.h>

#include "actors/incident/signal_history.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp t(int s) {
  return caf::timestamp{std::chrono::seconds{1'000'000 + s}};
}

} // namespace

TEST_CASE("signal history: a window counts its service's samples and breaches, every region") {
  signal_history h{60s};
  h.record("web", "eu", t(1), 0.01, 0.02);
  h.record("web", "us", t(2), 0.05, 0.02);  // breach
  h.record("web", "eu", t(3), 0.30, 0.10);  // breach, the largest excess
  h.record("db", "eu", t(3), 0.90, 0.02);   // another service: not counted
  h.record("web", "eu", t(9), 0.90, 0.02);  // after the window
  auto s = h.summary("web", t(1), t(5));
  CHECK(s.available);
  CHECK(s.samples == 3);
  CHECK(s.breaches == 2);
  CHECK(s.worst_region == "eu");
  CHECK(s.worst_ppm == 300'000);
  CHECK(s.threshold_ppm == 100'000);
  auto none = h.summary("cache", t(0), t(100));
  CHECK(none.samples == 0);
  CHECK(none.breaches == 0);
  CHECK(none.worst_region.empty());
  // A sample exactly at the threshold does not breach; the window's ends are included.
  signal_history e{60s};
  e.record("web", "eu", t(1), 0.02, 0.02);
  e.record("web", "eu", t(5), 0.03, 0.02);
  CHECK(e.summary("web", t(1), t(5)).samples == 2);
  CHECK(e.summary("web", t(1), t(5)).breaches == 1);
  CHECK(e.summary("web", t(2), t(4)).samples == 0);
}

TEST_CASE("signal history: samples older than the retention, or beyond the cap, are dropped") {
  signal_history h{10s, 3};
  for (int i = 0; i < 5; ++i)
    h.record("web", "eu", t(i), 0.5, 0.02);
  CHECK(h.summary("web", t(0), t(100)).samples == 3); // the newest three
  h.record("web", "eu", t(30), 0.01, 0.02);            // 10 s retention behind t(30)
  auto s = h.summary("web", t(0), t(100));
  CHECK(s.samples == 1);
  CHECK(s.breaches == 0);
}
