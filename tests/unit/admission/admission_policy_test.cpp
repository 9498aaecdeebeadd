// Admission control's pure core: priorities, fairness, bounds, degradation, quarantine.

#include <doctest/doctest.h>

#include <algorithm>

#include "actors/admission/admission_policy.hpp"

using namespace bulwark;
using cls = admission_class;

namespace {

admission_limits small(size_t in_flight, size_t queued, size_t per_principal = 1000) {
  admission_limits l;
  l.max_in_flight = in_flight;
  l.max_queued = queued;
  l.per_principal = per_principal;
  l.quarantine_after = 3;
  return l;
}

} // namespace

TEST_CASE("operators and rollbacks are dispatched ahead of automation") {
  admission_policy p{small(1, 100)};
  for (uint64_t t = 1; t <= 3; ++t)
    REQUIRE(p.offer(t, "agent", cls::automation).accepted);
  REQUIRE(p.offer(10, "rollback", cls::rollback).accepted);
  REQUIRE(p.offer(20, "alice", cls::operator_).accepted);
  std::vector<uint64_t> order;
  for (int i = 0; i < 5; ++i) {
    auto next = p.dispatch();
    REQUIRE(next.size() == 1);
    order.push_back(next[0]);
    p.finished(next[0], false);
  }
  CHECK(order == std::vector<uint64_t>{20, 10, 1, 2, 3});
  CHECK(p.dispatch().empty());
}

TEST_CASE("a flooding principal does not delay another beyond its share") {
  admission_policy p{small(2, 1000)};
  for (uint64_t t = 1; t <= 200; ++t)
    REQUIRE(p.offer(t, "noisy", cls::automation).accepted);
  REQUIRE(p.offer(1001, "quiet", cls::automation).accepted);
  REQUIRE(p.offer(1002, "quiet", cls::automation).accepted);
  // Principals take turns: quiet's two proposals run within the first four dispatched.
  std::vector<uint64_t> order;
  while (order.size() < 6) {
    for (auto t : p.dispatch())
      order.push_back(t);
    for (auto t : order)
      p.finished(t, false);
  }
  auto pos = [&](uint64_t t) {
    return std::find(order.begin(), order.end(), t) - order.begin();
  };
  CHECK(pos(1001) < 4);
  CHECK(pos(1002) < 4);
  CHECK(p.queued_of("noisy") == 200 - 4);
}

TEST_CASE("beyond the bound callers hear OVERLOADED at once, with a retry_after") {
  admission_policy p{small(4, 10, 6)};
  for (uint64_t t = 1; t <= 6; ++t)
    REQUIRE(p.offer(t, "a", cls::automation).accepted);
  auto own = p.offer(7, "a", cls::automation); // its own bound
  CHECK(!own.accepted);
  CHECK(own.reason.find("principal a has 6 proposals waiting") != std::string::npos);
  REQUIRE(own.retry_after);
  for (uint64_t t = 8; t <= 11; ++t)
    REQUIRE(p.offer(t, "b", cls::automation).accepted);
  auto full = p.offer(12, "c", cls::automation);
  CHECK(!full.accepted);
  CHECK(full.reason.find("admission queue full") != std::string::npos);
  REQUIRE(full.retry_after);
  CHECK(*full.retry_after == std::chrono::milliseconds{50} * 3); // 10 waiting, 4 a turn
  CHECK(p.refused() == 2);
  CHECK(p.dispatch().size() == 4);
  CHECK(p.offer(13, "c", cls::automation).accepted); // room again
}

TEST_CASE("a 10x overload: exactly the capacity is accepted, the rest refused with retry_after") {
  admission_policy p{small(8, 64, 64)};
  size_t accepted = 0, refused = 0, with_retry = 0;
  const size_t capacity = 8 + 64;
  uint64_t t = 0;
  // One burst of ten times the capacity from four principals; the pipeline takes 8.
  for (size_t i = 0; i < 10 * capacity; ++i) {
    auto v = p.offer(++t, "p" + std::to_string(i % 4), cls::automation);
    if (v.accepted)
      ++accepted;
    else {
      ++refused;
      with_retry += v.retry_after ? 1 : 0;
    }
    if (i % 8 == 0)
      p.dispatch();
  }
  CHECK(accepted == capacity);
  CHECK(refused == 9 * capacity);
  CHECK(with_retry == refused);
  // An operator still gets in while automation is refused.
  admission_policy q{small(8, 64, 64)};
  q.set_level(degradation::critical);
  for (uint64_t i = 0; i < 16; ++i)
    REQUIRE(q.offer(i, "agent-" + std::to_string(i % 8), cls::automation).accepted);
  CHECK(!q.offer(100, "agent-9", cls::automation).accepted);
  CHECK(q.offer(101, "alice", cls::operator_).accepted);
}

TEST_CASE("automation's share shrinks as degradation rises and recovers when it falls") {
  admission_policy p{small(8, 40)};
  p.set_level(degradation::degraded);
  size_t n = 0;
  while (p.offer(n + 1, "agent-" + std::to_string(n % 5), cls::automation).accepted)
    ++n;
  CHECK(n == 20); // half of 40
  p.set_level(degradation::critical);
  CHECK(!p.offer(999, "agent-x", cls::automation).accepted);
  CHECK(p.dispatch().size() == 2); // a quarter of 8 in-flight slots
  REQUIRE(p.offer(1000, "alice", cls::operator_).accepted);
  auto more = p.dispatch();
  CHECK(more == std::vector<uint64_t>{1000}); // people keep their slots
  p.set_level(degradation::normal);
  CHECK(p.dispatch().size() == 5); // the full 8 again
  CHECK(p.offer(1001, "agent-y", cls::automation).accepted);
}

TEST_CASE("a principal that keeps failing is quarantined until an operator releases it") {
  admission_policy p{small(4, 100)};
  uint64_t t = 0;
  auto run = [&](const std::string& who, cls c, bool fail) {
    auto v = p.offer(++t, who, c);
    if (!v.accepted)
      return v;
    auto d = p.dispatch();
    REQUIRE(d.size() == 1);
    p.finished(d[0], fail);
    return v;
  };
  run("flaky", cls::automation, true);
  run("flaky", cls::automation, true);
  run("flaky", cls::automation, false); // a success resets the count
  run("flaky", cls::automation, true);
  run("flaky", cls::automation, true);
  CHECK(p.quarantined().empty());
  run("flaky", cls::automation, true);
  CHECK(p.quarantined().count("flaky") == 1);
  auto refused = run("flaky", cls::automation, false);
  CHECK(!refused.accepted);
  CHECK(refused.quarantined);
  CHECK(refused.reason.find("quarantined") != std::string::npos);
  CHECK(run("steady", cls::automation, false).accepted); // others go on
  for (int i = 0; i < 5; ++i)
    run("alice", cls::operator_, true);
  CHECK(p.quarantined().count("alice") == 0); // people are never quarantined
  CHECK(p.release("flaky"));
  CHECK(!p.release("flaky"));
  CHECK(run("flaky", cls::automation, false).accepted);
  CHECK(!p.finished(424242, true)); // unknown tickets are ignored
}
