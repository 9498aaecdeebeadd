// The service's runtime without an actor system: a test clock and an inline pool (the
// effector runs on the caller's thread), so every step is exact. The effector is cached
// between calls; these cases pin that the cache follows the registry.

#include <doctest/doctest.h>

#include <memory>

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
