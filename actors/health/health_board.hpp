#pragma once

/// The health actor's published view, read by the engine API, the console and the
/// metrics endpoint from any thread. The actor replaces it after every sampling round.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "caf/optional.hpp"
#include "caf/timestamp.hpp"

#include "actors/health/health_policy.hpp"

namespace bulwark {

/// One indicator as published.
struct indicator_report {
  std::string id;
  std::string mode;
  std::string unit;
  bool sampled = false;
  double value = 0;
  thresholds limits;
  degradation level = degradation::normal;
  trend direction = trend::steady;
  std::vector<double> history; ///< oldest first
};

/// One failure mode as published.
struct mode_report {
  std::string id;
  std::string name;
  std::string mitigation;
  std::string action;
  degradation level = degradation::normal;
};

/// One early warning as published (`active`: its indicator is still above the threshold).
struct warning_report {
  early_warning warning;
  caf::timestamp at;
  bool active = true;
};

/// Everything the health actor publishes.
struct health_snapshot {
  degradation level = degradation::normal;
  uint64_t rounds = 0; ///< sampling rounds so far
  std::vector<mode_report> modes;
  std::vector<indicator_report> indicators;
  std::vector<warning_report> warnings; ///< newest last, bounded
};

/// Builds the published view of `p`, carrying `previous` warnings plus `raised` ones
/// (at most `keep` warnings kept, the oldest inactive dropped first).
health_snapshot make_snapshot(const health_policy& p, const health_snapshot& previous,
                              const std::vector<early_warning>& raised, caf::timestamp now,
                              size_t keep = 100);

/// The shared board: the latest snapshot, the last full verification and a quick level.
class health_board {
public:
  /// Replaces the snapshot.
  void publish(health_snapshot s);

  /// Returns a copy of the snapshot.
  health_snapshot get() const;

  /// The node's degradation level (lock-free, for admission paths).
  degradation level() const noexcept {
    return static_cast<degradation>(level_.load(std::memory_order_acquire));
  }

  /// The JOURNAL-SPACE mode is critical: new proposals are refused.
  bool space_critical() const noexcept {
    return space_critical_.load(std::memory_order_acquire);
  }

  /// Records a full verification's result (it outlives restarts of the health actor).
  void verified(caf::timestamp at, bool ok, uint64_t first_bad);

  /// When the last full verification ran, if ever; `ok` and `first_bad` its result.
  caf::optional<caf::timestamp> last_verified(bool& ok, uint64_t& first_bad) const;

private:
  mutable std::mutex mtx_;
  health_snapshot snap_;
  caf::optional<caf::timestamp> verified_at_;
  bool verified_ok_ = true;
  uint64_t first_bad_ = 0;
  std::atomic<uint8_t> level_{0};
  std::atomic<bool> space_critical_{false};
};

} // namespace bulwark
