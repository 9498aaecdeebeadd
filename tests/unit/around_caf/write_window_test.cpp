// The write window: closed until opened, open until the instant it was given (not at it),
// closed at once by close(), and moved either way by a later open_until.

#include <doctest/doctest.h>

#include <chrono>

#include "around_caf/write_window.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

TEST_CASE("a write window is open before its end, not at or after it, and closes at once") {
  write_window w;
  auto t = write_window::clock::time_point{} + 1h;
  CHECK(!w.open(t)); // closed until opened
  w.open_until(t + 100ms);
  CHECK(w.open(t));
  CHECK(w.open(t + 99ms));
  CHECK(!w.open(t + 100ms));
  CHECK(!w.open(t + 1s));
  w.open_until(t + 50ms); // a lease's nearer deadline moves the end back
  CHECK(!w.open(t + 60ms));
  CHECK(w.open(t + 40ms));
  w.close();
  CHECK(!w.open(t));
  CHECK(!w.open(write_window::clock::time_point{}));
}

TEST_CASE("a write window opened on the steady clock reads open now and closed later") {
  write_window w;
  w.open_until(write_window::clock::now() + 1h);
  CHECK(w.open());
  CHECK(!w.open(write_window::clock::now() + 2h));
}

TEST_CASE("a clustered node's submission goes through its cluster actor unless its window is open") {
  write_window w;
  CHECK_FALSE(through_cluster(false, nullptr)); // not clustered: straight to admission
  CHECK_FALSE(through_cluster(false, &w));
  CHECK(through_cluster(true, nullptr)); // clustered with no window: always the cluster actor
  CHECK(through_cluster(true, &w));      // closed
  w.open_until(write_window::clock::now() + 1h);
  CHECK_FALSE(through_cluster(true, &w));
  w.close();
  CHECK(through_cluster(true, &w));
}
