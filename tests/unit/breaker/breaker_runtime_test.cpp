// The service's runtime without an actor system: a test clock and an inline pool (the
// effector runs on the caller's thread), so every step is exact. The effector is cached
// between calls; these cases pin that the cache follows the registry. The last cases run
// a real pool: where a blocking and a non-blocking effector's calls run.

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "actors/circuit_breaker/breaker_runtime.hpp"
#include "caf/detail/test_actor_clock.hpp"

using namespace bulwark;

namespace {

struct runtime_fixture {
  caf::detail::test_actor_clock clock;
  std::shared_ptr<effector_registry> effectors = std::make_shared<effector_registry>();
  std::shared_ptr<breaker_directory> dir = std::make_shared<breaker_directory>();
  caf::timestamp epoch{std::chrono::milliseconds{1'700'000'000'000}};

  std::unique_ptr<breaker_runtime> make(breaker_limits limits = {}) {
    return std::make_unique<breaker_runtime>(
      clock, breaker_runtime_args{"svc", limits, 1, 0, effectors, dir, epoch});
  }

  effector_request request() const {
    return effector_request{"svc", mutation{resource_id{"r-1"}, "mode", "on"}, false, caf::none,
                            "key", epoch + std::chrono::seconds{60}};
  }
};

effector_fn counting(int& calls, bool ok) {
  return [&calls, ok](const effector_call&) {
    ++calls;
    return effector_result{ok, ok ? ec::none : ec::effector_failed, "", caf::none};
  };
}

} // namespace

TEST_CASE_FIXTURE(runtime_fixture, "a replaced effector runs from the next call on") {
  int first = 0, second = 0;
  effectors->add("svc", counting(first, true));
  auto rt = make();
  rt->execute(request(), reply_to{});
  rt->execute(request(), reply_to{});
  CHECK(first == 2);
  effectors->add("svc", counting(second, false));
  rt->execute(request(), reply_to{});
  CHECK(first == 2);
  CHECK(second == 1);
  auto st = rt->status();
  CHECK(st.window_calls == 3);
  CHECK(st.window_failures == 1);
  CHECK(st.in_flight == 0);
}

TEST_CASE_FIXTURE(runtime_fixture, "an effector added after the runtime started is found") {
  breaker_limits l;
  l.attempts = 1;
  auto rt = make(l);
  rt->execute(request(), reply_to{}); // no effector yet: unavailable
  CHECK(rt->status().window_failures == 1);
  int calls = 0;
  effectors->add("other", counting(calls, true));
  rt->execute(request(), reply_to{});
  CHECK(calls == 0); // another service's effector is not this one's
  CHECK(rt->status().window_failures == 2);
  effectors->add("svc", counting(calls, true));
  rt->execute(request(), reply_to{});
  CHECK(calls == 1);
  CHECK(rt->status().window_failures == 2);
  CHECK(rt->status().window_calls == 3);
}

namespace {

/// Waits (up to 10 s) until the runtime has no call in flight.
bool settled(const breaker_runtime& rt) {
  for (int i = 0; i < 10000 && rt.status().in_flight > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return rt.status().in_flight == 0;
}

/// An effector that notes the thread it ran on and whether it was told it runs inline.
effector_fn noting(std::mutex& mtx, std::thread::id& on, bool& told_inline) {
  return [&](const effector_call& c) {
    std::lock_guard<std::mutex> guard{mtx};
    on = std::this_thread::get_id();
    told_inline = c.inline_call;
    return effector_result{true, ec::none, "", caf::none};
  };
}

} // namespace

TEST_CASE_FIXTURE(runtime_fixture, "a blocking effector runs on the pool, a non-blocking one "
                                   "on the calling thread") {
  std::mutex mtx;
  std::thread::id on;
  bool told_inline = true;
  auto pooled = [&] {
    return std::make_unique<breaker_runtime>(
      clock, breaker_runtime_args{"svc", breaker_limits{}, 1, 2, effectors, dir, epoch});
  };
  SUBCASE("blocking: a pool thread") {
    effectors->add("svc", noting(mtx, on, told_inline));
    auto rt = pooled();
    rt->execute(request(), reply_to{});
    REQUIRE(settled(*rt));
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(on != std::thread::id{});
    CHECK(on != std::this_thread::get_id());
    CHECK_FALSE(told_inline);
  }
  SUBCASE("non-blocking: answered before execute returns, on this thread") {
    effectors->add("svc", noting(mtx, on, told_inline), [] { return true; });
    auto rt = pooled();
    rt->execute(request(), reply_to{});
    CHECK(rt->status().in_flight == 0);
    CHECK(rt->status().window_calls == 1);
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(on == std::this_thread::get_id());
    CHECK(told_inline);
  }
  SUBCASE("non-blocking but not now (a chaos delay): the pool") {
    effectors->add("svc", noting(mtx, on, told_inline), [] { return false; });
    auto rt = pooled();
    rt->execute(request(), reply_to{});
    REQUIRE(settled(*rt));
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(on != std::this_thread::get_id());
    CHECK_FALSE(told_inline);
  }
}

TEST_CASE_FIXTURE(runtime_fixture, "an effector that throws anything answers a failed call") {
  breaker_limits l;
  l.attempts = 1;
  bool nonblocking = false;
  SUBCASE("blocking") {
  }
  SUBCASE("non-blocking") {
    nonblocking = true;
  }
  effectors->add(
    "svc", [](const effector_call&) -> effector_result { throw 42; },
    nonblocking ? std::function<bool()>{[] { return true; }} : std::function<bool()>{});
  auto rt = std::make_unique<breaker_runtime>(
    clock, breaker_runtime_args{"svc", l, 1, 2, effectors, dir, epoch});
  rt->execute(request(), reply_to{});
  REQUIRE(settled(*rt));
  CHECK(rt->status().window_calls == 1);
  CHECK(rt->status().window_failures == 1);
}
