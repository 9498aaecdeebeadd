#pragma once

/// The deterministic actor-system fixture: CAF's test coordinator, no threads or clock.

#include <chrono>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"

#include "messages/register.hpp"

namespace bulwark::test {

/// Sets the test scheduler on `cfg` and registers Bulwark's types.
inline caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  register_types(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

/// Runs actors on CAF's test coordinator: nothing runs until `run()`, time stands still
/// until `advance()`.
struct deterministic_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  caf::scheduler::test_coordinator& sched;

  deterministic_fixture()
    : sys(testing(cfg)),
      self(sys, true),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
  }

  /// Runs every ready actor.
  void run() {
    sched.run();
  }

  /// Moves the test clock forward and runs what became due.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    sched.run();
  }
};

} // namespace bulwark::test
