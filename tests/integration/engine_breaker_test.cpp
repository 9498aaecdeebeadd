// Circuit breakers, bulkheads, retries and timeouts through the embedding API.

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

std::string breaker_state_of(engine& eng, const std::string& service) {
  for (auto& b : eng.breakers())
    if (b.service == service)
      return b.state;
  return "none";
}

/// A real-clock engine in `dir` with `toml` as its bulwark.toml; agent holds level 4.
std::unique_ptr<engine> start_real(const test::temp_dir& dir, const std::string& toml) {
  auto cfg = dir.sub("bulwark.toml");
  std::ofstream{cfg} << toml;
  engine_options opts;
  opts.config_file = cfg;
  opts.data_dir = dir.sub("j");
  opts.grants = {{"agent", 4}};
  std::string err;
  auto eng = engine::start(opts, &err);
  REQUIRE_MESSAGE(eng, err);
  return eng;
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "the breaker opens, fails fast, half-opens and closes again") {
  // Five failing proposals (level 4, one action each) trip the coaster breaker.
  for (int i = 0; i < 5; ++i) {
    failing.insert("coaster-" + std::to_string(i) + "/mode");
    auto r = submit_now(make(4, {set(i, "x")}, {"coaster"}, {"north"}, "", i % 2 ? "agent" : "ops"));
    CHECK(r.status == "failed");
    if (i < 4)
      eng->advance(std::chrono::hours{1}); // keep the rolling window out of the way
  }
  failing.clear();
  CHECK(breaker_state_of(*eng, "coaster") == "open");
  auto calls_before = calls.size();
  auto fast = submit_now(make(4, {set(7, "y")}, {"coaster"}, {"north"}, "", "agent"));
  CHECK(fast.code == "CIRCUIT_OPEN");
  REQUIRE(fast.retry_after);
  CHECK(calls.size() == calls_before); // nothing ran
  // Other services are unaffected.
  CHECK(submit_now(make(4, {change{"gate-1", "mode", "x"}}, {"gates"})).ok);
  CHECK(breaker_state_of(*eng, "gates") == "closed");
  CHECK(*fast.retry_after <= std::chrono::seconds{30});
  eng->advance(std::chrono::hours{1}); // past the cooldown and the rolling window
  for (int i = 0; i < 3; ++i) // three successful probes close it (two resources: the budget)
    CHECK(submit_now(make(4, {set(10 + i % 2, "z" + std::to_string(i))}, {"coaster"},
                          {"north"}, "", i % 2 ? "agent" : "ops"))
            .ok);
  CHECK(breaker_state_of(*eng, "coaster") == "closed");
  int transitions = 0;
  for (auto& e : events)
    transitions += e.type == "breaker_transition";
  CHECK(transitions == 3); // closed->open, open->half-open, half-open->closed
}

TEST_CASE_FIXTURE(engine_fixture, "retryable failures are retried with backoff and one key") {
  int attempts = 0;
  std::vector<std::string> keys;
  eng->register_effector("gates", [&](const effect_request& r) {
    ++attempts;
    keys.push_back(r.idempotency_key);
    if (attempts < 3)
      return effect_result{false, "controller busy", true};
    return effect_result{};
  });
  auto f = eng->submit(make(4, {change{"gate-1", "mode", "x"}}, {"gates"}));
  eng->run();
  CHECK(attempts == 1);
  eng->advance(1s);
  CHECK(attempts == 1); // the first backoff is 1-2 s
  eng->advance(1s);
  CHECK(attempts == 2);
  eng->advance(4s);
  CHECK(attempts == 3);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(f.get().ok);
  REQUIRE(keys.size() == 3);
  CHECK(keys[0] == keys[1]);
  CHECK(keys[1] == keys[2]);
}

TEST_CASE_FIXTURE(engine_fixture, "non-retryable failures fail at once, retries stop at 3") {
  int attempts = 0;
  eng->register_effector("gates", [&](const effect_request&) {
    ++attempts;
    return effect_result{false, "bad firmware", false};
  });
  auto r = submit_now(make(4, {change{"gate-1", "mode", "x"}}, {"gates"}));
  CHECK(r.code == "EFFECTOR_FAILED");
  CHECK(attempts == 1);
  attempts = 0;
  eng->register_effector("gates", [&](const effect_request&) {
    ++attempts;
    return effect_result{false, "down", true};
  });
  auto f = eng->submit(make(4, {change{"gate-2", "mode", "x"}}, {"gates"}, {"north"}, "", "ops"));
  eng->advance(2min);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(f.get().code == "UNAVAILABLE");
  CHECK(attempts == 3);
}

