#pragma once

/// The simulated theme park behind `bulwark demo`: effectors that apply changes to an
/// in-memory world, fail where the scenario says, and count every call.

#include <map>
#include <random>
#include <set>
#include <string>

#include "bulwark/engine.hpp"

namespace bulwark::cli {

/// The world the demo's effectors change.
class demo_world {
public:
  explicit demo_world(uint64_t seed) : rng_(seed) {
  }

  /// The effector for every service: applies, or fails for keys marked failing.
  effect_result apply(const effect_request& r);

  /// Forward calls to `resource`/`key` fail from now on (until `heal`).
  void break_key(const std::string& resource, const std::string& key) {
    failing_.insert(resource + "/" + key);
  }
  /// Every forward call to `service` fails from now on (until `heal`).
  void break_service(const std::string& service) {
    failing_services_.insert(service);
  }
  void heal() {
    failing_.clear();
    failing_services_.clear();
  }
  /// The next `calls` forward calls of `service` answer "timed out" (retryable), as a
  /// controller that does not answer in time.
  void time_out(const std::string& service, uint32_t calls) {
    timeouts_[service] = calls;
  }

  /// Resources whose `key` holds `value` fail a share of their requests (a bad change).
  void poison(const std::string& key, const std::string& value) {
    poisoned_[key] = value;
  }

  /// Registers where each resource lives (for the error rates).
  void place(const std::string& resource, const std::string& service, const std::string& region) {
    where_[resource] = {service, region};
  }

  /// The error rate (service, region) reports now: a little seeded noise, plus 40 % on
  /// the share of its resources that run a poisoned value.
  double error_rate(const std::string& service, const std::string& region);

  /// Returns the value the world holds (empty if unset).
  std::string value(const std::string& resource, const std::string& key) const;

  size_t calls() const noexcept {
    return calls_;
  }
  size_t compensations() const noexcept {
    return compensations_;
  }
  /// Forward calls that changed the world, by the action's idempotency key.
  const std::map<std::string, uint32_t>& applied_by_key() const noexcept {
    return applied_;
  }
  std::mt19937_64& rng() {
    return rng_;
  }

private:
  std::map<std::string, std::string> values_;
  std::set<std::string> failing_;
  std::set<std::string> failing_services_;
  std::map<std::string, std::string> poisoned_;
  std::map<std::string, std::pair<std::string, std::string>> where_;
  std::map<std::string, uint32_t> timeouts_;
  std::map<std::string, uint32_t> applied_;
  size_t calls_ = 0;
  size_t compensations_ = 0;
  std::mt19937_64 rng_;
};

/// The state digest (hex) a replay of the stopped engine's journal in `dir` gives, or ""
/// when the journal cannot be opened or replayed.
std::string replayed_digest(const std::string& dir);

} // namespace bulwark::cli
