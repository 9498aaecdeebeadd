// The breaker's gate (the hot path) without an actor system: admission, the bulkhead,
// first-answer-wins between a result and its timeout, retries and the wake-up timer.
// Time comes in as arguments, so every case is exact.

#include <doctest/doctest.h>

#include "actors/circuit_breaker/breaker_gate.hpp"
#include "support/gate_clock.hpp"
#include "messages/error.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

gate_time at(int64_t ms) {
  return test::gate_at(ms);
}

effector_request request(const std::string& key, int64_t deadline_ms = 60'000) {
  return effector_request{"svc", mutation{resource_id{"r-1"}, "mode", "on"}, false, caf::none,
                          key, at(deadline_ms).at};
}

/// What one gate step produced, copied out of its effects.
struct step {
  std::vector<gate_answer> answers;
  std::vector<gate_dispatch> dispatches;
  caf::optional<caf::actor_clock::time_point> wake_at;
  bool nudge = false;
};

step taken(gate_effects& fx) {
  step s;
  fx.answers.each([&](gate_answer& a) { s.answers.push_back(a); });
  fx.dispatches.each([&](gate_dispatch& d) { s.dispatches.push_back(d); });
  s.wake_at = fx.wake_at;
  s.nudge = fx.nudge;
  return s;
}

struct gate_fixture {
  std::shared_ptr<breaker_directory> dir = std::make_shared<breaker_directory>();

  step execute(breaker_gate& g, effector_request req, int64_t now) {
    gate_effects fx;
    g.execute(std::move(req), reply_to{}, at(now), fx);
    return taken(fx);
  }
  step finish(breaker_gate& g, uint64_t token, uint32_t attempt, effector_result r,
              int64_t now) {
    gate_effects fx;
    g.finish(token, attempt, std::move(r), at(now), fx);
    return taken(fx);
  }
  step wake(breaker_gate& g, int64_t now) {
    gate_effects fx;
    g.wake(at(now), fx);
    return taken(fx);
  }
};

effector_result ok() {
  return effector_result{true, ec::none, "", caf::none};
}

effector_result failed(ec code) {
  return effector_result{false, code, "down", caf::none};
}

} // namespace

TEST_CASE_FIXTURE(gate_fixture, "the gate runs calls within the bulkhead, queues one and refuses the next") {
  breaker_limits l;
  l.max_in_flight = 1;
  l.max_queue = 1;
  breaker_gate g{"svc", l, 1, dir};
  auto first = execute(g, request("a"), 0);
  REQUIRE(first.dispatches.size() == 1);
  CHECK(first.dispatches[0].token == 1);
  CHECK(first.dispatches[0].attempt == 1);
  CHECK(first.dispatches[0].call.idempotency_key == "a");
  CHECK(first.dispatches[0].call.timeout == l.attempt_timeout);
  CHECK(first.answers.empty());
  auto second = execute(g, request("b"), 1);
  CHECK(second.dispatches.empty()); // queued behind the one in flight
  CHECK(second.answers.empty());
  auto third = execute(g, request("c"), 2);
  REQUIRE(third.answers.size() == 1);
  auto refusal = describe(third.answers[0].refusal);
  CHECK(refusal.code == ec::overloaded);
  CHECK(refusal.retry_after);
  auto st = g.status();
  CHECK(st.in_flight == 1);
  CHECK(st.queued == 1);
  CHECK(st.refused == 1);
  // The first result answers its caller and starts the queued call.
  auto done = finish(g, 1, 1, ok(), 5);
  REQUIRE(done.answers.size() == 1);
  CHECK(done.answers[0].result.ok);
  CHECK(!done.answers[0].refusal);
  REQUIRE(done.dispatches.size() == 1);
  CHECK(done.dispatches[0].token == 2);
  CHECK(g.status().queued == 0);
}

TEST_CASE_FIXTURE(gate_fixture, "a timeout answers once, the late result only frees its slot") {
  breaker_limits l;
  l.attempts = 1;
  l.attempt_timeout = 100ms;
  breaker_gate g{"svc", l, 1, dir};
  auto s = execute(g, request("a"), 0);
  REQUIRE(s.wake_at);
  CHECK(*s.wake_at == at(100).tick); // the attempt's timeout is armed
  CHECK(wake(g, 99).answers.empty());
  auto timed_out = wake(g, 100);
  REQUIRE(timed_out.answers.size() == 1);
  CHECK(timed_out.answers[0].result.code == ec::timeout);
  CHECK(g.status().in_flight == 1); // the effector still holds its thread
  CHECK(g.status().window_failures == 1);
  auto late = finish(g, 1, 1, ok(), 400);
  CHECK(late.answers.empty()); // answered already: exactly once
  CHECK(g.status().in_flight == 0);
  CHECK(g.status().window_calls == 1); // the late success does not count again
}

