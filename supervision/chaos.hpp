#pragma once

/// Chaos hooks: one fault-injection interface, compiled in and off by default. Enabled by
/// configuration (`[chaos] enabled`) or by a test; the console may use it only when
/// `[chaos] console` also allows it. Faults: fail or delay a service's effector calls,
/// fail journal writes, kill a named supervised actor (its supervisor restarts it), and
/// delay messages (submissions to the pipeline).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "caf/error.hpp"

namespace bulwark {

/// Settings of the chaos hooks (`[chaos]` in bulwark.toml).
struct chaos_settings {
  bool enabled = false; ///< any hook at all
  bool console = false; ///< the console's admins may use them (needs `enabled`)
};

/// What an effector call should suffer, decided before the call.
struct effector_fault {
  bool fail = false;                  ///< fail the call (retryable: like an outage)
  std::chrono::milliseconds delay{0}; ///< sleep this long before the call
};

/// The fault-injection interface (thread-safe).
class chaos_hooks {
public:
  explicit chaos_hooks(chaos_settings s = {}) : settings_(s), on_(s.enabled) {
  }

  /// Whether the hooks are enabled.
  bool enabled() const;

  /// Whether the console may use them.
  bool console_allowed() const;

  /// Enables or disables the hooks (tests and drills); disabling clears every fault.
  void enable(bool on);

  /// Makes the next `calls` effector calls of `service` fail (0 clears).
  caf::error fail_effector(const std::string& service, uint32_t calls);

  /// Delays every effector call of `service` by `d` (0 clears).
  caf::error delay_effector(const std::string& service, std::chrono::milliseconds d);

  /// Makes every journal write fail (true) or work again (false).
  caf::error fail_journal(bool on);

  /// Kills the supervised actor `name`: one exposed under that name, or `breaker:<service>`
  /// through the killer given to `bind`. INVALID_INPUT lists the names for an unknown one.
  caf::error kill(const std::string& name);

  /// Makes the supervised actor `name` reachable by `kill`: `killer` kills it (or says why
  /// not). The engine exposes its actors; a node exposes its front doors (console, HTTP).
  void expose(const std::string& name, std::function<caf::error()> killer);

  /// The names `kill` reaches, sorted (`breaker:<service>` not included).
  std::vector<std::string> targets() const;

  /// Delays every proposal submitted from now on by `d` before the pipeline sees it.
  caf::error delay_submissions(std::chrono::milliseconds d);

  /// The delay for submissions (0 when off or disabled).
  std::chrono::milliseconds submission_delay() const;

  /// Whether the effector calls of `service` are delayed now (a delay set, hooks enabled).
  bool delays(const std::string& service) const;

  /// Consumes the fault for one effector call of `service` (none when disabled).
  effector_fault before_effector(const std::string& service);

  /// Runs one console chaos command (`fail-effector`, `delay-effector`, `fail-journal`,
  /// `kill`, `delay-messages`, `off`); refused unless the console is allowed.
  caf::error console_command(const std::string& what, const std::string& target,
                             uint64_t amount);

  /// Connects the hooks to the engine: how to kill a breaker (`breaker:<service>`) and to
  /// fail journal writes.
  void bind(std::function<caf::error(const std::string&)> breaker_killer,
            std::function<void(bool)> journal_failer);

private:
  caf::error check_enabled() const;

  mutable std::mutex mtx_;
  chaos_settings settings_;
  std::map<std::string, uint32_t> failing_;
  std::map<std::string, std::chrono::milliseconds> delays_;
  std::chrono::milliseconds submission_delay_{0};
  std::function<caf::error(const std::string&)> killer_;
  std::map<std::string, std::function<caf::error()>> exposed_;
  std::function<void(bool)> journal_failer_;
  /// Whether the hooks are enabled (`settings_.enabled` only gives its start): read
  /// without the lock first on every effector call and submission, so that while the
  /// hooks are off (as in production) those take no lock. Changed under the lock.
  std::atomic<bool> on_;
};

} // namespace bulwark
