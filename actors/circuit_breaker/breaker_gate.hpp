#pragma once

/// The thread-safe hot path of one service's breaker: the FSM, the bulkhead (calls in
/// flight and a bounded queue) and every call's attempts behind one mutex. Callers consult
/// it synchronously; it never reads the clock (time comes in as an argument) and never
/// sends: each step returns the effects (answers, effector runs, a wake-up) for the
/// caller to carry out after the lock is released.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/error.hpp"
#include "caf/optional.hpp"
#include "caf/actor_control_block.hpp"
#include "caf/message.hpp"
#include "caf/message_id.hpp"
#include "caf/timestamp.hpp"

#include "actors/circuit_breaker/breaker_fsm.hpp"
#include "actors/circuit_breaker/effectors.hpp"
#include "actors/circuit_breaker/ring_queue.hpp"
#include "actors/circuit_breaker/slot_arena.hpp"
#include "messages/commands.hpp"
#include "around_caf/reply_to.hpp"

namespace bulwark {

/// A moment on the actor clock (real or virtual) and the same moment on the journal's
/// time line.
struct gate_time {
  caf::actor_clock::time_point tick; ///< for durations and timers
  caf::timestamp at;                 ///< for the FSM's window, deadlines and events
};

/// One attempt to hand to the service's pool.
struct gate_dispatch {
  uint64_t token = 0;
  uint32_t attempt = 0;
  effector_call call;
};

/// An answer for a requester.
struct gate_answer {
  reply_to to;
  effector_result result;
  caf::error refusal; ///< when set, delivered instead of `result` (CIRCUIT_OPEN, OVERLOADED)
};

/// A list holding its first element inline: most gate steps yield at most one answer and
/// one dispatch, and the hot path should not allocate for them.
template <class T>
class gate_list {
public:
  /// Appends `x`.
  void push_back(T x) {
    if (!first_)
      first_.emplace(std::move(x));
    else
      rest_.push_back(std::move(x));
  }

  /// Appends a default `T` and returns it, to be filled in place.
  T& emplace_back() {
    if (!first_)
      return first_.emplace();
    return rest_.emplace_back();
  }

  /// Calls `f` on each element, in order.
  template <class F>
  void each(F f) {
    if (!first_)
      return;
    f(*first_);
    for (auto& x : rest_)
      f(x);
  }

  /// Returns the number of elements.
  size_t size() const noexcept {
    return first_ ? 1 + rest_.size() : 0;
  }

private:
  std::optional<T> first_;
  std::vector<T> rest_;
};

/// What a gate step asks its caller to do once the lock is released.
struct gate_effects {
  gate_list<gate_answer> answers;
  gate_list<gate_dispatch> dispatches;
  caf::optional<caf::actor_clock::time_point> wake_at; ///< arm the breaker's timer
  bool nudge = false; ///< transitions wait to be journaled
};

/// A transition waiting to be journaled, with its time.
struct gate_transition {
  caf::timestamp at;
  breaker_change change;
};

/// The gate of one service.
class breaker_gate {
public:
  /// @param directory receives every state change (the pipeline's fast CIRCUIT_OPEN).
  breaker_gate(std::string service, breaker_limits limits, uint64_t seed,
               std::shared_ptr<breaker_directory> directory);

  /// Admits a call (or refuses it at once: CIRCUIT_OPEN, OVERLOADED) and starts it when
  /// the bulkhead has room.
  void execute(effector_request&& req, reply_to&& to, const gate_time& now,
               gate_effects& fx);

  /// Takes the result of attempt `attempt` of call `token`; the first answer wins, a
  /// late one only frees its bulkhead slot.
  void finish(uint64_t token, uint32_t attempt, effector_result r, const gate_time& now,
              gate_effects& fx);

  /// Handles what came due (attempt timeouts, retries after their backoff).
  void wake(const gate_time& now, gate_effects& fx);

  /// Forgets the armed timer, so the next wake re-arms it (a restarted breaker actor
  /// lost its predecessor's timers).
  void rearm() noexcept;

  /// Forces the breaker open or closed, or releases a force (`open` none).
  void override_state(caf::optional<bool> open, const std::string& by, const gate_time& now,
                      gate_effects& fx);

  /// Takes the transitions not journaled yet.
  std::vector<gate_transition> take_transitions();

  /// Returns state and figures.
  breaker_status status() const;

  /// Returns the service's limits.
  const breaker_limits& limits() const noexcept {
    return fsm_.limits();
  }

private:
  // A result reads the fields before `req` (their first cache line or two), never the
  // request's strings: those stay on the requester's core.
  struct job {
    uint32_t attempt = 0;       ///< attempts dispatched so far
    bool running = false;       ///< an attempt is out (its answer not yet taken)
    bool waiting_retry = false; ///< between attempts, in its backoff
    caf::actor_clock::time_point started;
    caf::actor_clock::time_point ends;     ///< the running attempt's timeout
    caf::actor_clock::time_point retry_at; ///< when `waiting_retry`
    caf::timestamp deadline;               ///< the request's
    reply_to to;
    effector_request req;
  };

  void announce(const caf::optional<breaker_change>& change, const gate_time& now,
                gate_effects& fx);
  void dispatch(uint64_t token, job& j, const gate_time& now, gate_effects& fx);
  void drain(const gate_time& now, gate_effects& fx);
  void settle(uint64_t token, job& j, effector_result r, const gate_time& now, gate_effects& fx);
  void retry(uint64_t token, job& j, const gate_time& now, gate_effects& fx);
  void arm(caf::actor_clock::time_point t, gate_effects& fx);
  void arm_next(gate_effects& fx);

  // What every call touches comes first, next to the lock.
  mutable std::mutex mtx_;
  uint32_t in_flight_ = 0; ///< attempts on the pool's threads, late ones included
  caf::actor_clock::time_point armed_ = caf::actor_clock::time_point::max(); ///< max: none
  breaker_fsm fsm_;
  slot_arena<job> jobs_;       ///< tokens name jobs; a finished job's token finds nothing
  ring_queue<uint64_t> queue_; ///< tokens waiting for room in the bulkhead
  uint64_t refused_ = 0;
  uint64_t retries_ = 0;
  std::string service_;
  std::string open_what_; ///< the CIRCUIT_OPEN refusal's text
  std::string full_what_; ///< the OVERLOADED refusal's text
  std::shared_ptr<breaker_directory> directory_;
  std::vector<gate_transition> outbox_;
  std::mt19937_64 rng_; ///< last: 2.5 KB that only retries touch
};

/// Returns the backoff before retry `attempt` (1-based): base * 2^(attempt-1), capped,
/// times a jitter factor in [0.5, 1) drawn from `rng`.
caf::timespan backoff(const breaker_limits& limits, uint32_t attempt, std::mt19937_64& rng);

} // namespace bulwark
