// The pipeline's execution half: levels 1-4 after admission, effector calls with
// deadlines, compensation, and the final journaled outcome.
//
// Per level: 1 and 2 wait for an approval (expiring); 1 and 4 run their steps without
// pausing; 3 waits an observation window between steps and rolls back on interrupt or
// failure; 2 journals every effect and compensation with the finish in ONE transaction
// and compensates the whole batch when one action fails (all-or-nothing); 4 stops at a
// failure and keeps what was applied (each effect is journaled as it happens).

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/pipeline_impl.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::pipeline_detail {

namespace {

/// The value `m`'s key holds now: the newest uncommitted change of this flight, else
/// the projection's.
std::optional<std::string> current_value(self_ptr self, const flight& f, const mutation& m) {
  for (auto i = f.done.rbegin(); i != f.done.rend(); ++i)
    if (i->change.resource == m.resource && i->change.key == m.key)
      return i->change.value;
  auto& res = self->state.proj.state().resources;
  auto r = res.find(m.resource.value);
  if (r == res.end())
    return std::nullopt;
  auto a = r->second.attributes.find(m.key);
  if (a == r->second.attributes.end())
    return std::nullopt;
  return a->second;
}

/// An effector call's answer: no longer watched, then handled (a stale one is ignored).
void answered(self_ptr self, const digest& id, uint64_t token, const effector_result& r) {
  if (auto i = self->state.flights.find(id); i != self->state.flights.end())
    unwatch(self, i->second, token);
  on_effected(self, id, token, r);
}

/// Hands the call to the service's breaker (bulkhead, retries); the answer comes back
/// as `effected`, or as a deadline when the breaker does not answer in time.
void call(self_ptr self, flight& f, effector_call c) {
  auto& st = self->state;
  auto token = st.next_token++;
  f.token = token;
  auto left = f.p.deadline - now(self);
  auto timeout = std::min<caf::timespan>(st.settings.effector_timeout, left);
  auto id = f.id;
  breaker_directory::entry e;
  if (timeout <= caf::timespan{0} || !st.breakers->find(c.service, e)) {
    self->send(self, atom::deadline_v, id, token);
    return;
  }
  effector_request req{c.service, c.change, c.compensation, caf::none,
                       to_hex(f.id) + "/" + std::to_string(f.next), now(self) + timeout};
  if (c.restore)
    req.restore = *c.restore;
  // Untimed: the watchdog gives the call up at `timeout` (watchdog.cpp); a late answer
  // finds its token gone.
  watch(self, f, token, awaiting::effector, timeout);
  self->request(e.handle, caf::infinite, atom::execute_v, std::move(req))
    .then([self, id, token](effector_result& r) { answered(self, id, token, r); },
          [self, id, token](caf::error& err) {
            auto info = describe(err);
            auto code = info.code == ec::none ? ec::timeout : info.code;
            answered(self, id, token,
                     effector_result{false, code, info.message, info.retry_after});
          });
}

std::string service_of(self_ptr self, const mutation& m) {
  return self->state.proj.state().resources.at(m.resource.value).service;
}

/// Starts undoing the applied steps, newest first.
void compensate(self_ptr self, flight& f) {
  f.phase = flight_phase::compensating;
  f.undo = f.done.size();
  run_next(self, f.id);
}

void undo_next(self_ptr self, flight& f) {
  if (f.undo == 0)
    return finish(self, f.id);
  auto& step = f.done[f.undo - 1];
  effector_call c;
  c.service = service_of(self, step.change);
  c.change = step.change;
  c.compensation = true;
  c.restore = step.old_value;
  call(self, f, std::move(c));
}

void start_step(self_ptr self, flight& f) {
  auto& m = f.p.mutations[f.next];
  effector_call c;
  c.service = service_of(self, m);
  c.change = m;
  if (f.p.level == authority_level::recommend || (f.next == 0 && f.first_started))
    return call(self, f, std::move(c)); // its start is durable already
  // Write-ahead: the start is durable before the effector runs (in-doubt detection).
  auto ev = make_event(event_type::action_started, now(self), action_started{f.id, f.next, m},
                       f.trace);
  auto id = f.id;
  append(self, {std::move(ev)},
         [self, id, c](const appended&) mutable {
           if (auto i = self->state.flights.find(id); i != self->state.flights.end())
             call(self, i->second, std::move(c));
         },
         [self, id](caf::error& err) {
           auto& f = self->state.flights.at(id);
           f.final_status = proposal_status::failed;
           f.final_code = ec::audit_unavailable;
           f.final_message = "action start could not be journaled: " + describe(err).message;
           finish(self, id);
         });
}

void record_failure(self_ptr self, flight& f, const effector_result& r) {
  auto& m = f.p.mutations[f.next];
  f.pending.push_back(make_event(event_type::action_failed, now(self),
                                 action_failed{f.id, f.next, m, r.code, r.message}, f.trace));
  // Retries exhausted (the breaker retried timeouts and unavailability until its attempts
  // or the deadline ran out, or its circuit opened in between): the action waits for an
  // operator in the dead-letter list, journaled in the same transaction as its failure.
  if (r.code == ec::timeout || r.code == ec::unavailable || r.code == ec::circuit_open)
    f.pending.push_back(make_event(event_type::dead_lettered, now(self),
                                   dead_lettered{f.id, f.next, f.p.principal, f.p.level,
                                                 service_of(self, m), m, r.code, r.message,
                                                 now(self)},
                                   f.trace));
  f.final_status = proposal_status::failed;
  f.final_code = r.code == ec::none ? ec::unavailable : r.code;
  f.final_message = "step " + std::to_string(f.next) + " failed: " + r.message;
  f.final_retry_after = r.retry_after;
}

void on_undone(self_ptr self, flight& f, const effector_result& r) {
  auto& step = f.done[f.undo - 1];
  if (r.ok) {
    caf::optional<std::string> restore;
    if (step.old_value)
      restore = *step.old_value;
    f.pending.push_back(make_event(event_type::rollback_applied, now(self),
                                   rollback_applied{f.id, step.applied_seq, step.change.resource,
                                                    step.change.key, step.change.value, restore},
                                   f.trace));
    ++f.compensated;
  } else {
    // A compensation that fails leaves the resource for an operator: journaled, loud.
    spdlog::error("pipeline: trace {}: compensation of {}/{} failed: {}", f.trace.value,
                  step.change.resource.value, step.change.key, r.message);
    f.pending.push_back(make_event(event_type::action_failed, now(self),
                                   action_failed{f.id, static_cast<uint32_t>(f.undo - 1),
                                                 step.change, r.code,
                                                 "compensation failed: " + r.message},
                                   f.trace));
  }
  --f.undo;
  undo_next(self, f);
}

void on_applied(self_ptr self, flight& f) {
  auto& m = f.p.mutations[f.next];
  auto old = current_value(self, f, m);
  caf::optional<std::string> old_caf;
  if (old)
    old_caf = *old;
  auto ev = make_event(event_type::action_applied, now(self),
                       action_applied{f.id, f.next, m.resource, m.key, old_caf, m.value}, f.trace);
  if (f.p.level == authority_level::recommend) {
    f.done.push_back(done_step{m, old, seq_no{0}});
    f.pending.push_back(std::move(ev));
    ++f.next;
    return run_next(self, f.id);
  }
  if (f.next + 1 == f.p.mutations.size() && !f.interrupted) {
    // The last effect rides the finishing transaction: one commit instead of two.
    f.done.push_back(done_step{m, old, seq_no{0}});
    f.pending.push_back(std::move(ev));
    ++f.next;
    return finish(self, f.id);
  }
  auto id = f.id;
  append(self, {std::move(ev)},
         [self, id, m, old](const appended& ack) {
           auto i = self->state.flights.find(id);
           if (i == self->state.flights.end())
             return;
           auto& f = i->second;
           f.done.push_back(done_step{m, old, ack.last});
           ++f.next;
           bool more = f.next < f.p.mutations.size() && !f.interrupted;
           if (f.p.level == authority_level::act && more) {
             f.phase = flight_phase::observing;
             self->delayed_send(self, self->state.settings.observation_window, atom::step_v, id);
             return;
           }
           run_next(self, id);
         },
         [self, id](caf::error& err) {
           auto& f = self->state.flights.at(id);
           f.final_status = proposal_status::failed;
           f.final_code = ec::audit_unavailable;
           f.final_message = "an effect could not be journaled (in doubt): " + describe(err).message;
           finish(self, id);
         });
}

} // namespace

void launch(self_ptr self, flight& f, const halt_guard::pass& pass) {
  auto& st = self->state;
  if (pass.proposal() != f.id || (!pass.mutating() && !f.p.mutations.empty())) {
    // A pass for another proposal, or a read's pass for a mutation: fail closed.
    spdlog::error("pipeline: proposal {} launched without its own halt-guard pass", to_hex(f.id));
    return drop(self, f.id, refuse(ec::governance_failure, "no halt-guard pass", f.trace));
  }
  switch (f.p.level) {
    case authority_level::read_only: {
      outcome o{f.id, proposal_status::read, ec::none, "read-only", f.decided, 0, 0, caf::none};
      remember_outcome(self, f, o);
      for (auto& w : f.waiters)
        w.deliver(o);
      st.flights.erase(f.id);
      return;
    }
    case authority_level::assist:
    case authority_level::recommend:
      f.phase = flight_phase::awaiting_approval;
      f.expires = now(self) + st.settings.approval_timeout;
      self->delayed_send(self, st.settings.approval_timeout, atom::expire_v, f.id);
      return;
    case authority_level::act:
    case authority_level::enforce:
      f.phase = flight_phase::running;
      run_next(self, f.id);
      return;
  }
}

void run_next(self_ptr self, const digest& id) {
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end())
    return;
  auto& f = i->second;
  if (f.phase == flight_phase::compensating)
    return undo_next(self, f);
  f.phase = flight_phase::running;
  if (f.interrupted) {
    f.final_status = proposal_status::interrupted;
    f.final_code = ec::none;
    f.final_message = "interrupted after " + std::to_string(f.done.size()) + " steps";
    return compensate(self, f);
  }
  if (f.next == f.p.mutations.size())
    return finish(self, id);
  if (f.p.level == authority_level::recommend && f.next == 0) {
    // All starts of the batch are durable before its first effector call.
    std::vector<event> starts;
    for (uint32_t s = 0; s < f.p.mutations.size(); ++s)
      starts.push_back(make_event(event_type::action_started, now(self),
                                  action_started{f.id, s, f.p.mutations[s]}, f.trace));
    append(self, std::move(starts),
           [self, id](const appended&) {
             if (auto j = self->state.flights.find(id); j != self->state.flights.end())
               start_step(self, j->second);
           },
           [self, id](caf::error&) {
             drop(self, id, refuse(ec::audit_unavailable, "batch start could not be journaled"));
           });
    return;
  }
  start_step(self, f);
}

