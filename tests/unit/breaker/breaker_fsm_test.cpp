// The breaker's pure core against tables of cases for each strategy.

#include <doctest/doctest.h>

#include <random>

#include "actors/circuit_breaker/breaker.hpp"
#include "actors/circuit_breaker/breaker_fsm.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp t(int64_t ms) {
  return caf::timestamp{std::chrono::milliseconds{1'700'000'000'000 + ms}};
}

/// Feeds `pattern` ('o' ok, 'x' failure, 's' slow ok) and returns the state after it.
breaker_state feed(breaker_fsm& b, const std::string& pattern, int64_t start = 0) {
  int64_t at = start;
  for (char c : pattern) {
    REQUIRE(b.admit(t(at)).admitted);
    b.record(c != 'x', c == 's' ? 10s : 1ms, t(at));
    at += 10;
  }
  return b.state();
}

breaker_limits only_consecutive(uint32_t n) {
  breaker_limits l;
  l.consecutive_failures = n;
  l.failure_rate = 0;
  return l;
}

} // namespace

TEST_CASE("consecutive failures: the fifth in a row trips, a success resets the count") {
  struct row {
    const char* pattern;
    breaker_state expected;
  };
  const row rows[] = {
    {"xxxx", breaker_state::closed},
    {"xxxxx", breaker_state::open},
    {"xxxxoxxxx", breaker_state::closed},
    {"oooooxxxxx", breaker_state::open},
  };
  for (auto& r : rows) {
    CAPTURE(r.pattern);
    breaker_fsm b{only_consecutive(5)};
    CHECK(feed(b, r.pattern) == r.expected);
  }
}

TEST_CASE("failure rate counts only from the minimum number of calls") {
  breaker_limits l;
  l.consecutive_failures = 0;
  l.failure_rate = 50;
  l.window_calls = 10;
  l.minimum_calls = 6;
  struct row {
    const char* pattern;
    breaker_state expected;
  };
  const row rows[] = {
    {"xoxox", breaker_state::closed},      // 5 calls: below the minimum
    {"xoxoxo", breaker_state::open},       // 6 calls, 50%
    {"ooooxoxo", breaker_state::closed},   // 8 calls, 25%
    {"oooooooooooxxxxx", breaker_state::open}, // window of 10: 5 of the last 10 failed
  };
  for (auto& r : rows) {
    CAPTURE(r.pattern);
    breaker_fsm b{l};
    CHECK(feed(b, r.pattern) == r.expected);
  }
}

TEST_CASE("a time-based window forgets calls older than the window") {
  breaker_limits l;
  l.consecutive_failures = 0;
  l.failure_rate = 50;
  l.window_time = 1s;
  l.minimum_calls = 4;
  breaker_fsm b{l};
  feed(b, "xxx", 0);      // three failures at t=0..20ms
  feed(b, "oooo", 2000);  // two seconds later: the failures left the window
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.window_calls() == 4);
  feed(b, "xxxx", 2100);
  CHECK(b.state() == breaker_state::open);
}

TEST_CASE("the window's failure and slow counts follow calls in and out of the window") {
  breaker_limits l;
  l.consecutive_failures = 0;
  l.failure_rate = 0;
  l.slow_call_rate = 0; // nothing trips: only the counts are checked
  l.window_calls = 4;
  l.minimum_calls = 4;
  breaker_fsm b{l};
  feed(b, "xxso");
  CHECK(b.window_calls() == 4);
  CHECK(b.window_failures() == 2);
  CHECK(b.window_slow() == 1);
  feed(b, "oo", 100); // the two oldest (both failures) leave the count-based window
  CHECK(b.window_calls() == 4);
  CHECK(b.window_failures() == 0);
  CHECK(b.window_slow() == 1);
  feed(b, "x", 200); // the slow call leaves the window
  CHECK(b.window_failures() == 1);
  CHECK(b.window_slow() == 0);
  // Slow calls count too: a window of four slow calls trips at 75 %.
  l.slow_call_rate = 75;
  breaker_fsm s{l};
  CHECK(feed(s, "sosx") == breaker_state::closed); // 2 of 4 slow
  CHECK(feed(s, "s", 100) == breaker_state::closed); // o,s,x,s: 2 of 4 slow
  CHECK(feed(s, "s", 200) == breaker_state::open);   // s,x,s,s: 3 of 4 slow
}