TEST_CASE_FIXTURE(engine_fixture, "retries never outlive the proposal's deadline") {
  int attempts = 0;
  eng->register_effector("gates", [&](const effect_request&) {
    ++attempts;
    return effect_result{false, "down", true};
  });
  auto p = make(4, {change{"gate-1", "mode", "x"}}, {"gates"});
  p.timeout = 900ms; // shorter than the first backoff can be (1-2 s): no retry fits
  auto f = eng->submit(p);
  eng->advance(10s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(!f.get().ok);
  CHECK(attempts == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "only admins force a breaker, forcing is journaled") {
  events.clear();
  auto denied = eng->breaker_force("agent", "coaster", true);
  CHECK(denied.code == "AUTHORITY_DENIED");
  eng->run();
  REQUIRE(!events.empty());
  CHECK(events.back().type == "console_access");
  CHECK(events.back().json.find("\"allowed\":false") != std::string::npos);
  REQUIRE(eng->breaker_force("admin", "coaster", true).ok);
  CHECK(breaker_state_of(*eng, "coaster") == "forced-open");
  CHECK(submit_now(make(4, {set(1, "x")})).code == "CIRCUIT_OPEN");
  REQUIRE(eng->breaker_release("admin", "coaster").ok);
  CHECK(submit_now(make(4, {set(1, "x")})).ok);
  CHECK(eng->breaker_force("admin", "nope", true).code == "INVALID_INPUT");
}

TEST_CASE("bulkheads: one service's blocked effector does not starve the others") {
  test::temp_dir dir;
  auto eng = start_real(dir, "[breaker]\nmax_in_flight = 2\nmax_queue = 2\n"
                              "[authority]\nenforce_enabled = true\nrate_per_second = 1000.0\n"
                              "burst = 1000.0\n[blast_radius]\nmax_percent = 100.0\n");
  std::mutex mtx;
  std::condition_variable cv;
  bool open = false;
  eng->register_effector("slow", [&](const effect_request&) {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait(guard, [&] { return open; });
    return effect_result{};
  });
  std::atomic<int> fast_calls{0};
  eng->register_effector("fast", [&](const effect_request&) {
    ++fast_calls;
    return effect_result{};
  });
  for (int i = 0; i < 10; ++i) {
    REQUIRE(eng->register_resource("s" + std::to_string(i), "slow", "r").ok);
    REQUIRE(eng->register_resource("f" + std::to_string(i), "fast", "r").ok);
  }
  auto req = [](const std::string& service, const std::string& id, int n) {
    proposal_request p;
    p.idempotency_key = service + std::to_string(n);
    p.principal = "agent";
    p.level = 4;
    p.services = {service};
    p.regions = {"r"};
    p.changes = {{id, "k", std::to_string(n)}};
    p.timeout = 20s;
    return p;
  };
  std::vector<std::future<result>> slow;
  for (int i = 0; i < 6; ++i)
    slow.push_back(eng->submit(req("slow", "s" + std::to_string(i), i)));
  // Two in flight, two queued, the rest refused at once with OVERLOADED.
  int overloaded = 0;
  for (auto& f : slow)
    if (f.wait_for(2s) == std::future_status::ready) {
      auto r = f.get();
      CHECK(r.code == "OVERLOADED");
      CHECK(r.retry_after);
      ++overloaded;
    }
  CHECK(overloaded == 2);
  // Meanwhile the fast service keeps working.
  for (int i = 0; i < 10; ++i) {
    auto f = eng->submit(req("fast", "f" + std::to_string(i), i));
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(f.get().ok);
  }
  CHECK(fast_calls == 10);
  {
    std::lock_guard<std::mutex> guard{mtx};
    open = true;
  }
  cv.notify_all();
  eng->stop();
}

TEST_CASE("an attempt that overruns its timeout counts as a timeout") {
  test::temp_dir dir;
  auto eng = start_real(dir, "[breaker]\nattempts = 1\nattempt_timeout_ms = 100\n"
                              "[authority]\nenforce_enabled = true\n"
                              "[blast_radius]\nmax_percent = 100.0\n");
  eng->register_effector("svc", [](const effect_request& r) {
    CHECK(r.timeout <= std::chrono::milliseconds{100});
    std::this_thread::sleep_for(400ms);
    return effect_result{};
  });
  REQUIRE(eng->register_resource("x", "svc", "r").ok);
  proposal_request p;
  p.idempotency_key = "t";
  p.principal = "agent";
  p.level = 4;
  p.services = {"svc"};
  p.regions = {"r"};
  p.changes = {{"x", "k", "v"}};
  auto r = eng->submit(p).get();
  CHECK(r.code == "TIMEOUT");
  eng->stop();
}

TEST_CASE("a configuration whose inner timeout is not shorter than the outer one is refused") {
  test::temp_dir dir;
  auto cfg = dir.sub("bulwark.toml");
  std::ofstream{cfg} << "[pipeline]\neffector_timeout_ms = 5000\n[breaker]\nattempt_timeout_ms = 5000\n";
  engine_options opts;
  opts.config_file = cfg;
  opts.data_dir = dir.sub("j");
  std::string err;
  CHECK(!engine::start(opts, &err));
  CHECK(err.find("breaker.attempt_timeout_ms: must be shorter than pipeline.effector_timeout_ms")
        != std::string::npos);
  std::ofstream{cfg} << "[breaker.pos]\nhalf_open_probes = 0\n";
  CHECK(!engine::start(opts, &err));
  CHECK(err.find("breaker.pos.half_open_probes") != std::string::npos);
}

TEST_CASE("a non-blocking effector runs on the thread that admits its call, a blocking one on "
          "its service's pool") {
  test::temp_dir dir;
  auto eng = start_real(dir, "[breaker]\nattempts = 1\n[chaos]\nenabled = true\n"
                              "[authority]\nenforce_enabled = true\nrate_per_second = 1000.0\n"
                              "burst = 1000.0\n[blast_radius]\nmax_percent = 100.0\n");
  std::mutex mtx;
  std::set<std::thread::id> inline_threads, pool_threads;
  std::thread::id last_inline;
  std::atomic<int> fail_next{0};
  eng->register_effector(
    "mem",
    [&](const effect_request& r) {
      {
        std::lock_guard<std::mutex> guard{mtx};
        last_inline = std::this_thread::get_id();
        inline_threads.insert(last_inline);
      }
      if (r.value == "throw")
        throw std::runtime_error{"bad value"};
      if (fail_next.exchange(0) != 0)
        return effect_result{false, "refused by the store", false};
      return effect_result{};
    },
    effector_mode::nonblocking);
  eng->register_effector("disk", [&](const effect_request&) {
    std::lock_guard<std::mutex> guard{mtx};
    pool_threads.insert(std::this_thread::get_id());
    return effect_result{};
  });
  for (int i = 0; i < 8; ++i) {
    REQUIRE(eng->register_resource("m" + std::to_string(i), "mem", "r").ok);
    REQUIRE(eng->register_resource("d" + std::to_string(i), "disk", "r").ok);
  }
  int n = 0;
  auto run = [&](const std::string& service, const std::string& id, const std::string& value) {
    proposal_request p;
    p.idempotency_key = "k" + std::to_string(n++);
    p.principal = "agent";
    p.level = 4;
    p.services = {service};
    p.regions = {"r"};
    p.changes = {{id, "k", value}};
    auto f = eng->submit(p);
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    return f.get();
  };
  for (int i = 0; i < 8; ++i) {
    CHECK(run("mem", "m" + std::to_string(i), "v").ok);
    CHECK(run("disk", "d" + std::to_string(i), "v").ok);
  }
  std::set<std::thread::id> scheduler;
  {
    std::lock_guard<std::mutex> guard{mtx};
    scheduler = inline_threads;
    CHECK(inline_threads.count(std::this_thread::get_id()) == 0);
    for (auto& t : pool_threads)
      CHECK(inline_threads.count(t) == 0); // the pool's threads are not the scheduler's
  }
  SUBCASE("its failures are answered as any effector's") {
    fail_next = 1;
    auto r = run("mem", "m1", "w");
    CHECK(r.status == "failed");
    CHECK(r.code == "EFFECTOR_FAILED");
    auto thrown = run("mem", "m2", "throw");
    CHECK(thrown.status == "failed");
    CHECK(thrown.message.find("bad value") != std::string::npos);
    CHECK(run("mem", "m3", "again").ok); // the engine's threads go on
  }
  SUBCASE("while a chaos delay is set, its calls run on its service's pool") {
    REQUIRE(eng->chaos_delay_effector("mem", 20ms).ok);
    CHECK(run("mem", "m4", "slow").ok);
    std::thread::id delayed_on;
    {
      std::lock_guard<std::mutex> guard{mtx};
      delayed_on = last_inline;
      CHECK(scheduler.count(delayed_on) == 0);
    }
    REQUIRE(eng->chaos_delay_effector("mem", 0ms).ok);
    CHECK(run("mem", "m5", "fast").ok);
    std::lock_guard<std::mutex> guard{mtx};
    CHECK(last_inline != delayed_on); // back on the admitting thread
  }
  eng->stop();
}
