// The pipeline's watchdog (one timer for the answers it awaits): an authority or a blast
// radius that takes the proposal and never answers fails it closed after
// `governance_timeout` (GOVERNANCE_FAILURE, journaled as a refusal, nothing runs), each
// at its own deadline, and its late answer changes nothing; afterwards proposals run as
// before.

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "engine/engine_impl.hpp"
#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

struct hung_state {
  std::vector<caf::typed_response_promise<authority_verdict>> held;
  std::vector<caf::typed_response_promise<authority_verdict, scope_verdict>> held_checks;
  static inline const char* name = "hung_authority";
};

/// An authority that takes every evaluation (and governance step) and answers none until
/// `state` is asked: then it allows every one it held, late. (The pipeline reads the authority's slot for
/// each proposal, so setting the slot puts it in front of the next one.)
authority_actor::behavior_type hung_authority(authority_actor::stateful_pointer<hung_state> self) {
  return {
    [self](atom::evaluate, const proposal&) -> caf::result<authority_verdict> {
      auto rp = self->make_response_promise<authority_verdict>();
      self->state.held.push_back(rp);
      return rp;
    },
    [self](atom::check,
           const scope_request&) -> caf::result<authority_verdict, scope_verdict> {
      auto rp = self->make_response_promise<authority_verdict, scope_verdict>();
      self->state.held_checks.push_back(rp);
      return rp;
    },
    [](atom::grant, const principal_id&, const principal_id&, authority_level,
       const caf::optional<caf::timestamp>&, const std::string&) -> caf::result<seq_no> {
      return refuse(ec::unavailable, "hung");
    },
    [](atom::halt, const principal_id&, const std::string&) -> caf::result<seq_no> {
      return refuse(ec::unavailable, "hung");
    },
    [](atom::release, const principal_id&, const std::string&) -> caf::result<seq_no> {
      return refuse(ec::unavailable, "hung");
    },
    [self](atom::state) -> caf::result<bool> {
      for (auto& rp : self->state.held)
        rp.deliver(authority_verdict{true, ec::none, "allowed late", caf::none});
      for (auto& rp : self->state.held_checks)
        rp.deliver(authority_verdict{true, ec::none, "allowed late", caf::none},
                   scope_verdict{true, {}, 0, 0, 1, {}});
      auto n = self->state.held.size() + self->state.held_checks.size();
      self->state.held.clear();
      self->state.held_checks.clear();
      return n > 0;
    },
  };
}

bool ready(std::future<result>& f) {
  return f.wait_for(0s) == std::future_status::ready;
}

int count(const std::vector<committed_event>& events, const std::string& type,
          const std::string& needle = {}) {
  return static_cast<int>(std::count_if(events.begin(), events.end(), [&](auto& e) {
    return e.type == type && e.json.find(needle) != std::string::npos;
  }));
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "an authority that never answers fails closed after the governance timeout") {
  auto& d = eng->internals();
  auto real = d.authority->get();
  auto hung = d.sys->spawn(hung_authority);
  d.authority->set(hung);
  auto f = eng->submit(make(4, {set(1, "x")}));
  eng->run();
  CHECK_FALSE(ready(f)); // the authority holds it
  eng->advance(1500ms);
  CHECK_FALSE(ready(f)); // governance_timeout is 2 s
  eng->advance(1000ms);
  REQUIRE(ready(f));
  auto r = f.get();
  CHECK(r.code == "GOVERNANCE_FAILURE");
  CHECK(calls.empty());
  CHECK(count(events, "proposal_decided", "\"allowed\":false") == 1);
  // The verdict comes late, allowing: it changes nothing, nothing runs.
  auto late = d.call<bool>(hung, atom::state_v);
  REQUIRE(late);
  CHECK(*late);
  eng->run();
  eng->advance(100ms);
  CHECK(calls.empty());
  CHECK(count(events, "proposal_decided") == 1);
  CHECK(count(events, "action_started") == 0);
  d.authority->set(real);
  caf::anon_send_exit(hung, caf::exit_reason::user_shutdown);
  auto after = submit_now(make(4, {set(2, "y")}));
  CHECK(after.ok);
  CHECK(calls.size() == 1);
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(engine_fixture, "answers awaited at different times are each given up at their own deadline") {
  auto& d = eng->internals();
  auto real = d.authority->get();
  auto hung = d.sys->spawn(hung_authority);
  d.authority->set(hung);
  std::vector<std::future<result>> early, later;
  for (int i = 0; i < 2; ++i)
    early.push_back(eng->submit(make(4, {set(10 + i, "x")})));
  eng->run();
  eng->advance(1000ms);
  for (int i = 0; i < 2; ++i)
    later.push_back(eng->submit(make(4, {set(12 + i, "x")})));
  eng->run();
  eng->advance(1200ms); // 2.2 s after the first two, 1.2 s after the others
  for (auto& f : early) {
    REQUIRE(ready(f));
    CHECK(f.get().code == "GOVERNANCE_FAILURE");
  }
  for (auto& f : later)
    CHECK_FALSE(ready(f));
  eng->advance(1000ms);
  for (auto& f : later) {
    REQUIRE(ready(f));
    CHECK(f.get().code == "GOVERNANCE_FAILURE");
  }
  auto late = d.call<bool>(hung, atom::state_v); // all four verdicts, late
  REQUIRE(late);
  CHECK(*late);
  eng->run();
  CHECK(calls.empty());
  CHECK(count(events, "proposal_decided", "\"allowed\":false") == 4);
  CHECK(count(events, "proposal_decided") == 4);
  d.authority->set(real);
  caf::anon_send_exit(hung, caf::exit_reason::user_shutdown);
}
