// Shedding never blinds a running observation window: a change protects every series of
// its service for the window (the analysis reads them all), its own series for longer.

#include <doctest/doctest.h>

#include "actors/incident/sample_shedder.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

const caf::timestamp t0{std::chrono::hours{24 * 365 * 50}};

} // namespace

TEST_CASE("shedding: a change protects its whole service for the observation window") {
  sample_shedder s{10min, 5s};
  const sample_shedder::series north{"coaster", "north"}, south{"coaster", "south"},
    gates{"gates", "north"};
  s.change_applied(north, t0);
  // Inside the window: every coaster series is kept, whatever the level.
  for (int i = 0; i < 5; ++i) {
    auto at = t0 + std::chrono::seconds{i};
    CHECK_FALSE(s.shed(north, 2, at));
    CHECK_FALSE(s.shed(south, 2, at));
  }
  CHECK(s.is_protected(south, t0 + 5s - 1ns));
  // After it: the other region is shed like the others (one in four kept); the changed
  // series stays protected for the look-back.
  CHECK_FALSE(s.is_protected(south, t0 + 5s));
  CHECK(s.is_protected(north, t0 + 5s));
  int shed_south = 0;
  for (int i = 0; i < 8; ++i)
    shed_south += s.shed(south, 2, t0 + 6s);
  CHECK(shed_south == 6);
  // Another service was never protected by it.
  CHECK_FALSE(s.is_protected(gates, t0 + 1s));
  // Without a window (the default), only the changed series is protected.
  sample_shedder plain{10min};
  plain.change_applied(north, t0);
  CHECK_FALSE(plain.is_protected(south, t0 + 1s));
  CHECK(plain.is_protected(north, t0 + 1s));
}
