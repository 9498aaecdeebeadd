#pragma once

/// Effectors: the host's functions that apply one service's mutations to the world, and
/// the worker threads that run them off the actors' threads.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "actors/circuit_breaker/ring_queue.hpp"
#include "messages/commands.hpp"

namespace bulwark {

/// One call of an effector.
struct effector_call {
  std::string service;
  mutation change;                    ///< the change to apply (value = the new value)
  bool compensation = false;          ///< true when undoing an earlier change
  std::optional<std::string> restore; ///< for compensation: the value to restore (none: remove)
  std::string idempotency_key;        ///< the same on every attempt of one action
  std::chrono::nanoseconds timeout{}; ///< the call must answer within this
  bool inline_call = false;           ///< runs on the thread that admitted it, not the pool
};

/// A host function applying changes of one service.
using effector_fn = std::function<effector_result(const effector_call&)>;

/// One service's effector as the registry holds it.
struct effector_entry {
  effector_fn fn;
  /// For a non-blocking effector: whether a call may run now on the thread that admits it
  /// (false while something makes the effector slow, as a chaos delay does). Empty for a
  /// blocking one: every call runs on the service's pool.
  std::function<bool()> inline_now;
};

/// The effectors registered by the host, by service. Thread-safe.
class effector_registry {
public:
  /// Registers (or replaces) the effector of `service`; `inline_now` as in
  /// `effector_entry` (empty: a blocking effector).
  void add(const std::string& service, effector_fn fn, std::function<bool()> inline_now = {});

  /// Returns the effector of `service`, or an empty function.
  effector_fn find(const std::string& service) const;

  /// Returns the effector of `service` as the registry holds it (null if none): a caller
  /// that keeps it calls it without copying the function or asking again.
  std::shared_ptr<const effector_entry> find_shared(const std::string& service) const;

  /// Returns a number that changes whenever an effector is added or replaced: a cached
  /// `find_shared` is current while this stays the same.
  uint64_t version() const noexcept {
    return version_.load(std::memory_order_acquire);
  }

  /// Returns true if `service` has an effector.
  bool has(const std::string& service) const;

private:
  mutable std::mutex mtx_;
  std::map<std::string, std::shared_ptr<const effector_entry>> fns_;
  std::atomic<uint64_t> version_{0};
};

/// Runs jobs on a fixed set of threads; with zero threads, runs them inline (tests and
/// the virtual-clock demo, where determinism matters more than isolation).
class effector_pool {
public:
  explicit effector_pool(size_t threads);
  ~effector_pool();
  effector_pool(const effector_pool&) = delete;
  effector_pool& operator=(const effector_pool&) = delete;

  /// Runs `job` on a worker (or now, inline).
  void run(std::function<void()> job);

  /// Runs the jobs queued so far (also those they queue while the workers are still up)
  /// and joins the workers; later jobs are dropped. Idempotent.
  void stop();

private:
  void work();
  std::mutex mtx_;
  std::condition_variable cv_;
  ring_queue<std::function<void()>> jobs_;
  bool stopping_ = false;
  bool joined_ = false;
  std::vector<std::thread> workers_;
};

} // namespace bulwark

#include "caf/timestamp.hpp"

#include "messages/interfaces.hpp"

namespace bulwark {

/// Where the pipeline finds each service's breaker and its state without a message
/// round trip (admission refuses an open circuit before anything is journaled to run).
class breaker_directory {
public:
  struct entry {
    breaker_actor handle;
    breaker_state state = breaker_state::closed;
    caf::timestamp open_until; ///< for open: when the cooldown ends
  };

  void put(const std::string& service, breaker_actor handle);
  void update(const std::string& service, breaker_state state, caf::timestamp open_until);
  bool find(const std::string& service, entry& out) const;
  std::vector<std::string> services() const;
  void clear();

private:
  mutable std::mutex mtx_;
  std::map<std::string, entry> entries_;
};

} // namespace bulwark