void on_effected(self_ptr self, const digest& id, uint64_t token, const effector_result& r) {
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end() || i->second.token != token || token == 0)
    return; // late answer of a call whose deadline passed, or a stale deadline
  auto& f = i->second;
  f.token = 0;
  if (f.phase == flight_phase::compensating)
    return on_undone(self, f, r);
  if (r.ok)
    return on_applied(self, f);
  record_failure(self, f, r);
  if (f.p.level == authority_level::enforce || f.p.level == authority_level::assist)
    return finish(self, id);
  compensate(self, f); // levels 2 and 3: undo what this proposal applied
}

void finish(self_ptr self, const digest& id) {
  auto& st = self->state;
  auto& f = st.flights.at(id);
  bool ok = f.final_status == proposal_status::succeeded;
  auto applied = static_cast<uint32_t>(f.done.size());
  f.pending.push_back(make_event(event_type::proposal_finished, now(self),
                                 proposal_finished{id, ok, f.final_code, applied, f.compensated,
                                                   f.final_message},
                                 f.trace));
  outcome o{id,      f.final_status, f.final_code,  f.final_message,
            f.decided, applied,       f.compensated, f.final_retry_after};
  append(self, std::move(f.pending),
         [self, id, o](const appended&) {
           auto& st = self->state;
           auto& f = st.flights.at(id);
           remember_outcome(self, f, o);
           for (auto& w : f.waiters)
             w.deliver(o);
           st.flights.erase(id);
         },
         [self, id](caf::error& err) {
           drop(self, id, refuse(ec::audit_unavailable,
                                 "the outcome could not be journaled (in doubt): "
                                   + describe(err).message));
         });
}

} // namespace bulwark::pipeline_detail
