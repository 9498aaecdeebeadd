// Breaker benchmark: what the breaker adds to an effector call on the real path, and how
// fast an open breaker refuses through the real entry point.
//
// The real path: an event-based requester sends `execute` to the service's breaker entry;
// the gate admits it on the requester's thread, the effector runs on the service's pool
// thread, and the answer goes from that thread straight to the requester. The baseline
// is the same path minus the breaker: the same requester, the same kind of synchronous
// entry, the same registry lookup, the same pool thread and the same response promise,
// with no gate. Both run interleaved in rounds so that drift of the machine hits both.
//
// Usage: breaker_bench [--quick]

#include <future>

#include "actors/circuit_breaker/breaker.hpp"
#include "actors/circuit_breaker/breaker_entry.hpp"
#include "actors/circuit_breaker/breaker_gate.hpp"
#include "bench/bench_util.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/make_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/monitorable_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

/// The baseline entry: the breaker entry's path with the gate taken out.
class direct_entry final : public caf::monitorable_actor {
public:
  direct_entry(std::shared_ptr<effector_registry> effectors, std::shared_ptr<effector_pool> pool)
    : caf::monitorable_actor(caf::actor_config{}.add_flag(is_hidden_flag)),
      effectors_(std::move(effectors)),
      pool_(std::move(pool)) {
  }

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit*) override {
    auto& xs = what->content();
    if (!xs.match_elements<atom::execute, effector_request>())
      return;
    auto req = xs.move_if_unshared<effector_request>(1);
    reply_to to{std::move(what->sender), what->mid, std::move(what->stages)};
    effector_call c;
    c.service = req.service;
    c.change = req.change;
    c.idempotency_key = req.idempotency_key;
    c.timeout = std::chrono::seconds{3};
    auto fn = effectors_->find(req.service);
    pool_->run([fn = std::move(fn), c = std::move(c), to]() mutable { to.deliver(caf::make_message(fn(c))); });
  }

private:
  std::shared_ptr<effector_registry> effectors_;
  std::shared_ptr<effector_pool> pool_;
};

/// The breaker entry's path with the gate's own work timed where it runs: admission on the
/// requester's thread, the result on the pool thread (the same work breaker_runtime does,
/// with a clock read around each gate call). `costs` gets admission + result per call, in
/// us, written only by the one pool thread.
class timed_entry final : public caf::monitorable_actor {
public:
  timed_entry(std::shared_ptr<effector_registry> effectors, std::shared_ptr<effector_pool> pool,
              std::shared_ptr<std::vector<double>> costs)
    : caf::monitorable_actor(caf::actor_config{}.add_flag(is_hidden_flag)),
      effectors_(std::move(effectors)),
      pool_(std::move(pool)),
      costs_(std::move(costs)),
      gate_("svc", breaker_limits{}, 1, std::make_shared<breaker_directory>()) {
  }

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit*) override {
    auto& xs = what->content();
    if (!xs.match_elements<atom::execute, effector_request>())
      return;
    auto req = xs.move_if_unshared<effector_request>(1);
    reply_to to{std::move(what->sender), what->mid, std::move(what->stages)};
    auto t0 = clock_type::now();
    gate_effects fx;
    gate_.execute(std::move(req), std::move(to), now(), fx);
    auto admit_us = us_since(t0);
    fx.answers.each([](gate_answer& a) { a.to.deliver(caf::make_message(std::move(a.result))); });
    fx.dispatches.each([this, admit_us](gate_dispatch& d) {
      auto fn = effectors_->find("svc");
      pool_->run([this, fn = std::move(fn), d = std::move(d), admit_us] {
        auto r = fn(d.call);
        auto t1 = clock_type::now();
        gate_effects out;
        gate_.finish(d.token, d.attempt, std::move(r), now(), out);
        costs_->push_back(admit_us + us_since(t1));
        out.answers.each([](gate_answer& a) { a.to.deliver(caf::make_message(std::move(a.result))); });
      });
    });
  }

