#include "actors/circuit_breaker/breaker_gate.hpp"

#include <algorithm>

#include "messages/error.hpp"

namespace bulwark {

namespace {

bool retryable(ec code) {
  return code == ec::timeout || code == ec::unavailable;
}

/// A refusal as the requester sees it: the error its `request(...).then` error handler gets.
gate_answer refusal(reply_to to, ec code, const std::string& what,
                    caf::timespan retry_after) {
  return gate_answer{std::move(to), {}, refuse(code, what, {}, retry_after)};
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

breaker_gate::breaker_gate(std::string service, breaker_limits limits, uint64_t seed,
                           std::shared_ptr<breaker_directory> directory)
  : fsm_(limits),
    service_(std::move(service)),
    open_what_("circuit open for service " + service_),
    full_what_("bulkhead of service " + service_ + " is full"),
    directory_(std::move(directory)),
    rng_(seed) {
}

void breaker_gate::announce(const caf::optional<breaker_change>& change, const gate_time& now,
                            gate_effects& fx) {
  if (!change)
    return;
  directory_->update(service_, change->to, now.at + fsm_.limits().cooldown);
  fx.nudge = fx.nudge || outbox_.empty();
  outbox_.push_back(gate_transition{now.at, *change});
}

void breaker_gate::arm(caf::actor_clock::time_point t, gate_effects& fx) {
  if (armed_ <= t)
    return; // an earlier wake-up is on its way and re-arms for the rest
  armed_ = t;
  fx.wake_at = t;
}

void breaker_gate::arm_next(gate_effects& fx) {
  auto next = caf::actor_clock::time_point::max();
  jobs_.each([&](uint64_t, job& j) {
    if (j.running)
      next = std::min(next, j.ends);
    if (j.waiting_retry)
      next = std::min(next, j.retry_at);
  });
  if (next != caf::actor_clock::time_point::max())
    arm(next, fx);
}

void breaker_gate::dispatch(uint64_t token, job& j, const gate_time& now, gate_effects& fx) {
  ++in_flight_;
  auto attempt = ++j.attempt;
  j.running = true;
  j.started = now.tick;
  auto& d = fx.dispatches.emplace_back();
  d.token = token;
  d.attempt = attempt;
  auto& c = d.call;
  if (attempt >= fsm_.limits().attempts) {
    // No attempt follows this one, so the job's strings can go with it.
    c.service = std::move(j.req.service);
    c.change = std::move(j.req.change);
    if (j.req.restore)
      c.restore = std::move(*j.req.restore);
    c.idempotency_key = std::move(j.req.idempotency_key);
  } else {
    c.service = j.req.service;
    c.change = j.req.change;
    if (j.req.restore)
      c.restore = *j.req.restore;
    c.idempotency_key = j.req.idempotency_key;
  }
  c.compensation = j.req.compensation;
  // The timeout hierarchy: an attempt ends before the call's deadline.
  c.timeout = std::min<caf::timespan>(fsm_.limits().attempt_timeout, j.deadline - now.at);
  j.ends = now.tick + c.timeout;
  arm(j.ends, fx);
}

void breaker_gate::drain(const gate_time& now, gate_effects& fx) {
  while (!queue_.empty() && in_flight_ < fsm_.limits().max_in_flight) {
    auto token = queue_.front();
    queue_.pop_front();
    if (auto j = jobs_.find(token))
      dispatch(token, *j, now, fx);
  }
}

void breaker_gate::execute(effector_request&& req, reply_to&& to, const gate_time& now,
                           gate_effects& fx) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto admission = fsm_.admit(now.at);
  announce(admission.change, now, fx);
  if (!admission.admitted) {
    ++refused_;
    fx.answers.push_back(refusal(std::move(to), ec::circuit_open, open_what_,
                                 admission.retry_after));
    return;
  }
  auto& lim = fsm_.limits();
  if (in_flight_ >= lim.max_in_flight && queue_.size() >= lim.max_queue) {
    ++refused_;
    fsm_.cancel(); // the call never ran
    fx.answers.push_back(refusal(std::move(to), ec::overloaded, full_what_,
                                 std::chrono::milliseconds{100}));
    return;
  }
  auto token = jobs_.emplace();
  auto& j = *jobs_.find(token);
  // Every field a job reads before writing it (a reused slot holds its last job's).
  j.deadline = req.deadline;
  j.req = std::move(req);
  j.to = std::move(to);
  j.attempt = 0;
  j.running = false;
  j.waiting_retry = false;
  // With nothing waiting, the call is the queue's front: it starts now if there is room.
  if (queue_.empty() && in_flight_ < lim.max_in_flight)
    dispatch(token, j, now, fx);
  else
    queue_.push_back(token);
  drain(now, fx);
}

void breaker_gate::settle(uint64_t token, job& j, effector_result r, const gate_time& now,
                          gate_effects& fx) {
  j.running = false;
  announce(fsm_.record(r.ok, now.tick - j.started, now.at), now, fx);
  if (!r.ok && retryable(r.code) && j.attempt < fsm_.limits().attempts) {
    auto wait = backoff(fsm_.limits(), j.attempt, rng_);
    if (now.at + wait < j.deadline) {
      ++retries_;
      j.waiting_retry = true;
      j.retry_at = now.tick + wait;
      arm(j.retry_at, fx);
      return;
    }
  }
  auto& a = fx.answers.emplace_back();
  a.to = std::move(j.to); // leaves the slot holding no requester
  a.result = std::move(r);
  jobs_.erase(token);
}

void breaker_gate::finish(uint64_t token, uint32_t attempt, effector_result r,
                          const gate_time& now, gate_effects& fx) {
  std::lock_guard<std::mutex> guard{mtx_};
  --in_flight_; // the thread is free again, whatever the call's fate
  auto j = jobs_.find(token);
  if (j != nullptr && j->running && j->attempt == attempt)
    settle(token, *j, std::move(r), now, fx);
  drain(now, fx);
}

void breaker_gate::retry(uint64_t token, job& j, const gate_time& now, gate_effects& fx) {
  j.waiting_retry = false;
  auto admission = fsm_.admit(now.at);
  announce(admission.change, now, fx);
  if (!admission.admitted) {
    ++refused_;
    fx.answers.push_back(gate_answer{std::move(j.to), // leaves the slot holding no requester
                                     effector_result{false, ec::circuit_open,
                                                     "circuit opened before the retry",
                                                     caf::none},
                                     {}});
    jobs_.erase(token);
    return;
  }
  queue_.push_back(token);
}

void breaker_gate::wake(const gate_time& now, gate_effects& fx) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (armed_ <= now.tick)
    armed_ = caf::actor_clock::time_point::max();
  // Oldest first, as before with tokens in a map: answers, backoff draws and the order of
  // retries in the queue are the same on every run.
  jobs_.each([&](uint64_t token, job& j) {
    if (j.running && j.ends <= now.tick)
      settle(token, j,
             effector_result{false, ec::timeout,
                             "the effector did not answer within its attempt timeout",
                             caf::none},
             now, fx);
    else if (j.waiting_retry && j.retry_at <= now.tick)
      retry(token, j, now, fx);
  });
  drain(now, fx);
  arm_next(fx);
}

void breaker_gate::rearm() noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  armed_ = caf::actor_clock::time_point::max();
}

void breaker_gate::override_state(caf::optional<bool> open, const std::string& by,
                                  const gate_time& now, gate_effects& fx) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto change = open ? fsm_.force(*open, now.at) : fsm_.release(now.at);
  if (change)
    change->cause += " (" + by + ")";
  announce(change, now, fx);
}

std::vector<gate_transition> breaker_gate::take_transitions() {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::exchange(outbox_, {});
}

breaker_status breaker_gate::status() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return breaker_status{service_, fsm_.state(), fsm_.window_calls(), fsm_.window_failures(),
                        fsm_.consecutive(), in_flight_, static_cast<uint32_t>(queue_.size()),
                        refused_, retries_, fsm_.window_slow()};
}

} // namespace bulwark
