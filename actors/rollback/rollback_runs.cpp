// The rollback executor's runs of rollback flights (rollback_runs.hpp): the machine's
// commands carried out, its answers fed back.

#include "actors/rollback/rollback_runs.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"

namespace bulwark::rollback_detail {

namespace {

/// Feeds the answer of the append `token` back into the flight.
void append(rollback_ptr self, const digest& id, uint64_t token, std::vector<event> events) {
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(events))
    .then(
      [self, id, token](const appended& ack) {
        drive(self, id, [&](auto& c, auto& cx, auto& out) {
          return flight::committed(c, token, ack, cx, out);
        });
      },
      [self, id, token](caf::error& err) {
        auto why = describe(err);
        drive(self, id, [&](auto& c, auto& cx, auto& out) {
          return flight::commit_failed(c, token, why, cx, out);
        });
      });
}

/// Hands a compensation to its service's breaker (bulkhead, retries); a service with no
/// effector, an error or the timeout is a failed compensation.
void call(rollback_ptr self, const digest& id, uint64_t token, effector_request req,
          caf::timespan timeout) {
  breaker_directory::entry e;
  if (!self->state.breakers->find(req.service, e)) {
    on_effected(self, id, token,
                effector_result{false, ec::unavailable,
                                "no effector is registered for service " + req.service,
                                caf::none});
    return;
  }
  self->request(e.handle, timeout, atom::execute_v, std::move(req))
    .then([self, id, token](effector_result& r) { on_effected(self, id, token, r); },
          [self, id, token](caf::error& err) {
            auto info = describe(err);
            on_effected(self, id, token,
                        effector_result{false, info.code == ec::none ? ec::timeout : info.code,
                                        info.message, caf::none});
          });
}

} // namespace

/// Takes the newest settings after a policy reload, and what the machine reads of them;
/// `first`: at the executor's start, which derives them whatever it finds.
void update(rollback_ptr self, bool first) {
  auto& st = self->state;
  if (!refresh(st.settings, st.settings_seen) && !first)
    return; // no reload since the last look: nothing to copy
  st.machine.approval_timeout = st.settings.approval_timeout;
  st.machine.effector_timeout = st.settings.effector_timeout;
  st.machine.approvals = st.settings.approvals;
  st.machine.authority.grants = st.settings.grants;
}

flight::context context_of(rollback_ptr self, const committed_view::reader& fleet) {
  return flight::context{rollback_now(self), &fleet.state(), &self->state.machine};
}

void on_effected(rollback_ptr self, const digest& id, uint64_t token, const effector_result& r) {
  drive(self, id, [&](auto& c, auto& cx, auto& out) {
    return flight::effected(c, token, r, cx, out);
  });
}

void carry_out(rollback_ptr self, const digest& id, std::vector<flight::command>& commands) {
  auto& st = self->state;
  for (auto& c : commands) {
    auto i = st.flights.find(id);
    if (i == st.flights.end())
      return;
    auto& run = i->second;
    switch (c.kind) {
      case flight::command_kind::append:
        append(self, id, c.token, std::move(c.events));
        break;
      case flight::command_kind::call:
        call(self, id, c.token, std::move(c.call), c.after);
        break;
      case flight::command_kind::arm_approval:
        self->delayed_send(self, c.after, atom::expire_v, id);
        break;
      case flight::command_kind::report:
        if (c.status.status == "compensation_failed")
          spdlog::error("rollback: {}: {}", to_hex(id), c.status.message);
        for (auto& w : run.waiters)
          w.deliver(c.status);
        run.waiters.clear();
        break;
      case flight::command_kind::refuse: {
        spdlog::error("rollback: {}: {}", to_hex(id), c.message);
        auto err = refuse(c.code, c.message, {}, c.retry_after);
        for (auto& w : run.waiters)
          w.deliver(err);
        run.waiters.clear();
        break;
      }
      case flight::command_kind::finished:
        st.flights.erase(i);
        return;
      default: // a proposal flight's commands: a rollback asks for none of them
        break;
    }
  }
}

/// Starts the flight of a planned rollback (a second order of the same rollback waits on
/// the running one).
void launch(rollback_ptr self, rollback_requested plan, std::vector<rollback_step> steps,
            caf::typed_response_promise<rollback_status> rp) {
  auto& st = self->state;
  auto id = plan.rollback;
  if (auto i = st.flights.find(id); i != st.flights.end()) {
    i->second.waiters.push_back(rp);
    return;
  }
  std::vector<flight::command> out;
  rollback_run run;
  {
    auto fleet = fleet_of(self);
    auto cx = context_of(self, fleet);
    run.c = flight::begin_rollback(std::move(plan), std::move(steps), cx, out);
  }
  run.waiters.push_back(rp);
  st.flights.emplace(id, std::move(run));
  carry_out(self, id, out);
}

void rebuild(rollback_ptr self, rollback_requested plan, std::vector<rollback_step> steps,
             caf::timestamp requested_at) {
  auto& st = self->state;
  auto id = plan.rollback;
  if (st.flights.count(id) != 0)
    return;
  std::vector<flight::command> out;
  rollback_run run;
  {
    auto fleet = fleet_of(self);
    auto cx = context_of(self, fleet);
    run.c = flight::rebuild_rollback(std::move(plan), std::move(steps), requested_at, cx, out);
  }
  st.flights.emplace(id, std::move(run));
  carry_out(self, id, out);
}

} // namespace bulwark::rollback_detail
