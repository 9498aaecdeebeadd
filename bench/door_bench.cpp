// What a door costs: request/response round trips from one actor to an echo actor,
// straight to it and through a door in front of it (around_caf/door.hpp), in interleaved
// rounds. One request at a time, so each figure is a full round trip.
//
// Usage: door_bench [--quick] [--workers N]   (N: CAF's scheduler threads, default CAF's)

#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "bench/bench_util.hpp"
#include "around_caf/door.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

caf::behavior echo(caf::event_based_actor*) {
  return {[](int x) { return x + 1; }};
}

/// Sends `n` requests to `to`, each after the previous answer, recording each round trip
/// in us; fulfils `done` at the end.
struct pinger_state {
  std::vector<double> lat;
  clock_type::time_point sent;
  clock_type::time_point first;
  double total_ms = 0;
};

void ping(caf::stateful_actor<pinger_state>* self, caf::actor to, int left,
          std::shared_ptr<std::promise<pinger_state>> done) {
  if (left == 0) {
    self->state.total_ms = ms_since(self->state.first);
    done->set_value(std::move(self->state));
    self->quit();
    return;
  }
  self->state.sent = clock_type::now();
  self->request(to, caf::infinite, left).then([self, to, left, done](int) {
    self->state.lat.push_back(us_since(self->state.sent));
    ping(self, to, left - 1, done);
  });
}

pinger_state round(caf::actor_system& sys, caf::actor to, int n) {
  auto done = std::make_shared<std::promise<pinger_state>>();
  auto f = done->get_future();
  sys.spawn([to, n, done](caf::stateful_actor<pinger_state>* self) -> caf::behavior {
    self->state.lat.reserve(static_cast<size_t>(n));
    self->state.first = clock_type::now();
    ping(self, to, n, done);
    return {[](int) {}};
  });
  return f.get();
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  size_t workers = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else if (std::strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
      workers = static_cast<size_t>(std::stoul(argv[++i]));
  }
  int n = quick ? 20000 : 100000;
  int rounds = quick ? 3 : 10;
  caf::actor_system_config cfg;
  if (workers > 0)
    cfg.set("scheduler.max-threads", workers);
  caf::actor_system sys{cfg};
  auto target = sys.spawn(echo);
  auto door_handle = sys.spawn(door, std::string{"echo"}, caf::error{}, target);
  round(sys, target, n / 10); // warm-up
  round(sys, door_handle, n / 10);
  std::vector<double> direct, through;
  double direct_ms = 0, through_ms = 0;
  for (int r = 0; r < rounds; ++r) {
    auto a = round(sys, target, n);
    auto b = round(sys, door_handle, n);
    direct.insert(direct.end(), a.lat.begin(), a.lat.end());
    through.insert(through.end(), b.lat.begin(), b.lat.end());
    direct_ms += a.total_ms;
    through_ms += b.total_ms;
  }
  print_machine();
  double total = static_cast<double>(n) * rounds;
  double direct_ns = direct_ms * 1e6 / total, through_ns = through_ms * 1e6 / total;
  std::printf("door_bench: %d rounds of %d request/response round trips, one at a time, "
              "%zu scheduler threads\n",
              rounds, n, sys.scheduler().num_workers());
  std::printf("| path | ns per request | p50 us | p99 us |\n| --- | --- | --- | --- |\n");
  std::printf("| straight to the actor | %.0f | %.2f | %.2f |\n", direct_ns,
              percentile(direct, 50), percentile(direct, 99));
  std::printf("| through its door | %.0f | %.2f | %.2f |\n", through_ns,
              percentile(through, 50), percentile(through, 99));
  std::printf("door adds %.0f ns per request (p50 %+.2f us, p99 %+.2f us)\n",
              through_ns - direct_ns, percentile(through, 50) - percentile(direct, 50),
              percentile(through, 99) - percentile(direct, 99));
  caf::anon_send_exit(door_handle, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  return 0;
}
