// The gate's allocation-free containers: the slot arena its jobs live in (tokens of
// finished jobs never name the job that reuses the slot; walking stays in admission
// order) and the ring its queue and the breaker's window use.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/circuit_breaker/breaker_gate.hpp"
#include "support/gate_clock.hpp"
#include "actors/circuit_breaker/ring_queue.hpp"
#include "actors/circuit_breaker/slot_arena.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

gate_time at(int64_t ms) {
  return test::gate_at(ms);
}

effector_request request(const std::string& key) {
  return effector_request{"svc", mutation{resource_id{"r-1"}, "mode", "on"}, false, caf::none,
                          key, at(60'000).at};
}

std::vector<gate_dispatch> dispatches(gate_effects& fx) {
  std::vector<gate_dispatch> xs;
  fx.dispatches.each([&](gate_dispatch& d) { xs.push_back(d); });
  return xs;
}

std::vector<gate_answer> answers(gate_effects& fx) {
  std::vector<gate_answer> xs;
  fx.answers.each([&](gate_answer& a) { xs.push_back(a); });
  return xs;
}

uint64_t slot_of(uint64_t token) {
  return token & 0xffff'ffffu;
}

std::vector<std::string> walk(slot_arena<std::string>& xs) {
  std::vector<std::string> out;
  xs.each([&](uint64_t, std::string& x) { out.push_back(x); });
  return out;
}

} // namespace

TEST_CASE("an arena reuses a freed slot under a new token, the old token finds nothing") {
  slot_arena<std::string> xs;
  auto a = xs.emplace();
  *xs.find(a) = "a";
  auto b = xs.emplace();
  *xs.find(b) = "b";
  CHECK(a != 0);
  CHECK(a != b);
  xs.erase(a);
  CHECK(xs.find(a) == nullptr);
  auto c = xs.emplace();
  CHECK(slot_of(c) == slot_of(a)); // the freed slot, not a new one
  CHECK(c != a);
  REQUIRE(xs.find(c) != nullptr);
  CHECK(*xs.find(c) == "a"); // a reused slot holds what its last user left
  *xs.find(c) = "c";
  CHECK(xs.find(a) == nullptr);
  xs.erase(a); // a stale token erases nothing
  CHECK(xs.size() == 2);
  CHECK(*xs.find(c) == "c");
  CHECK(xs.find(0) == nullptr);
  CHECK(xs.find(uint64_t{99}) == nullptr);
}

TEST_CASE("an arena walks its objects oldest first, whatever slots they took") {
  slot_arena<std::string> xs;
  auto a = xs.emplace();
  *xs.find(a) = "a";
  auto b = xs.emplace();
  *xs.find(b) = "b";
  auto c = xs.emplace();
  *xs.find(c) = "c";
  xs.erase(a);
  auto d = xs.emplace(); // takes a's slot, the first one
  *xs.find(d) = "d";
  CHECK(walk(xs) == std::vector<std::string>{"b", "c", "d"});
  // Erasing the object being visited is allowed.
  xs.each([&](uint64_t token, std::string& x) {
    if (x == "c")
      xs.erase(token);
  });
  CHECK(walk(xs) == std::vector<std::string>{"b", "d"});
  xs.erase(b);
  xs.erase(d);
  CHECK(walk(xs).empty());
  CHECK(xs.size() == 0);
}

TEST_CASE("an arena in a steady state keeps its slots") {
  slot_arena<std::string> xs;
  std::vector<uint64_t> live;
  for (int i = 0; i < 4; ++i)
    live.push_back(xs.emplace());
  for (int i = 0; i < 1000; ++i) {
    xs.erase(live.front());
    live.erase(live.begin());
    live.push_back(xs.emplace());
  }
  CHECK(xs.size() == 4);
  CHECK(xs.capacity() == 4);
}

TEST_CASE("a ring queue is first-in first-out across wrapping and growth") {
  ring_queue<int> q;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 13; ++i)
      q.push_back(next_in++);
    while (q.size() > static_cast<size_t>(round % 5)) {
      CHECK(q.front() == next_out++);
      q.pop_front();
    }
  }
  while (!q.empty()) {
    CHECK(q.front() == next_out++);
    q.pop_front();
  }
  CHECK(next_out == next_in);
  q.push_back(7);
  q.clear();
  CHECK(q.empty());
}

TEST_CASE("a late answer for a finished job does not settle the job that reused its slot") {
  breaker_limits l;
  l.attempts = 1;
  l.attempt_timeout = 100ms;
  breaker_gate g{"svc", l, 1, std::make_shared<breaker_directory>()};
  gate_effects fx1;
  g.execute(request("a"), reply_to{}, at(0), fx1);
  auto first = dispatches(fx1);
  REQUIRE(first.size() == 1);
  gate_effects fx2;
  g.wake(at(100), fx2); // a times out and is answered; its effector still runs
  REQUIRE(answers(fx2).size() == 1);
  gate_effects fx3;
  g.execute(request("b"), reply_to{}, at(150), fx3);
  auto second = dispatches(fx3);
  REQUIRE(second.size() == 1);
  CHECK(slot_of(second[0].token) == slot_of(first[0].token)); // b took a's slot
  CHECK(second[0].token != first[0].token);
  CHECK(second[0].attempt == first[0].attempt); // only the token tells them apart
  CHECK(g.status().in_flight == 2);
  // a's late answer: it frees its thread and nothing else.
  gate_effects late;
  g.finish(first[0].token, first[0].attempt,
           effector_result{false, ec::effector_failed, "late", caf::none}, at(200), late);
  CHECK(answers(late).empty());
  auto st = g.status();
  CHECK(st.in_flight == 1);
  CHECK(st.window_calls == 1); // only a's timeout
  CHECK(st.window_failures == 1);
  // b still gets its own answer.
  gate_effects own;
  g.finish(second[0].token, second[0].attempt, effector_result{true, ec::none, "", caf::none},
           at(210), own);
  auto xs = answers(own);
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].result.ok);
  CHECK(g.status().in_flight == 0);
  CHECK(g.status().window_calls == 2);
}

TEST_CASE("timeouts and retries are handled in admission order when slots were reused") {
  breaker_limits l;
  l.attempts = 2;
  l.attempt_timeout = 100ms;
  l.consecutive_failures = 0;
  l.failure_rate = 0;
  breaker_gate g{"svc", l, 1, std::make_shared<breaker_directory>()};
  std::vector<gate_dispatch> out;
  for (auto key : {"a", "b", "c"}) {
    gate_effects fx;
    g.execute(request(key), reply_to{}, at(0), fx);
    for (auto& d : dispatches(fx))
      out.push_back(d);
  }
  REQUIRE(out.size() == 3);
  gate_effects done;
  g.finish(out[0].token, 1, effector_result{true, ec::none, "", caf::none}, at(10), done);
  gate_effects fx;
  g.execute(request("d"), reply_to{}, at(10), fx); // the newest call, in the first slot
  auto d = dispatches(fx);
  REQUIRE(d.size() == 1);
  CHECK(slot_of(d[0].token) == slot_of(out[0].token));
  gate_effects timeouts;
  g.wake(at(200), timeouts); // b, c and d time out and wait for their retries
  CHECK(answers(timeouts).empty());
  CHECK(g.status().retries == 3);
  gate_effects due;
  g.wake(at(10'000), due); // every backoff is over
  std::vector<std::string> keys;
  for (auto& x : dispatches(due)) {
    CHECK(x.attempt == 2);
    keys.push_back(x.call.idempotency_key);
  }
  CHECK(keys == std::vector<std::string>{"b", "c", "d"});
}
