#include "actors/circuit_breaker/breaker.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

using breaker_ptr = breaker_actor::stateful_pointer<breaker_state_data>;

/// Journals transitions (fire and forget: a failure is logged).
void journal(breaker_ptr self, std::vector<gate_transition> xs) {
  auto& st = self->state;
  auto& service = st.deps.runtime->service();
  for (auto& x : xs) {
    auto& c = x.change;
    spdlog::info("breaker {}: {} -> {} ({})", service, to_string(c.from), to_string(c.to),
                 c.cause);
    breaker_transition ev{service, c.from, c.to, c.cause, c.failures, c.calls};
    self->request(st.deps.journal, caf::infinite, atom::append_v,
                  make_event(event_type::breaker_transition, x.at, ev))
      .then([](const appended&) {},
            [service](const caf::error& err) {
              spdlog::error("breaker {}: transition not journaled: {}", service,
                            describe(err).message);
            });
  }
}

caf::result<breaker_status> override_state(breaker_ptr self, const principal_id& by,
                                           caf::optional<bool> open) {
  auto& st = self->state;
  auto& service = st.deps.runtime->service();
  auto command = open ? (*open ? "breaker-force-open" : "breaker-force-closed")
                      : "breaker-release";
  if (!st.deps.admins || st.deps.admins->count(by.value) == 0) {
    console_access x{by, command, "embedded", false, "not an admin"};
    caf::anon_send(st.deps.journal, atom::append_v,
                   make_event(event_type::console_access, st.deps.runtime->now().at, x));
    return refuse(ec::authority_denied, by.value + " is not an admin and may not override "
                                          "the breaker of " + service);
  }
  journal(self, st.deps.runtime->override_state(open, by.value));
  return st.deps.runtime->status();
}

/// An `execute` that reached the actor itself rather than its entry: same gate, and the
/// answer goes straight to the requester.
caf::result<effector_result> execute(breaker_ptr self, effector_request& req) {
  auto* x = self->current_mailbox_element();
  reply_to to{x->sender, x->mid, x->stages};
  x->mid.mark_as_answered();
  self->state.deps.runtime->execute(std::move(req), std::move(to));
  return caf::delegated<effector_result>{};
}

} // namespace

breaker_actor::behavior_type breaker(breaker_actor::stateful_pointer<breaker_state_data> self,
                                     breaker_deps deps) {
  self->state.deps = std::move(deps);
  self->state.deps.runtime->bind(caf::actor_cast<caf::actor_addr>(self));
  // A predecessor may have left timers and transitions: the first turn re-arms and
  // journals them.
  self->send(self, atom::tick_v);
  return {
    [self](atom::execute, effector_request& req) -> caf::result<effector_result> {
      return execute(self, req);
    },
    [self](atom::force, const principal_id& by, bool open) -> caf::result<breaker_status> {
      return override_state(self, by, open);
    },
    [self](atom::release, const principal_id& by) -> caf::result<breaker_status> {
      return override_state(self, by, caf::none);
    },
    [self](atom::state) -> caf::result<breaker_status> {
      return self->state.deps.runtime->status();
    },
    [self](atom::tick) { journal(self, self->state.deps.runtime->wake()); },
  };
}

} // namespace bulwark