private:
  static gate_time now() {
    return gate_time{caf::actor_clock::clock_type::now(), caf::make_timestamp()};
  }
  std::shared_ptr<effector_registry> effectors_;
  std::shared_ptr<effector_pool> pool_;
  std::shared_ptr<std::vector<double>> costs_;
  breaker_gate gate_;
};

effector_request make_request() {
  return effector_request{"svc", mutation{resource_id{"r-1"}, "mode", "on"}, false, caf::none,
                          "bench/0", caf::make_timestamp() + std::chrono::seconds{60}};
}

/// Runs `n` calls one after the other from an event-based requester; returns each call's
/// latency in us and the time `request` itself took on the requester's thread.
std::pair<std::vector<double>, std::vector<double>> run_calls(caf::actor_system& sys,
                                                              breaker_actor entry, size_t n) {
  struct result {
    std::vector<double> total, inline_part;
  };
  std::promise<result> done;
  auto f = done.get_future();
  sys.spawn([entry, n, &done](caf::event_based_actor* self) {
    auto r = std::make_shared<result>();
    r->total.reserve(n);
    r->inline_part.reserve(n);
    auto step = std::make_shared<std::function<void()>>();
    std::weak_ptr<std::function<void()>> weak = step;
    *step = [self, entry, n, r, weak, &done] {
      if (r->total.size() == n) {
        done.set_value(std::move(*r));
        self->quit();
        return;
      }
      auto t0 = clock_type::now();
      auto h = self->request(entry, caf::infinite, atom::execute_v, make_request());
      r->inline_part.push_back(us_since(t0));
      h.then([r, t0, next = weak.lock()](const effector_result&) {
               r->total.push_back(us_since(t0));
               (*next)();
             },
             [](const caf::error&) { std::abort(); });
    };
    (*step)();
  });
  auto x = f.get();
  return {std::move(x.total), std::move(x.inline_part)};
}

/// The gate alone on one thread: admission, dispatch, result and answer under its lock,
/// the work the breaker adds to a call (no threads, no messages).
void bench_gate(size_t n) {
  auto dir = std::make_shared<breaker_directory>();
  breaker_gate gate{"svc", breaker_limits{}, 1, dir};
  std::vector<double> lat;
  lat.reserve(n);
  auto tick = caf::actor_clock::time_point{};
  auto at = caf::make_timestamp();
  auto deadline = at + std::chrono::hours{24};
  for (size_t i = 0; i < n; ++i) {
    tick += std::chrono::microseconds{10};
    at += std::chrono::microseconds{10};
    effector_request req{"svc", mutation{resource_id{"r-1"}, "mode", "on"}, false, caf::none,
                         "bench/0", deadline};
    auto t0 = clock_type::now();
    gate_effects in;
    gate.execute(std::move(req), reply_to{}, gate_time{tick, at}, in);
    // The token the gate gave this call (tokens name slots, they do not count calls).
    uint64_t token = 0;
    in.dispatches.each([&token](gate_dispatch& d) { token = d.token; });
    gate_effects out;
    gate.finish(token, 1, effector_result{true, ec::none, "", caf::none}, gate_time{tick, at}, out);
    lat.push_back(us_since(t0));
  }
  std::printf("gate alone (admission + dispatch + result + answer, one thread), %zu calls: "
              "p50 %.2f us, p99 %.2f us\n", n, percentile(lat, 50), percentile(lat, 99));
}

struct figures {
  std::vector<double> total, inline_part;
  void add(std::pair<std::vector<double>, std::vector<double>> x) {
    total.insert(total.end(), x.first.begin(), x.first.end());
    inline_part.insert(inline_part.end(), x.second.begin(), x.second.end());
  }
};