TEST_CASE("slow-call rate trips on slow successes") {
  breaker_limits l;
  l.consecutive_failures = 0;
  l.failure_rate = 0;
  l.slow_call_rate = 50;
  l.slow_call_duration = 5s;
  l.window_calls = 10;
  l.minimum_calls = 4;
  breaker_fsm b{l};
  CHECK(feed(b, "osos") == breaker_state::open);
}

TEST_CASE("open refuses with the time left, then half-open probes close or reopen it") {
  auto l = only_consecutive(2);
  l.cooldown = 30s;
  l.half_open_probes = 2;
  breaker_fsm b{l};
  feed(b, "xx");
  REQUIRE(b.state() == breaker_state::open);
  auto refused = b.admit(t(10'010));
  CHECK(!refused.admitted);
  CHECK(refused.retry_after == caf::timespan{20s});
  // Cooldown over: two concurrent probes admitted, a third refused.
  auto p1 = b.admit(t(30'010));
  CHECK(p1.admitted);
  REQUIRE(p1.change);
  CHECK(p1.change->to == breaker_state::half_open);
  CHECK(b.admit(t(30'011)).admitted);
  CHECK(!b.admit(t(30'012)).admitted);
  b.record(true, 1ms, t(30'020));
  CHECK(b.state() == breaker_state::half_open);
  auto closed = b.record(true, 1ms, t(30'021));
  REQUIRE(closed);
  CHECK(closed->to == breaker_state::closed);
  // And a failing probe reopens it for a new cooldown.
  feed(b, "xx", 40'000);
  CHECK(b.admit(t(70'020)).admitted);
  auto reopened = b.record(false, 1ms, t(70'030));
  REQUIRE(reopened);
  CHECK(reopened->to == breaker_state::open);
  CHECK(!b.admit(t(90'000)).admitted);
}

TEST_CASE("forced states override results until released") {
  breaker_fsm b{only_consecutive(1)};
  auto f = b.force(true, t(0));
  REQUIRE(f);
  CHECK(f->to == breaker_state::forced_open);
  CHECK(!b.admit(t(999'999)).admitted); // no cooldown ends a forced open
  b.force(false, t(1));
  CHECK(b.state() == breaker_state::forced_closed);
  feed(b, "xxxxx", 2);
  CHECK(b.state() == breaker_state::forced_closed); // failures do not trip it
  auto r = b.release(t(3));
  REQUIRE(r);
  CHECK(r->to == breaker_state::closed);
  CHECK(!b.release(t(4)));
}

TEST_CASE("invalid breaker limits are refused naming the key") {
  auto msg = [](breaker_limits l) {
    auto err = check_limits(l, "breaker");
    REQUIRE(err);
    return describe(err).message;
  };
  breaker_limits l;
  l.failure_rate = 120;
  CHECK(msg(l) == "breaker.failure_rate: must be within 0-100 %");
  l = {};
  l.failure_rate = -1;
  CHECK(msg(l) == "breaker.failure_rate: must be within 0-100 %");
  l = {};
  l.window_calls = 5;
  l.minimum_calls = 10;
  CHECK(msg(l) == "breaker.window_calls: must not be smaller than minimum_calls");
  l = {};
  l.half_open_probes = 0;
  CHECK(msg(l) == "breaker.half_open_probes: must be at least 1");
  l = {};
  l.slow_call_rate = 101;
  CHECK(msg(l).find("slow_call_rate") != std::string::npos);
  CHECK(!check_limits(breaker_limits{}, "breaker"));
}

TEST_CASE("backoff doubles from the base up to the cap, with a jitter factor from 0.5 to 1") {
  breaker_limits l;
  l.backoff_base = 2s;
  l.backoff_cap = 30s;
  std::mt19937_64 rng{7};
  for (uint32_t attempt = 1; attempt <= 6; ++attempt) {
    auto full = std::min<int64_t>(2000LL << (attempt - 1), 30000);
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(backoff(l, attempt, rng)).count();
    CAPTURE(attempt);
    CHECK(d >= full / 2);
    CHECK(d < full);
  }
  std::mt19937_64 a{42}, b{42};
  CHECK(backoff(l, 2, a) == backoff(l, 2, b)); // seeded: the same every run
}
