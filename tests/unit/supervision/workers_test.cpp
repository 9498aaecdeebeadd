// One-shot workers under a supervisor: forgotten when they end with their job, never
// restarted (their job would run twice), and whoever waits for a job that cannot finish
// (a crash, a worker that cannot start, the supervisor stopping) is answered through its
// on_failure.

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <memory>
#include <string>
#include <thread>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/register.hpp"
#include "messages/type_ids.hpp"
#include "supervision/supervisor.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

struct workers_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<child_queue> queue = std::make_shared<child_queue>();
  caf::actor sup;

  workers_fixture() {
    register_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    sup = sys->spawn(supervisor, std::string{"workers"}, supervisor_limits{},
                     std::vector<child_spec>{}, std::function<void(actor_restarted)>{}, queue);
  }
  ~workers_fixture() {
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    sup = nullptr;
    sys->await_all_actors_done();
  }

  /// Queues `w` and tells the supervisor to start it.
  void run(worker_spec w) {
    queue->push_worker(std::move(w));
    caf::anon_send(sup, atom::enroll_v);
  }
};

/// Waits up to 5 s for `pred`.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i)
    std::this_thread::sleep_for(10ms);
  return pred();
}

/// How often a worker was started and how often its on_failure ran, with the last reason.
struct tally {
  std::atomic<int> starts{0};
  std::atomic<int> failures{0};
  std::string reason;
  std::mutex mtx;

  std::function<void(const caf::error&)> on_failure(caf::actor_system& sys) {
    return [this, &sys](const caf::error& why) {
      std::lock_guard<std::mutex> guard{mtx};
      reason = sys.render(why);
      ++failures;
    };
  }
};

} // namespace

TEST_CASE_FIXTURE(workers_fixture, "a worker that ends with its job is forgotten, and one that fails is answered and never restarted") {
  tally done, crashed;
  run(worker_spec{"done",
                  [&done](caf::local_actor* s) {
                    ++done.starts;
                    return caf::actor{s->home_system().spawn(
                      [](caf::event_based_actor* self) { self->quit(); })};
                  },
                  done.on_failure(*sys)});
  run(worker_spec{"crashed",
                  [&crashed](caf::local_actor* s) {
                    ++crashed.starts;
                    return caf::actor{s->home_system().spawn([](caf::event_based_actor* self) {
                      self->quit(caf::make_error(caf::sec::runtime_error, "the job broke"));
                    })};
                  },
                  crashed.on_failure(*sys)});
  REQUIRE(eventually([&] { return crashed.failures.load() == 1; }));
  std::this_thread::sleep_for(200ms); // a restart, were there one, would have come by now
  CHECK(done.starts == 1);
  CHECK(done.failures == 0);
  CHECK(crashed.starts == 1); // not restarted: its job would run twice
  CHECK(crashed.failures == 1);
  std::lock_guard<std::mutex> guard{crashed.mtx};
  CHECK(crashed.reason.find("the job broke") != std::string::npos);
}

TEST_CASE_FIXTURE(workers_fixture, "a worker that cannot start is answered at once") {
  tally none;
  run(worker_spec{"none", [](caf::local_actor*) { return caf::actor{}; }, none.on_failure(*sys)});
  REQUIRE(eventually([&] { return none.failures.load() == 1; }));
  std::lock_guard<std::mutex> guard{none.mtx};
  CHECK(none.reason.find("none could not start") != std::string::npos);
}

TEST_CASE_FIXTURE(workers_fixture, "a supervisor that stops stops its workers and answers whoever waits for them") {
  tally waiting;
  auto worker = std::make_shared<caf::actor>();
  std::mutex mtx;
  run(worker_spec{"waiting",
                  [&, worker](caf::local_actor* s) {
                    ++waiting.starts;
                    auto a = s->home_system().spawn([](caf::event_based_actor*) -> caf::behavior {
                      return {[](int) {}}; // waits for ever
                    });
                    std::lock_guard<std::mutex> guard{mtx};
                    *worker = a;
                    return caf::actor{a};
                  },
                  waiting.on_failure(*sys)});
  REQUIRE(eventually([&] { return waiting.starts.load() == 1; }));
  caf::actor w;
  {
    std::lock_guard<std::mutex> guard{mtx};
    w = *worker;
  }
  caf::scoped_actor self{*sys};
  self->monitor(w);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(5s) >> [] {});
  CHECK(down); // the worker stopped with its supervisor
  REQUIRE(eventually([&] { return waiting.failures.load() == 1; }));
  std::lock_guard<std::mutex> guard{waiting.mtx};
  CHECK(waiting.reason.find("supervisor workers stopped") != std::string::npos);
}