void bench_path(size_t rounds, size_t per_round) {
  caf::actor_system_config cfg;
  register_types(cfg);
  tune_scheduler(cfg);
  caf::actor_system sys{cfg};
  auto effectors = std::make_shared<effector_registry>();
  effectors->add("svc", [](const effector_call&) {
    return effector_result{true, ec::none, "", caf::none};
  });
  auto dir = std::make_shared<breaker_directory>();
  auto sink = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](atom::append, const event&) { return appended{}; }};
  });
  breaker_runtime_args args{"svc", breaker_limits{}, 1, 1, effectors, dir, caf::make_timestamp()};
  auto runtime = std::make_shared<breaker_runtime>(sys.clock(), args);
  auto b = sys.spawn(breaker, breaker_deps{runtime, caf::actor_cast<journal_actor>(sink), {}});
  auto entry = make_breaker_entry(sys, runtime, b);
  auto pool = std::make_shared<effector_pool>(1);
  auto direct = caf::actor_cast<breaker_actor>(caf::make_actor<direct_entry, caf::strong_actor_ptr>(
    sys.next_actor_id(), sys.node(), &sys, effectors, pool));
  auto costs = std::make_shared<std::vector<double>>();
  auto timed_pool = std::make_shared<effector_pool>(1);
  auto timed = caf::actor_cast<breaker_actor>(caf::make_actor<timed_entry, caf::strong_actor_ptr>(
    sys.next_actor_id(), sys.node(), &sys, effectors, timed_pool, costs));
  run_calls(sys, entry, per_round); // warm-up
  run_calls(sys, direct, per_round);
  run_calls(sys, timed, per_round);
  costs->clear();
  figures via, base;
  for (size_t i = 0; i < rounds; ++i) {
    via.add(run_calls(sys, entry, per_round));
    base.add(run_calls(sys, direct, per_round));
    run_calls(sys, timed, per_round);
  }
  auto n = via.total.size();
  auto v50 = percentile(via.total, 50), v99 = percentile(via.total, 99);
  auto b50 = percentile(base.total, 50), b99 = percentile(base.total, 99);
  std::printf("effector call, %zu calls each, %zu interleaved rounds (requester -> pool thread "
              "-> requester):\n", n, rounds);
  std::printf("  with the breaker:    p50 %6.2f us, p99 %6.2f us\n", v50, v99);
  std::printf("  without (pool only): p50 %6.2f us, p99 %6.2f us\n", b50, b99);
  std::printf("  added by the breaker: p50 %+.2f us, p99 %+.2f us\n", v50 - b50, v99 - b99);
  auto i50 = percentile(via.inline_part, 50), i99 = percentile(via.inline_part, 99);
  auto j50 = percentile(base.inline_part, 50), j99 = percentile(base.inline_part, 99);
  std::printf("  on the requester's thread (request() call): with p50 %.2f / p99 %.2f us, "
              "without p50 %.2f / p99 %.2f us, added p50 %+.2f / p99 %+.2f us\n",
              i50, i99, j50, j99, i50 - j50, i99 - j99);
  timed_pool->stop(); // every cost is written
  std::printf("  the gate's own work on the path (admission on the requester's thread + result on "
              "the pool thread, timed where it runs), %zu calls: p50 %.2f us, p99 %.2f us\n",
              costs->size(), percentile(*costs, 50), percentile(*costs, 99));
  auto st = runtime->status();
  std::printf("  breaker after the run: %s, %u in flight, %lu refused\n", to_string(st.state),
              st.in_flight, static_cast<unsigned long>(st.refused));
  // Refusals of an open breaker through the same entry, from a blocking requester.
  runtime->override_state(true, "bench");
  caf::scoped_actor self{sys};
  size_t refused = 0;
  size_t calls = rounds * per_round * 20;
  auto t0 = clock_type::now();
  for (size_t i = 0; i < calls; ++i)
    self->request(entry, caf::infinite, atom::execute_v, make_request())
      .receive([](const effector_result&) {},
               [&refused](const caf::error& err) { refused += describe(err).code == ec::circuit_open; });
  auto secs = ms_since(t0) / 1000;
  std::printf("open breaker through the entry (request + CIRCUIT_OPEN reply), %zu calls: "
              "%.0f refusals per second (%zu refused)\n",
              calls, static_cast<double>(refused) / secs, refused);
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

} // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string{argv[1]} == "--quick";
  if (argc > 1 && !quick) {
    std::printf("usage: breaker_bench [--quick]\n");
    return std::string{argv[1]} == "--help" ? 0 : 1;
  }
  print_machine();
  bench_gate(quick ? 100000 : 1000000);
  bench_path(quick ? 4 : 20, quick ? 1000 : 5000);
  return 0;
}
