// A supervisor may start its children after whoever owns their slots began to stop (its
// first run comes late on a busy scheduler). A closed slot stays empty then, so nothing
// keeps the late child alive past the actor system: a detached actor held that way would
// keep the system's shutdown waiting for its thread forever.

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/register.hpp"
#include "messages/type_ids.hpp"
#include "supervision/supervisor.hpp"

using namespace bulwark;

namespace {

caf::behavior idle(caf::event_based_actor*) {
  return {[](atom::tick) {}};
}

child_spec filling(std::string name, std::shared_ptr<handle_slot<caf::actor>> slot) {
  return child_spec{std::move(name), restart_kind::permanent,
                    [slot](caf::local_actor* sup) {
                      auto a = sup->home_system().spawn(idle);
                      slot->set(a);
                      return a;
                    }};
}

} // namespace

TEST_CASE("a handle slot takes no handle once closed") {
  caf::actor_system_config cfg;
  register_types(cfg);
  caf::actor_system sys{cfg};
  handle_slot<caf::actor> slot;
  auto a = sys.spawn(idle);
  slot.set(a);
  CHECK(slot.get() == a);
  slot.close();
  CHECK(!slot.get());
  slot.set(a);
  CHECK(!slot.get());
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("a supervisor that starts its children after their slots closed leaves them empty") {
  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  caf::weak_actor_ptr late_child, open_child;
  auto closed = std::make_shared<handle_slot<caf::actor>>();
  auto open = std::make_shared<handle_slot<caf::actor>>();
  {
    caf::actor_system sys{cfg};
    auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
    auto sup = sys.spawn(supervisor, std::string{"late"}, supervisor_limits{},
                         std::vector<child_spec>{filling("closed", closed),
                                                 filling("open", open)},
                         std::function<void(actor_restarted)>{},
                         std::shared_ptr<child_queue>{});
    // The owner stops before the supervisor has run once: its exit is queued, the slot
    // closed; then the supervisor starts its children and takes its exit.
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    closed->close();
    sched.run();
    CHECK(!closed->get());
    // The same start fills a slot nobody closed: the check above can fail.
    REQUIRE(open->get());
    open_child = caf::actor_cast<caf::weak_actor_ptr>(open->get());
    sup = nullptr;
    sched.run();
  }
  // The open slot still holds its (stopped) child; nothing holds the closed slot's.
  CHECK(open_child.lock() != nullptr);
  open->close();
  CHECK(open_child.lock() == nullptr);
}
