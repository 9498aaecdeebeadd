#pragma once

/// The pure core of a service's circuit breaker: closed, open, half-open, and the two
/// forced states, with three trip strategies (consecutive failures, failure rate over a
/// sliding window, slow-call rate). Time arrives as an argument.

#include <cstdint>
#include <string>

#include "caf/error.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "actors/circuit_breaker/ring_queue.hpp"
#include "messages/enums.hpp"

namespace bulwark {

/// Settings of one service's breaker, bulkhead and retries (`[breaker]` and
/// `[breaker.<service>]` in bulwark.toml).
struct breaker_limits {
  uint32_t consecutive_failures = 5;      ///< trip after this many in a row (0: off)
  double failure_rate = 50.0;             ///< trip at this failure % in the window (0: off)
  uint32_t window_calls = 20;             ///< count-based window (when window_time is 0)
  caf::timespan window_time{0};           ///< time-based window when > 0
  uint32_t minimum_calls = 10;            ///< rates count only with this many calls
  double slow_call_rate = 0.0;            ///< trip at this slow % in the window (0: off)
  caf::timespan slow_call_duration = std::chrono::seconds{5};
  caf::timespan cooldown = std::chrono::seconds{30};
  uint32_t half_open_probes = 3;          ///< probes admitted while half-open
  uint32_t max_in_flight = 8;             ///< bulkhead: concurrent calls
  uint32_t max_queue = 64;                ///< bulkhead: calls waiting behind them
  uint32_t attempts = 3;                  ///< retries of retryable failures included
  caf::timespan attempt_timeout = std::chrono::seconds{3}; ///< each attempt answers within
  caf::timespan backoff_base = std::chrono::seconds{2};
  caf::timespan backoff_cap = std::chrono::seconds{30};
};

/// Refuses inconsistent limits, naming the key (prefix + "." + key).
caf::error check_limits(const breaker_limits& x, const std::string& prefix);

/// A state change with its cause and figures (journaled as `breaker_transition`).
struct breaker_change {
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  std::string cause;
  uint32_t failures = 0;
  uint32_t calls = 0;
};

/// The verdict on one call.
struct breaker_admission {
  bool admitted = false;
  caf::timespan retry_after{0};       ///< when refused: time left in the cooldown
  caf::optional<breaker_change> change; ///< open -> half-open on this admission
};

/// One service's breaker.
class breaker_fsm {
public:
  explicit breaker_fsm(breaker_limits limits = {}) : limits_(limits) {
  }

  /// Admits a call or refuses it (open, or half-open with every probe out).
  breaker_admission admit(caf::timestamp now);

  /// Returns an admission that was not used (the call never ran).
  void cancel() noexcept {
    if (state_ == breaker_state::half_open && probes_out_ > 0)
      --probes_out_;
  }

  /// Records the result of an admitted call.
  caf::optional<breaker_change> record(bool ok, caf::timespan duration, caf::timestamp now);

  /// Forces the breaker open or closed (an admin's emergency override).
  caf::optional<breaker_change> force(bool open, caf::timestamp now);

  /// Releases a forced state: back to closed with a fresh window.
  caf::optional<breaker_change> release(caf::timestamp now);

  breaker_state state() const noexcept {
    return state_;
  }
  uint32_t window_calls() const noexcept {
    return static_cast<uint32_t>(window_.size());
  }
  uint32_t window_failures() const noexcept {
    return failures_;
  }
  uint32_t window_slow() const noexcept {
    return slow_;
  }
  uint32_t consecutive() const noexcept {
    return consecutive_;
  }
  const breaker_limits& limits() const noexcept {
    return limits_;
  }

private:
  struct call {
    caf::timestamp at;
    bool ok = false;
    bool slow = false;
  };
  breaker_change move_to(breaker_state to, std::string cause);
  void trim(caf::timestamp now);
  void push(call c);
  void pop();
  caf::optional<std::string> trip_cause() const;

  breaker_limits limits_;
  breaker_state state_ = breaker_state::closed;
  ring_queue<call> window_; ///< allocation-free once it has grown to its largest size
  uint32_t failures_ = 0; ///< calls in `window_` that failed (kept as calls come and go)
  uint32_t slow_ = 0;     ///< calls in `window_` that were slow
  uint32_t consecutive_ = 0;
  caf::timestamp opened_at_;
  uint32_t probes_out_ = 0;
  uint32_t probes_ok_ = 0;
};

} // namespace bulwark
