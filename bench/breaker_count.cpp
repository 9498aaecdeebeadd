// What the breaker spends per effector call, counted rather than timed: heap allocations
// (a counting operator new) and, under callgrind, instructions. Wall-clock figures on a
// shared machine are noisy; these two are not.
//
// Three loops, each a function of its own so that callgrind shows its inclusive cost:
// - gate_calls: admission, dispatch, result and answer of the gate alone;
// - runtime_calls: the same through the service's runtime with an inline pool (the gate,
//   the effector lookup, the pool hand-off, the answer's message; no threads, no actors);
// - refusal_calls: an open breaker refusing through the runtime.
//
// Usage: breaker_count [calls]
//        valgrind --tool=callgrind breaker_count, then callgrind_annotate --inclusive=yes
//        (each loop's Ir divided by the calls is the instructions per call)

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "actors/circuit_breaker/breaker_gate.hpp"
#include "actors/circuit_breaker/breaker_runtime.hpp"
#include "caf/detail/test_actor_clock.hpp"
#include "messages/error.hpp"

namespace {

std::atomic<size_t> allocations{0};

} // namespace

void* operator new(size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (auto p = std::malloc(n == 0 ? 1 : n))
    return p;
  throw std::bad_alloc{};
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

using namespace bulwark;

namespace {

std::vector<effector_request> requests(size_t n, caf::timestamp deadline) {
  std::vector<effector_request> xs;
  xs.reserve(n);
  for (size_t i = 0; i < n; ++i)
    xs.push_back(effector_request{"svc", mutation{resource_id{"r-1"}, "mode", "on"}, false,
                                  caf::none, "bench/0", deadline});
  return xs;
}

effector_result ok() {
  return effector_result{true, ec::none, "", caf::none};
}

__attribute__((noinline)) void gate_calls(breaker_gate& gate, std::vector<effector_request>& xs,
                                          gate_time& now) {
  for (auto& req : xs) {
    now.tick += std::chrono::microseconds{10};
    now.at += std::chrono::microseconds{10};
    uint64_t token = 0;
    uint32_t attempt = 0;
    {
      gate_effects fx;
      gate.execute(std::move(req), reply_to{}, now, fx);
      fx.dispatches.each([&](gate_dispatch& d) {
        token = d.token;
        attempt = d.attempt;
      });
    }
    gate_effects fx;
    gate.finish(token, attempt, ok(), now, fx);
  }
}

__attribute__((noinline)) void runtime_calls(breaker_runtime& rt,
                                             caf::detail::test_actor_clock& clock,
                                             std::vector<effector_request>& xs) {
  for (auto& req : xs) {
    clock.current_time += std::chrono::microseconds{10};
    rt.execute(std::move(req), reply_to{});
  }
}

__attribute__((noinline)) void refusal_calls(breaker_runtime& rt,
                                             std::vector<effector_request>& xs) {
  for (auto& req : xs)
    rt.execute(std::move(req), reply_to{});
}

/// Runs `f` on `n` fresh requests after as many for warm-up; returns allocations per call.
template <class F>
double per_call(size_t n, caf::timestamp deadline, F f) {
  auto warm = requests(n, deadline);
  f(warm);
  auto xs = requests(n, deadline);
  auto before = allocations.load();
  f(xs);
  return static_cast<double>(allocations.load() - before) / static_cast<double>(n);
}

} // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  if (n == 0) {
    std::printf("usage: breaker_count [calls]\n");
    return 1;
  }
  auto epoch = caf::timestamp{std::chrono::hours{24 * 365 * 50}};
  auto deadline = epoch + std::chrono::hours{24 * 365};
  auto dir = std::make_shared<breaker_directory>();
  breaker_gate gate{"svc", breaker_limits{}, 1, dir};
  gate_time now{caf::actor_clock::time_point{}, epoch};
  auto gate_allocs = per_call(n, deadline, [&](auto& xs) { gate_calls(gate, xs, now); });
  caf::detail::test_actor_clock clock;
  auto effectors = std::make_shared<effector_registry>();
  effectors->add("svc", [](const effector_call&) { return ok(); });
  breaker_runtime rt{clock, breaker_runtime_args{"svc", breaker_limits{}, 1, 0, effectors, dir,
                                                 epoch}};
  auto runtime_allocs = per_call(n, deadline, [&](auto& xs) { runtime_calls(rt, clock, xs); });
  rt.override_state(true, "bench");
  auto refusal_allocs = per_call(n, deadline, [&](auto& xs) { refusal_calls(rt, xs); });
  std::printf("%zu calls each (after as many to warm up), heap allocations per call:\n", n);
  std::printf("  gate alone (admission + dispatch + result + answer): %.2f\n", gate_allocs);
  std::printf("  runtime, inline pool (gate + effector + answer message): %.2f\n", runtime_allocs);
  std::printf("  runtime, open breaker refusing: %.2f\n", refusal_allocs);
  auto st = rt.status();
  std::printf("runtime after the run: %s, %u in flight, %lu refused\n", to_string(st.state),
              st.in_flight, static_cast<unsigned long>(st.refused));
  return 0;
}
