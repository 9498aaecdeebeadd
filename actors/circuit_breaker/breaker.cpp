#include "actors/circuit_breaker/breaker.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

using self_ptr = breaker_actor::stateful_pointer<breaker_state_data>;

caf::timestamp now(self_ptr self) {
  return self->state.deps.epoch + (self->clock().now() - self->state.start);
}

bool retryable(ec code) {
  return code == ec::timeout || code == ec::unavailable;
}

breaker_status status(self_ptr self) {
  auto& st = self->state;
  return breaker_status{st.deps.service, st.fsm.state(), st.fsm.window_calls(),
                        st.fsm.window_failures(), st.fsm.consecutive(), st.in_flight,
                        static_cast<uint32_t>(st.queue.size()), st.refused, st.retries};
}

/// Journals a transition (fire and forget: a failure is logged) and publishes the state.
void announce(self_ptr self, const caf::optional<breaker_change>& change) {
  if (!change)
    return;
  auto& st = self->state;
  auto t = now(self);
  st.deps.directory->update(st.deps.service, change->to, t + st.fsm.limits().cooldown);
  spdlog::info("breaker {}: {} -> {} ({})", st.deps.service, to_string(change->from),
               to_string(change->to), change->cause);
  breaker_transition x{st.deps.service, change->from, change->to, change->cause,
                       change->failures, change->calls};
  self->request(st.deps.journal, caf::infinite, atom::append_v,
                make_event(event_type::breaker_transition, t, x))
    .then([](const appended&) {},
          [service = st.deps.service](const caf::error& err) {
            spdlog::error("breaker {}: transition not journaled: {}", service,
                          describe(err).message);
          });
}

/// Runs the job's effector on the pool; the result comes back as `done`.
void dispatch(self_ptr self, uint64_t token) {
  auto& st = self->state;
  auto& job = st.jobs.at(token);
  ++st.in_flight;
  auto attempt = ++job.attempt;
  job.running = true;
  job.started = self->clock().now();
  effector_call c;
  c.service = job.req.service;
  c.change = job.req.change;
  c.compensation = job.req.compensation;
  if (job.req.restore)
    c.restore = *job.req.restore;
  c.idempotency_key = job.req.idempotency_key;
  // The timeout hierarchy: an attempt ends before the call's deadline.
  c.timeout = std::min<caf::timespan>(st.fsm.limits().attempt_timeout, job.req.deadline - now(self));
  self->delayed_send(self, c.timeout, atom::deadline_v, token, attempt);
  auto fn = st.deps.effectors->find(st.deps.service);
  auto target = caf::actor_cast<breaker_actor>(self);
  st.deps.pool->run([fn, c = std::move(c), target, token, attempt] {
    effector_result r{false, ec::unavailable, "no effector for service " + c.service,
                      caf::none};
    if (fn) {
      try {
        r = fn(c);
      } catch (const std::exception& e) {
        r = effector_result{false, ec::unavailable, std::string{"effector threw: "} + e.what(),
                            caf::none};
      }
    }
    caf::anon_send(target, atom::done_v, token, attempt, std::move(r));
  });
}

/// Starts queued calls while the bulkhead has room.
void drain(self_ptr self) {
  auto& st = self->state;
  while (!st.queue.empty() && st.in_flight < st.fsm.limits().max_in_flight) {
    auto token = st.queue.front();
    st.queue.pop_front();
    dispatch(self, token);
  }
}

caf::result<effector_result> execute(self_ptr self, effector_request& req) {
  auto& st = self->state;
  auto admission = st.fsm.admit(now(self));
  announce(self, admission.change);
  if (!admission.admitted) {
    ++st.refused;
    return refuse(ec::circuit_open, "circuit open for service " + st.deps.service, {},
                  admission.retry_after);
  }
  if (st.in_flight >= st.fsm.limits().max_in_flight
      && st.queue.size() >= st.fsm.limits().max_queue) {
    ++st.refused;
    st.fsm.cancel(); // the call never ran
    return refuse(ec::overloaded, "bulkhead of service " + st.deps.service + " is full", {},
                  caf::timespan{std::chrono::milliseconds{100}});
  }
  auto token = st.next_token++;
  auto rp = self->make_response_promise<effector_result>();
  breaker_job job;
  job.req = std::move(req);
  job.promise = rp;
  st.jobs.emplace(token, std::move(job));
  st.queue.push_back(token);
  drain(self);
  return rp;
}

