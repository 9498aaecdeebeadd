// The pipeline's flights runner: it carries out what the flight machine
// (actors/flight/flight_machine.hpp) asks for and feeds the answers back into it. Every
// level's rule is in the machine; here are only the journal appends, the effector calls
// through the breakers (watched for their deadline), the timers and the answers.

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/pipeline_impl.hpp"

namespace bulwark::pipeline_detail {

namespace {

/// Where a flight's appends go: the journal actor itself while it runs (the slot behind
/// its door), else its door, which answers `AUDIT_UNAVAILABLE` while it restarts.
journal_actor journal_of(self_ptr self) {
  auto& st = self->state;
  if (st.journal_behind)
    if (auto j = st.journal_behind->get())
      return caf::actor_cast<journal_actor>(std::move(j));
  return st.journal;
}

/// Feeds the answer of the append `token` of flight `id` back into its machine.
void append(self_ptr self, const digest& id, uint64_t token, std::vector<event> events) {
  self->request(journal_of(self), caf::infinite, atom::append_v, std::move(events))
    .then(
      [self, id, token](const appended& ack) {
        drive(self, id, [&](auto& m, auto& cx, auto& out) {
          return flight::committed(m, token, ack, cx, out);
        });
      },
      [self, id, token](caf::error& err) {
        // A journal that died before it took the request bounces it: what its door says
        // of a journal between two runs.
        auto why = err == caf::sec::request_receiver_down ? std::string{"the journal is restarting"}
                                                          : describe(err).message;
        drive(self, id, [&](auto& m, auto& cx, auto& out) {
          return flight::commit_failed(m, token, why, cx, out);
        });
      });
}

/// Hands the call to the service's breaker (bulkhead, retries); the answer comes back
/// into the machine, or a timeout when the breaker does not answer in time.
void call(self_ptr self, in_flight& f, uint64_t token, effector_request req,
          caf::timespan timeout) {
  auto id = f.m.id;
  breaker_directory::entry e;
  if (!self->state.breakers->find(req.service, e)) {
    on_effected(self, id, token,
                effector_result{false, ec::unavailable,
                                "no effector is registered for service '" + req.service + "'",
                                caf::none});
    return;
  }
  // Untimed: the watchdog gives the call up at `timeout` (watchdog.cpp); a late answer
  // finds its token gone.
  watch(self, f, token, awaiting::effector, timeout);
  self->request(e.handle, caf::infinite, atom::execute_v, std::move(req))
    .then(
      [self, id, token](effector_result& r) {
        if (auto i = self->state.flights.find(id); i != self->state.flights.end())
          unwatch(self, i->second, token);
        on_effected(self, id, token, r);
      },
      [self, id, token](caf::error& err) {
        if (auto i = self->state.flights.find(id); i != self->state.flights.end())
          unwatch(self, i->second, token);
        auto info = describe(err);
        auto code = info.code == ec::none ? ec::timeout : info.code;
        on_effected(self, id, token,
                    effector_result{false, code, info.message, info.retry_after});
      });
}

} // namespace

flight::context context_of(self_ptr self, const committed_view::reader& fleet) {
  return flight::context{now(self), &fleet.state(), &self->state.machine};
}

void carry_out(self_ptr self, const digest& id, std::vector<flight::command>& commands) {
  auto& st = self->state;
  for (auto& c : commands) {
    auto i = st.flights.find(id);
    if (i == st.flights.end())
      return;
    auto& f = i->second;
    switch (c.kind) {
      case flight::command_kind::append:
        st.rebuilt.erase(id); // it journals for itself from now on
        append(self, id, c.token, std::move(c.events));
        break;
      case flight::command_kind::call:
        call(self, f, c.token, std::move(c.call), c.after);
        break;
      case flight::command_kind::arm_approval:
        self->delayed_send(self, c.after, atom::expire_v, id);
        break;
      case flight::command_kind::arm_step:
        self->delayed_send(self, c.after, atom::step_v, id);
        break;
      case flight::command_kind::reply:
        remember_outcome(self, f, c.result);
        for (auto& w : f.waiters)
          w.deliver(c.result);
        f.waiters.clear();
        break;
      case flight::command_kind::refuse:
        drop(self, id, refuse(c.code, c.message, f.m.trace, c.retry_after));
        return; // forgotten
      case flight::command_kind::ack_approval:
        for (auto& a : f.approvers)
          a.deliver(c.seq);
        f.approvers.clear();
        break;
      case flight::command_kind::nack_approval:
        for (auto& a : f.approvers)
          a.deliver(refuse(c.code, c.message, f.m.trace));
        f.approvers.clear();
        break;
      case flight::command_kind::report: // a rollback flight's only
        break;
      case flight::command_kind::finished:
        if (f.reserved) // its budget charge is journaled, or never will be
          release_reservation(self, id);
        st.registry->ended(id);
        st.flights.erase(i);
        return;
    }
  }
}

void launch(self_ptr self, in_flight& f, const halt_guard::pass& pass) {
  auto id = f.m.id;
  if (pass.proposal() != id || (!pass.mutating() && !f.m.p.mutations.empty())) {
    // A pass for another proposal, or a read's pass for a mutation: fail closed.
    spdlog::error("pipeline: proposal {} launched without its own halt-guard pass", to_hex(id));
    return refuse_flight(self, id, refuse(ec::governance_failure, "no halt-guard pass",
                                          f.m.trace));
  }
  auto extra = std::move(f.with_decision);
  auto count = f.allowed_count;
  drive(self, id, [&](auto& m, auto& cx, auto& out) {
    return flight::allow(m, count, std::move(extra), cx, out);
  });
}

void refuse_flight(self_ptr self, const digest& id, caf::error err) {
  auto info = describe(err);
  if (info.code == ec::none) // a foreign error: governance failed
    info.code = ec::governance_failure;
  auto r = drive(self, id, [&](auto& m, auto& cx, auto& out) {
    return flight::refuse(m, info.code, info.message, info.retry_after, cx, out);
  });
  if (r) // decided already (cannot happen on the admission path): answer as it is
    drop(self, id, err);
}

void analyze_window(self_ptr self, const digest& id) {
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end() || i->second.m.at != flight::phase::observing)
    return; // a stale timer: the flight was interrupted or finished meanwhile
  auto feed = [self, id](const signal_summary& signals) {
    drive(self, id, [&](auto& m, auto& cx, auto& out) {
      return flight::observed(m, signals, cx, out);
    });
  };
  auto unavailable = [](std::string why) {
    signal_summary s;
    s.available = false;
    s.error = std::move(why);
    return s;
  };
  auto& st = self->state;
  auto detector = st.detector ? st.detector->get() : detector_actor{};
  if (!detector)
    return feed(unavailable("the detector is not running"));
  auto& m = i->second.m;
  self->request(detector, st.analysis_timeout, atom::analyze_v, m.window_service, m.window_from,
                now(self))
    .then([feed](const signal_summary& signals) { feed(signals); },
          [feed, unavailable](caf::error& err) { feed(unavailable(describe(err).message)); });
}

void on_effected(self_ptr self, const digest& id, uint64_t token, const effector_result& r) {
  // A late answer of a call given up (its token is not awaited any more) changes nothing.
  drive(self, id, [&](auto& m, auto& cx, auto& out) {
    return flight::effected(m, token, r, cx, out);
  });
}

} // namespace bulwark::pipeline_detail
