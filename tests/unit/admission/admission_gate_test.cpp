// The caller's side of admission: bounded places reserved before any message, per class,
// per principal and by degradation level; quarantine; counted refusals; rate-limited
// shedding reports; exact bounds under concurrent callers.

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "actors/admission/admission_gate.hpp"

using namespace bulwark;
using cls = admission_class;

namespace {

admission_limits small(size_t in_flight, size_t queued, size_t per_principal) {
  admission_limits l;
  l.max_in_flight = in_flight;
  l.max_queued = queued;
  l.per_principal = per_principal;
  return l;
}

} // namespace

TEST_CASE("the gate admits up to the queue bound and refuses the rest with retry_after") {
  admission_gate g{small(2, 3, 100)};
  for (int i = 0; i < 3; ++i)
    REQUIRE(g.try_enter("p" + std::to_string(i), cls::automation, degradation::normal).admitted);
  auto r = g.try_enter("p9", cls::automation, degradation::normal);
  CHECK_FALSE(r.admitted);
  CHECK(r.code == ec::overloaded);
  REQUIRE(r.retry_after);
  CHECK(*r.retry_after == small(2, 3, 100).retry_base * 2); // 3 waiting, 2 per turn
  CHECK(r.reason.find("admission queue full (3 waiting, automation bound 3)") == 0);
  CHECK(g.waiting() == 3);
  CHECK(g.refused().queue_full == 1);
  g.leave("p0");
  CHECK(g.waiting() == 2);
  CHECK(g.try_enter("p9", cls::automation, degradation::normal).admitted);
}

TEST_CASE("automation gets half the queue while degraded and a quarter while critical") {
  admission_gate g{small(1, 8, 100)};
  for (int i = 0; i < 4; ++i)
    REQUIRE(g.try_enter("a", cls::automation, degradation::degraded).admitted);
  CHECK_FALSE(g.try_enter("a", cls::automation, degradation::degraded).admitted);
  CHECK_FALSE(g.try_enter("b", cls::automation, degradation::critical).admitted); // bound 2
  // People and rollbacks keep the whole queue at every level.
  for (int i = 0; i < 4; ++i)
    CHECK(g.try_enter("alice", cls::operator_, degradation::critical).admitted);
  CHECK_FALSE(g.try_enter("bob", cls::rollback, degradation::critical).admitted); // 8 waiting
  CHECK(g.refused().queue_full == 3);
}

TEST_CASE("one principal cannot take more than its own bound") {
  admission_gate g{small(1, 100, 2)};
  CHECK(g.try_enter("noisy", cls::automation, degradation::normal).admitted);
  CHECK(g.try_enter("noisy", cls::automation, degradation::normal).admitted);
  auto r = g.try_enter("noisy", cls::automation, degradation::normal);
  CHECK_FALSE(r.admitted);
  CHECK(r.code == ec::overloaded);
  CHECK(r.retry_after);
  CHECK(r.reason == "principal noisy has 2 proposals waiting");
  CHECK(g.waiting_of("noisy") == 2);
  CHECK(g.waiting() == 2); // the refusal took nothing
  CHECK(g.try_enter("quiet", cls::automation, degradation::normal).admitted);
  CHECK(g.refused().principal == 1);
  g.leave("noisy");
  CHECK(g.waiting_of("noisy") == 1);
  CHECK(g.try_enter("noisy", cls::automation, degradation::normal).admitted);
}

TEST_CASE("a quarantined principal is refused at the gate until it is released") {
  admission_gate g{small(1, 100, 100)};
  g.set_quarantined({"bad"});
  auto r = g.try_enter("bad", cls::automation, degradation::normal);
  CHECK_FALSE(r.admitted);
  CHECK(r.code == ec::authority_denied);
  CHECK(r.reason.find("quarantined") != std::string::npos);
  CHECK_FALSE(r.retry_after); // retrying does not help; an operator must release it
  CHECK(g.try_enter("good", cls::automation, degradation::normal).admitted);
  CHECK(g.quarantined() == std::set<std::string>{"bad"});
  CHECK(g.refused().quarantine == 1);
  g.set_quarantined({});
  CHECK(g.try_enter("bad", cls::automation, degradation::normal).admitted);
  g.count_refusal(true);
  g.count_refusal(false);
  CHECK(g.refused().total() == 3);
}

TEST_CASE("more principals than the gate counts: the class bound still holds") {
  admission_gate g{small(1, admission_gate::principal_slots + 10, 1)};
  for (size_t i = 0; i < admission_gate::principal_slots + 10; ++i)
    REQUIRE(g.try_enter("p" + std::to_string(i), cls::automation, degradation::normal).admitted);
  CHECK_FALSE(g.try_enter("late", cls::automation, degradation::normal).admitted);
  for (size_t i = 0; i < admission_gate::principal_slots + 10; ++i)
    g.leave("p" + std::to_string(i));
  CHECK(g.waiting() == 0);
  CHECK(g.waiting_of("p1") == 0);
}

TEST_CASE("shedding is reported at most once per period, with the count since the last") {
  admission_gate g;
  CHECK(g.report_due(1000, 100) == 1); // the first one is reported at once
  CHECK(g.report_due(1010, 100) == 0);
  CHECK(g.report_due(1099, 100) == 0);
  CHECK(g.report_due(1100, 100) == 3); // the two held back and this one
  CHECK(g.report_due(1150, 100) == 0);
  CHECK(g.report_due(5000, 100) == 2);
}

TEST_CASE("concurrent callers never get more places than the bound") {
  admission_gate g{small(1, 100, 1000)};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i)
        admitted += g.try_enter("p" + std::to_string((t * 7 + i) % 5), cls::automation,
                                degradation::normal)
                      .admitted;
    });
  for (auto& th : threads)
    th.join();
  CHECK(admitted.load() == 100);
  CHECK(g.waiting() == 100);
  CHECK(g.refused().queue_full == 3900);
  uint64_t by_principal = 0;
  for (int p = 0; p < 5; ++p)
    by_principal += g.waiting_of("p" + std::to_string(p));
  CHECK(by_principal == 100);
}
