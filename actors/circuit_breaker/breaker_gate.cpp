#include "actors/circuit_breaker/breaker_gate.hpp"

#include <algorithm>

#include "messages/error.hpp"

namespace bulwark {

namespace {

bool retryable(ec code) {
  return code == ec::timeout || code == ec::unavailable;
}

/// A refusal as the requester sees it: the error its `request(...).then` error handler gets.
gate_answer refusal(reply_to to, ec code, std::string what,
                    caf::timespan retry_after) {
  return gate_answer{std::move(to), {}, refuse(code, std::move(what), {}, retry_after)};
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
  : service_(std::move(service)), fsm_(limits), directory_(std::move(directory)), rng_(seed) {
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
  for (auto& [token, j] : jobs_) {
    if (j.running)
      next = std::min(next, j.ends);
    if (j.waiting_retry)
      next = std::min(next, j.retry_at);
  }
  if (next != caf::actor_clock::time_point::max())
    arm(next, fx);
}

void breaker_gate::dispatch(uint64_t token, const gate_time& now, gate_effects& fx) {
  auto& j = jobs_.at(token);
  ++in_flight_;
  auto attempt = ++j.attempt;
  j.running = true;
  j.started = now.tick;
  gate_dispatch d;
  d.token = token;
  d.attempt = attempt;
  d.call.service = j.req.service;
  d.call.change = j.req.change;
  d.call.compensation = j.req.compensation;
  if (j.req.restore)
    d.call.restore = *j.req.restore;
  d.call.idempotency_key = j.req.idempotency_key;
  // The timeout hierarchy: an attempt ends before the call's deadline.
  d.call.timeout = std::min<caf::timespan>(fsm_.limits().attempt_timeout, j.req.deadline - now.at);
  j.ends = now.tick + d.call.timeout;
  arm(j.ends, fx);
  fx.dispatches.push_back(std::move(d));
}

void breaker_gate::drain(const gate_time& now, gate_effects& fx) {
  while (!queue_.empty() && in_flight_ < fsm_.limits().max_in_flight) {
    auto token = queue_.front();
    queue_.pop_front();
    dispatch(token, now, fx);
  }
}

void breaker_gate::execute(effector_request req, reply_to to, const gate_time& now,
                           gate_effects& fx) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto admission = fsm_.admit(now.at);
  announce(admission.change, now, fx);
  if (!admission.admitted) {
    ++refused_;
    fx.answers.push_back(refusal(std::move(to), ec::circuit_open,
                                 "circuit open for service " + service_, admission.retry_after));
    return;
  }
  auto& lim = fsm_.limits();
  if (in_flight_ >= lim.max_in_flight && queue_.size() >= lim.max_queue) {
    ++refused_;
    fsm_.cancel(); // the call never ran
    fx.answers.push_back(refusal(std::move(to), ec::overloaded,
                                 "bulkhead of service " + service_ + " is full",
                                 std::chrono::milliseconds{100}));
    return;
  }
  auto token = next_token_++;
  auto& j = jobs_[token];
  j.req = std::move(req);
  j.to = std::move(to);
  queue_.push_back(token);
  drain(now, fx);
}

void breaker_gate::settle(job_map::iterator i, effector_result r, const gate_time& now,
                          gate_effects& fx) {
  auto& j = i->second;
  j.running = false;
  announce(fsm_.record(r.ok, now.tick - j.started, now.at), now, fx);
  if (!r.ok && retryable(r.code) && j.attempt < fsm_.limits().attempts) {
    auto wait = backoff(fsm_.limits(), j.attempt, rng_);
    if (now.at + wait < j.req.deadline) {
      ++retries_;
      j.waiting_retry = true;
      j.retry_at = now.tick + wait;
      arm(j.retry_at, fx);
      return;
    }
  }
  fx.answers.push_back(gate_answer{std::move(j.to), std::move(r), {}});
  jobs_.erase(i);
}

void breaker_gate::finish(uint64_t token, uint32_t attempt, effector_result r,
                          const gate_time& now, gate_effects& fx) {
  std::lock_guard<std::mutex> guard{mtx_};
  --in_flight_; // the thread is free again, whatever the call's fate
  auto i = jobs_.find(token);
  if (i != jobs_.end() && i->second.running && i->second.attempt == attempt)
    settle(i, std::move(r), now, fx);
  drain(now, fx);
}

void breaker_gate::retry(job_map::iterator i, const gate_time& now, gate_effects& fx) {
  i->second.waiting_retry = false;
  auto admission = fsm_.admit(now.at);
  announce(admission.change, now, fx);
  if (!admission.admitted) {
    ++refused_;
    fx.answers.push_back(gate_answer{std::move(i->second.to),
                                     effector_result{false, ec::circuit_open,
                                                     "circuit opened before the retry",
                                                     caf::none},
                                     {}});
    jobs_.erase(i);
    return;
  }
  queue_.push_back(i->first);
}

void breaker_gate::wake(const gate_time& now, gate_effects& fx) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (armed_ <= now.tick)
    armed_ = caf::actor_clock::time_point::max();
  for (auto i = jobs_.begin(); i != jobs_.end();) {
    auto next = std::next(i);
    auto& j = i->second;
    if (j.running && j.ends <= now.tick)
      settle(i, effector_result{false, ec::timeout,
                                "the effector did not answer within its attempt timeout",
                                caf::none},
             now, fx);
    else if (j.waiting_retry && j.retry_at <= now.tick)
      retry(i, now, fx);
    i = next;
  }
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
                        refused_, retries_};
}

} // namespace bulwark
