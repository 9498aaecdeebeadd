#include "actors/circuit_breaker/breaker_fsm.hpp"

#include <algorithm>

#include "messages/error.hpp"

namespace bulwark {

caf::error check_limits(const breaker_limits& x, const std::string& prefix) {
  auto bad = [&](const char* key, const char* problem) {
    return refuse(ec::invalid_input, prefix + "." + key + ": " + problem);
  };
  if (x.failure_rate < 0 || x.failure_rate > 100)
    return bad("failure_rate", "must be within 0-100 %");
  if (x.slow_call_rate < 0 || x.slow_call_rate > 100)
    return bad("slow_call_rate", "must be within 0-100 %");
  if (x.window_time.count() == 0 && x.window_calls < x.minimum_calls)
    return bad("window_calls", "must not be smaller than minimum_calls");
  if (x.half_open_probes == 0)
    return bad("half_open_probes", "must be at least 1");
  if (x.cooldown.count() <= 0)
    return bad("cooldown_ms", "must be greater than zero");
  if (x.max_in_flight == 0)
    return bad("max_in_flight", "must be at least 1");
  if (x.attempts == 0)
    return bad("attempts", "must be at least 1");
  if (x.backoff_base.count() <= 0 || x.backoff_cap < x.backoff_base)
    return bad("backoff_cap_ms", "must be at least backoff_base_ms, both above zero");
  if (x.attempt_timeout.count() <= 0)
    return bad("attempt_timeout_ms", "must be greater than zero");
  if (x.slow_call_duration.count() <= 0)
    return bad("slow_call_ms", "must be greater than zero");
  return {};
}

void breaker_fsm::push(call c) {
  failures_ += c.ok ? 0 : 1;
  slow_ += c.slow ? 1 : 0;
  window_.push_back(c);
}

void breaker_fsm::pop() {
  auto& c = window_.front();
  failures_ -= c.ok ? 0 : 1;
  slow_ -= c.slow ? 1 : 0;
  window_.pop_front();
}

breaker_change breaker_fsm::move_to(breaker_state to, std::string cause) {
  breaker_change c{state_, to, std::move(cause), window_failures(), window_calls()};
  state_ = to;
  probes_out_ = 0;
  probes_ok_ = 0;
  if (to == breaker_state::closed || to == breaker_state::forced_closed) {
    window_.clear();
    failures_ = 0;
    slow_ = 0;
    consecutive_ = 0;
  }
  return c;
}

void breaker_fsm::trim(caf::timestamp now) {
  if (limits_.window_time.count() > 0) {
    while (!window_.empty() && window_.front().at + limits_.window_time <= now)
      pop();
  } else {
    while (window_.size() > limits_.window_calls)
      pop();
  }
}

caf::optional<std::string> breaker_fsm::trip_cause() const {
  if (limits_.consecutive_failures > 0 && consecutive_ >= limits_.consecutive_failures)
    return std::to_string(consecutive_) + " consecutive failures";
  auto calls = window_.size();
  if (calls == 0 || calls < limits_.minimum_calls)
    return caf::none;
  if (failures_ == 0 && slow_ == 0)
    return caf::none; // no rate to trip on (both thresholds are above 0 when on)
  auto failures = failures_;
  auto failure_pct = 100.0 * failures / calls;
  if (limits_.failure_rate > 0 && failure_pct >= limits_.failure_rate)
    return "failure rate " + std::to_string(static_cast<int>(failure_pct)) + "% of "
           + std::to_string(calls) + " calls";
  auto slow_pct = 100.0 * slow_ / calls;
  if (limits_.slow_call_rate > 0 && slow_pct >= limits_.slow_call_rate)
    return "slow-call rate " + std::to_string(static_cast<int>(slow_pct)) + "% of "
           + std::to_string(calls) + " calls";
  return caf::none;
}

breaker_admission breaker_fsm::admit(caf::timestamp now) {
  breaker_admission out;
  switch (state_) {
    case breaker_state::closed:
    case breaker_state::forced_closed:
      out.admitted = true;
      return out;
    case breaker_state::forced_open:
      out.retry_after = limits_.cooldown;
      return out;
    case breaker_state::open:
      if (now < opened_at_ + limits_.cooldown) {
        out.retry_after = opened_at_ + limits_.cooldown - now;
        return out;
      }
      out.change = move_to(breaker_state::half_open, "cooldown over");
      [[fallthrough]];
    case breaker_state::half_open:
      if (probes_out_ + probes_ok_ >= limits_.half_open_probes) {
        out.retry_after = std::chrono::milliseconds{100};
        return out;
      }
      ++probes_out_;
      out.admitted = true;
      return out;
  }
  return out;
}

caf::optional<breaker_change> breaker_fsm::record(bool ok, caf::timespan duration,
                                                  caf::timestamp now) {
  bool slow = duration >= limits_.slow_call_duration;
  switch (state_) {
    case breaker_state::forced_open:
    case breaker_state::forced_closed:
      return caf::none; // overrides ignore results
    case breaker_state::open:
      return caf::none; // a late result of a call admitted before the trip
    case breaker_state::half_open: {
      if (probes_out_ > 0)
        --probes_out_;
      if (!ok || slow) {
        opened_at_ = now;
        return move_to(breaker_state::open, ok ? "slow probe" : "probe failed");
      }
      if (++probes_ok_ >= limits_.half_open_probes)
        return move_to(breaker_state::closed, std::to_string(probes_ok_) + " probes succeeded");
      return caf::none;
    }
    case breaker_state::closed:
      break;
  }
  push(call{now, ok, slow});
  consecutive_ = ok ? 0 : consecutive_ + 1;
  trim(now);
  if (auto cause = trip_cause()) {
    opened_at_ = now;
    return move_to(breaker_state::open, *cause);
  }
  return caf::none;
}

caf::optional<breaker_change> breaker_fsm::force(bool open, caf::timestamp) {
  auto to = open ? breaker_state::forced_open : breaker_state::forced_closed;
  if (state_ == to)
    return caf::none;
  return move_to(to, open ? "forced open by an admin" : "forced closed by an admin");
}

caf::optional<breaker_change> breaker_fsm::release(caf::timestamp) {
  if (state_ != breaker_state::forced_open && state_ != breaker_state::forced_closed)
    return caf::none;
  return move_to(breaker_state::closed, "override released by an admin");
}

} // namespace bulwark
