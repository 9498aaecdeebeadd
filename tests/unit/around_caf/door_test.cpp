// The door in front of a restarted actor: forwards with the caller's identity, answers a
// request at once while nobody is behind it, holds one-way messages for the next actor.

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/message_handler.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/error.hpp"
#include "messages/register.hpp"
#include "messages/type_ids.hpp"
#include "around_caf/door.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

/// Records the strings it gets; answers an int with the int plus how many it recorded.
caf::behavior recorder(caf::event_based_actor*, std::shared_ptr<std::vector<std::string>> seen) {
  return {
    [seen](const std::string& s) { seen->push_back(s); },
    [seen](int x) { return x + static_cast<int>(seen->size()); },
  };
}

struct door_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  door_fixture() {
    register_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  ~door_fixture() {
    sys->await_all_actors_done();
  }
};

/// Sends `x` through `to` and returns the answer, or the error's code (as a negative).
int ask(caf::actor_system& sys, const caf::actor& to, int x, caf::error* err = nullptr) {
  caf::scoped_actor self{sys};
  int out = -1;
  self->request(to, 5s, x).receive([&](int y) { out = y; },
                                   [&](caf::error& e) {
                                     if (err != nullptr)
                                       *err = std::move(e);
                                   });
  return out;
}

} // namespace

TEST_CASE_FIXTURE(door_fixture, "a door forwards to the actor behind it, which answers the caller") {
  auto seen = std::make_shared<std::vector<std::string>>();
  auto target = sys->spawn(recorder, seen);
  auto d = sys->spawn(door, std::string{"recorder"}, refuse(ec::unavailable, "down"), target);
  CHECK(ask(*sys, d, 41) == 41);
  caf::anon_send(d, std::string{"one"});
  CHECK(ask(*sys, d, 1) == 2); // in order: the one-way message came first
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(door_fixture, "nobody behind: a request is answered at once, a one-way message waits for the next actor") {
  auto d = sys->spawn(door, std::string{"journal"},
                      refuse(ec::audit_unavailable, "the journal is restarting"), caf::actor{});
  caf::error err;
  CHECK(ask(*sys, d, 1, &err) == -1);
  CHECK(describe(err).code == ec::audit_unavailable);
  caf::anon_send(d, std::string{"held-1"});
  caf::anon_send(d, std::string{"held-2"});
  auto seen = std::make_shared<std::vector<std::string>>();
  auto next = sys->spawn(recorder, seen);
  caf::anon_send(d, atom::restart_v, next);
  CHECK(ask(*sys, d, 0) == 2); // both held messages reached it before the request
  CHECK(*seen == std::vector<std::string>{"held-1", "held-2"});
  // The actor behind dies: the door notices and answers for it again.
  {
    caf::scoped_actor self{*sys};
    self->monitor(next);
    caf::anon_send_exit(next, caf::exit_reason::kill);
    self->receive([](caf::down_msg&) {});
  }
  caf::error after;
  for (int i = 0; i < 100 && describe(after).code != ec::audit_unavailable; ++i)
    ask(*sys, d, 1, &after); // a request racing the door's down notice gets an error too
  CHECK(describe(after).code == ec::audit_unavailable);
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(door_fixture, "a router door sends each message to the actor its route names, each restarted on its own") {
  auto evens = std::make_shared<std::vector<std::string>>();
  auto odds = std::make_shared<std::vector<std::string>>();
  auto even = sys->spawn(recorder, evens);
  // Ints go by parity; strings by their length's parity.
  door_route route = [](const caf::message& m) -> size_t {
    if (m.match_elements<int>())
      return static_cast<size_t>(m.get_as<int>(0) % 2);
    if (m.match_elements<std::string>())
      return m.get_as<std::string>(0).size() % 2;
    return 0;
  };
  // The door's own handler, tried before the route: it answers for every actor.
  auto own = [](door_ptr self) {
    return caf::message_handler{[self](double) { return static_cast<int>(self->state.slots.size()); }};
  };
  auto d = sys->spawn(router_door, std::string{"parity"}, refuse(ec::unavailable, "down"),
                      std::vector<caf::actor>{even, caf::actor{}}, route, own);
  caf::anon_send(d, std::string{"ab"});   // to the even actor
  caf::anon_send(d, std::string{"abc"});  // held for the odd one, which is down
  CHECK(ask(*sys, d, 40) == 41);          // the even actor: 40 + 1 recorded
  caf::error err;
  CHECK(ask(*sys, d, 41, &err) == -1);    // the odd one is down: answered at once
  CHECK(describe(err).code == ec::unavailable);
  {
    caf::scoped_actor self{*sys};
    int slots = 0;
    self->request(d, 5s, 1.5).receive([&](int n) { slots = n; }, [](caf::error&) {});
    CHECK(slots == 2);
  }
  auto odd = sys->spawn(recorder, odds);
  caf::anon_send(d, atom::restart_v, uint32_t{1}, odd);
  CHECK(ask(*sys, d, 1) == 2); // the held message reached it first
  CHECK(*odds == std::vector<std::string>{"abc"});
  CHECK(*evens == std::vector<std::string>{"ab"});
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(even, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(odd, caf::exit_reason::user_shutdown);
}