/// Takes the answer of attempt `attempt` (a result, or its timeout) if it is the one out.
void on_done(self_ptr self, uint64_t token, uint32_t attempt, effector_result& r, bool late) {
  auto& st = self->state;
  if (!late)
    --st.in_flight; // the thread is free again, whatever the job's fate
  auto i = st.jobs.find(token);
  if (i == st.jobs.end() || !i->second.running || i->second.attempt != attempt) {
    drain(self);
    return;
  }
  auto& job = i->second;
  job.running = false;
  auto took = self->clock().now() - job.started;
  announce(self, st.fsm.record(r.ok, took, now(self)));
  if (!r.ok && retryable(r.code) && job.attempt < st.fsm.limits().attempts) {
    auto wait = backoff(st.fsm.limits(), job.attempt, st.rng);
    if (now(self) + wait < job.req.deadline) {
      ++st.retries;
      self->delayed_send(self, wait, atom::retry_v, token);
      drain(self);
      return;
    }
  }
  job.promise.deliver(std::move(r));
  st.jobs.erase(i);
  drain(self);
}

void on_retry(self_ptr self, uint64_t token) {
  auto& st = self->state;
  auto i = st.jobs.find(token);
  if (i == st.jobs.end())
    return;
  auto admission = st.fsm.admit(now(self));
  announce(self, admission.change);
  if (!admission.admitted) {
    ++st.refused;
    i->second.promise.deliver(effector_result{false, ec::circuit_open,
                                              "circuit opened before the retry", caf::none});
    st.jobs.erase(i);
    return;
  }
  st.queue.push_back(token);
  drain(self);
}

caf::result<breaker_status> override_state(self_ptr self, const principal_id& by,
                                           caf::optional<bool> open) {
  auto& st = self->state;
  auto command = open ? (*open ? "breaker-force-open" : "breaker-force-closed")
                      : "breaker-release";
  if (st.deps.admins.count(by.value) == 0) {
    console_access x{by, command, "embedded", false, "not an admin"};
    caf::anon_send(st.deps.journal, atom::append_v,
                   make_event(event_type::console_access, now(self), x));
    return refuse(ec::authority_denied, by.value + " is not an admin and may not override "
                                          "the breaker of " + st.deps.service);
  }
  auto change = open ? st.fsm.force(*open, now(self)) : st.fsm.release(now(self));
  if (change)
    change->cause += " (" + by.value + ")";
  announce(self, change);
  return status(self);
}

} // namespace

caf::timespan backoff(const breaker_limits& limits, uint32_t attempt, std::mt19937_64& rng) {
  auto base = limits.backoff_base.count();
  auto cap = limits.backoff_cap.count();
  auto exp = base;
  for (uint32_t i = 1; i < attempt && exp < cap; ++i)
    exp *= 2;
  exp = std::min(exp, cap);
  // Jitter in [0.5, 1): spreads retries of many callers; seeded, so tests are exact.
  auto jitter = 0.5 + 0.5 * static_cast<double>(rng() >> 11) / static_cast<double>(1ull << 53);
  return caf::timespan{static_cast<int64_t>(static_cast<double>(exp) * jitter)};
}

breaker_actor::behavior_type breaker(breaker_actor::stateful_pointer<breaker_state_data> self,
                                     breaker_deps deps) {
  auto& st = self->state;
  st.fsm = breaker_fsm{deps.limits};
  st.rng.seed(deps.seed);
  st.deps = std::move(deps);
  st.start = self->clock().now();
  st.deps.directory->update(st.deps.service, breaker_state::closed, now(self));
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
    [self](atom::state) -> caf::result<breaker_status> { return status(self); },
    [self](atom::done, uint64_t token, uint32_t attempt, effector_result& r) {
      on_done(self, token, attempt, r, false);
    },
    [self](atom::deadline, uint64_t token, uint32_t attempt) {
      effector_result r{false, ec::timeout,
                        "the effector did not answer within its attempt timeout", caf::none};
      on_done(self, token, attempt, r, true);
    },
    [self](atom::retry, uint64_t token) { on_retry(self, token); },
  };
}

} // namespace bulwark
