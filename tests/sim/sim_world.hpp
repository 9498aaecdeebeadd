#pragma once

/// The simulated world behind the whole-system simulation: effectors that apply changes
/// to an in-memory map and fail or time out when the fault plan says so, a log of every
/// effector call (with the journal head when it was made), and the error rates each
/// series reports (with injected anomalies).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/engine.hpp"

namespace bulwark::sim {

/// One effector call as the world saw it.
struct call_record {
  effect_request req;
  uint64_t head = 0;                 ///< the journal's committed head when the call ran
  bool ok = false;                   ///< what the effector answered
  std::optional<std::string> after;  ///< the world's value of the key after the call
};

/// The world the simulated effectors change.
class sim_world {
public:
  /// `head` reads the journal's committed head (called inside each effector call).
  explicit sim_world(std::function<uint64_t()> head) : head_(std::move(head)) {
  }

  /// The effector of every service.
  effect_result apply(const effect_request& r);

  /// The next `n` calls fail as an outage would (retryable, nothing applied).
  void fail_next(uint32_t n) {
    outages_ += n;
  }
  /// The next `n` calls report a timeout (retryable, nothing applied).
  void time_out_next(uint32_t n) {
    timeouts_ += n;
  }
  /// The next `n` forward calls are refused for good (not retryable, nothing applied).
  void refuse_next(uint32_t n) {
    refusals_ += n;
  }
  /// Clears every pending fault.
  void calm() {
    outages_ = timeouts_ = refusals_ = 0;
  }
  /// Sabotage for the simulator's own test: compensations leave the world unchanged.
  void ignore_restores(bool on) {
    ignore_restores_ = on;
  }

  /// The value the world holds for `resource`/`key`, if any.
  std::optional<std::string> value(const std::string& resource, const std::string& key) const;

  /// A series runs an anomaly until `until_round` (its error rate is `rate`).
  void inject_anomaly(const std::string& service, const std::string& region, double rate,
                      uint64_t until_round) {
    anomalies_[{service, region}] = {rate, until_round};
  }
  /// The error rate a series reports in round `round`: `base`, or its anomaly's rate.
  double error_rate(const std::string& service, const std::string& region, uint64_t round,
                    double base) const;

  const std::vector<call_record>& calls() const noexcept {
    return calls_;
  }

private:
  std::function<uint64_t()> head_;
  std::map<std::string, std::string> values_;
  std::vector<call_record> calls_;
  uint32_t outages_ = 0;
  uint32_t timeouts_ = 0;
  uint32_t refusals_ = 0;
  bool ignore_restores_ = false;
  std::map<std::pair<std::string, std::string>, std::pair<double, uint64_t>> anomalies_;
};

} // namespace bulwark::sim