TEST_CASE_FIXTURE(gate_fixture, "a result first wins, its timeout later finds nothing to answer") {
  breaker_limits l;
  l.attempt_timeout = 100ms;
  breaker_gate g{"svc", l, 1, dir};
  execute(g, request("a"), 0);
  CHECK(finish(g, 1, 1, ok(), 50).answers.size() == 1);
  auto w = wake(g, 100);
  CHECK(w.answers.empty());
  CHECK(!w.wake_at); // nothing left to time
  CHECK(g.status().window_calls == 1);
}

TEST_CASE_FIXTURE(gate_fixture, "retryable failures wait a seeded backoff and run again with the same key") {
  breaker_limits l;
  l.backoff_base = 2s;
  breaker_gate g{"svc", l, 7, dir};
  execute(g, request("same-key"), 0);
  auto f = finish(g, 1, 1, failed(ec::unavailable), 10);
  CHECK(f.answers.empty());
  REQUIRE(f.wake_at);
  std::mt19937_64 rng{7};
  auto wait = backoff(l, 1, rng); // the same draw the gate made
  CHECK(*f.wake_at == at(10).tick + wait);
  CHECK(wait >= 1s);
  CHECK(wait < 2s);
  CHECK(g.status().retries == 1);
  CHECK(wake(g, 999).dispatches.empty());
  auto again = wake(g, 10 + std::chrono::duration_cast<std::chrono::milliseconds>(wait).count() + 1);
  REQUIRE(again.dispatches.size() == 1);
  CHECK(again.dispatches[0].attempt == 2);
  CHECK(again.dispatches[0].call.idempotency_key == "same-key");
  // A non-retryable failure answers at once.
  auto last = finish(g, 1, 2, failed(ec::effector_failed), 3000);
  REQUIRE(last.answers.size() == 1);
  CHECK(last.answers[0].result.code == ec::effector_failed);
}

TEST_CASE_FIXTURE(gate_fixture, "no retry outlives the call's deadline") {
  breaker_gate g{"svc", breaker_limits{}, 1, dir};
  execute(g, request("a", 900), 0); // the first backoff is at least 1 s
  auto f = finish(g, 1, 1, failed(ec::timeout), 10);
  REQUIRE(f.answers.size() == 1);
  CHECK(f.answers[0].result.code == ec::timeout);
  CHECK(g.status().retries == 0);
}

TEST_CASE_FIXTURE(gate_fixture, "an open gate refuses at once with the cooldown left, and journals the trip") {
  breaker_limits l;
  l.consecutive_failures = 1;
  l.cooldown = 30s;
  breaker_gate g{"svc", l, 1, dir};
  execute(g, request("a"), 0);
  auto f = finish(g, 1, 1, failed(ec::effector_failed), 1000);
  CHECK(f.nudge); // a transition waits for the breaker actor
  auto xs = g.take_transitions();
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].change.to == breaker_state::open);
  CHECK(xs[0].at == at(1000).at);
  CHECK(g.take_transitions().empty());
  breaker_directory::entry e;
  REQUIRE(dir->find("svc", e));
  CHECK(e.state == breaker_state::open);
  CHECK(e.open_until == at(31'000).at);
  auto r = execute(g, request("b"), 11'000);
  CHECK(r.dispatches.empty());
  REQUIRE(r.answers.size() == 1);
  auto refusal = describe(r.answers[0].refusal);
  CHECK(refusal.code == ec::circuit_open);
  REQUIRE(refusal.retry_after);
  CHECK(*refusal.retry_after == 20s);
  CHECK(g.status().refused == 1);
}

TEST_CASE_FIXTURE(gate_fixture, "forcing and releasing go through the outbox, a forced-open gate refuses") {
  breaker_gate g{"svc", breaker_limits{}, 1, dir};
  gate_effects fx;
  g.override_state(true, "admin", at(0), fx);
  CHECK(fx.nudge);
  auto xs = g.take_transitions();
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].change.to == breaker_state::forced_open);
  CHECK(xs[0].change.cause.find("(admin)") != std::string::npos);
  auto r = execute(g, request("a"), 1);
  REQUIRE(r.answers.size() == 1);
  CHECK(describe(r.answers[0].refusal).code == ec::circuit_open);
  gate_effects fx2;
  g.override_state(caf::none, "admin", at(2), fx2);
  CHECK(g.take_transitions().size() == 1);
  CHECK(execute(g, request("b"), 3).dispatches.size() == 1);
}

TEST_CASE_FIXTURE(gate_fixture, "one wake-up is armed for the earliest deadline and re-armed after a rebind") {
  breaker_limits l;
  l.attempts = 1;
  l.attempt_timeout = 100ms;
  breaker_gate g{"svc", l, 1, dir};
  CHECK(execute(g, request("a"), 0).wake_at);
  CHECK(!execute(g, request("b"), 10).wake_at); // a wake-up at 100 comes first
  g.rearm(); // a restarted breaker actor lost the timer
  auto w = wake(g, 50);
  REQUIRE(w.wake_at);
  CHECK(*w.wake_at == at(100).tick);
  auto first = wake(g, 100);
  CHECK(first.answers.size() == 1);
  REQUIRE(first.wake_at);
  CHECK(*first.wake_at == at(110).tick); // re-armed for the second call
}
