#pragma once

/// What one service's fast path and its breaker actor share: the gate, the service's own
/// effector threads (the bulkhead) and the actor clock. It outlives restarts of the
/// breaker actor, so a restarted breaker finds its gate (state, calls in flight) again.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "caf/actor_addr.hpp"
#include "caf/fwd.hpp"

#include "actors/circuit_breaker/breaker_gate.hpp"
#include "actors/circuit_breaker/slot_arena.hpp"

namespace bulwark {

/// Settings of one service's runtime.
struct breaker_runtime_args {
  std::string service;
  breaker_limits limits;
  uint64_t seed = 0;                               ///< jitter source
  size_t threads = 0;                              ///< pool threads (0: run inline)
  std::shared_ptr<effector_registry> effectors;
  std::shared_ptr<breaker_directory> directory;
  caf::timestamp epoch;                            ///< the journal time of `clock.now()` at start
};

/// One service's gate, pool and timers.
class breaker_runtime {
public:
  breaker_runtime(caf::actor_clock& clock, breaker_runtime_args args);
  ~breaker_runtime();
  breaker_runtime(const breaker_runtime&) = delete;
  breaker_runtime& operator=(const breaker_runtime&) = delete;

  /// Runs one effector call from any thread: admission, bulkhead, then the pool, or for a
  /// non-blocking effector the calling thread itself (`effector_entry::inline_now`); the
  /// answer goes to `to` straight from the thread that has it.
  void execute(effector_request&& req, reply_to&& to);

  /// The breaker actor's turn: timeouts and retries that came due; returns the
  /// transitions to journal.
  std::vector<gate_transition> wake();

  /// Makes `breaker` the actor that gets wake-ups (and forgets the timers of the one
  /// before it).
  void bind(caf::actor_addr breaker);

  /// Forces (or releases, `open` none) and returns the transitions to journal.
  std::vector<gate_transition> override_state(caf::optional<bool> open, const std::string& by);

  /// Returns state and figures.
  breaker_status status() const {
    return gate_.status();
  }

  /// Returns the service's name.
  const std::string& service() const noexcept {
    return service_;
  }

  /// Returns the current time on both time lines.
  gate_time now() const;

private:
  /// An attempt handed to the pool, waiting for its thread.
  struct pending {
    gate_dispatch d;
    const effector_fn* fn = nullptr; ///< null: the service has no effector
  };

  void perform(gate_effects& fx);
  void start(gate_dispatch& d);
  void run_attempt(uint64_t slot, bool here); ///< here: on the admitting thread
  void refresh_effector();

  caf::actor_clock& clock_;
  caf::actor_clock::time_point start_;
  caf::timestamp epoch_;
  std::string service_;
  std::shared_ptr<effector_registry> effectors_;
  breaker_gate gate_;
  // The pool's jobs carry only a slot here, small enough for std::function to hold
  // without allocating; the slot holds the attempt and the effector it runs.
  std::mutex calls_mtx_;
  slot_arena<pending> calls_;
  uint64_t effector_version_ = UINT64_MAX; ///< the registry's version `effector_` is from
  std::shared_ptr<const effector_entry> effector_;
  // Effectors replaced in the registry stay alive here: an attempt already handed to the
  // pool may still call one.
  std::vector<std::shared_ptr<const effector_entry>> retired_;
  mutable std::mutex bind_mtx_;
  caf::actor_addr breaker_;
  std::unique_ptr<effector_pool> pool_; ///< last member: joined before the rest goes
};

} // namespace bulwark
