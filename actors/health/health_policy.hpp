#pragma once

/// The pure core of the health actor: holds each indicator's recent history, derives its
/// trend and level from its thresholds, the failure modes' levels and the node's
/// degradation level, and returns the early warnings and level changes to journal.
/// An indicator's level rises only on sustained evidence (`sustain_rounds` consecutive
/// rounds at or above the level) and falls at once.
/// Time and readings arrive as arguments; nothing here reads a clock.

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "actors/health/failure_modes.hpp"
#include "messages/enums.hpp"
#include "messages/events.hpp"

namespace bulwark {

/// Settings of the health actor (`[health]` in bulwark.toml).
struct health_settings {
  caf::timespan period = std::chrono::seconds{1};           ///< sampling period
  caf::timespan verify_interval = std::chrono::minutes{10}; ///< full verification period
  caf::timespan rate_window = std::chrono::minutes{1};      ///< window of counter indicators
  size_t history = 10;                                      ///< samples kept per indicator
  std::map<std::string, thresholds> limits;                 ///< by indicator id (overrides)
  size_t sustain_rounds = 3; ///< consecutive rounds at or above a level before it is raised
};

/// Most `health.sustain_rounds` accepted.
inline constexpr size_t max_sustain_rounds = 1000;

/// Checks the settings; an error names the key (`health.<indicator>_warning`, ...).
caf::error check_health(const health_settings& s, const std::string& origin);

/// Returns the thresholds of `def` under `s` (its override, else the default).
thresholds limits_of(const health_settings& s, const indicator_def& def);

/// Direction of an indicator over its history.
enum class trend : uint8_t { falling, steady, rising };

/// Returns "falling", "steady" or "rising".
const char* to_string(trend x) noexcept;

/// Returns the trend of `history` (oldest first): the least-squares slope over the window
/// against 5 % of the larger of the mean's magnitude and `scale`; steady below two samples.
trend trend_of(const std::vector<double>& history, double scale);

/// Returns the level `value` reaches under `t`.
degradation level_of(double value, const thresholds& t);

/// One sample of one indicator (a gauge's value or a counter's running total).
struct reading {
  std::string indicator;
  double sample = 0;
};

/// What the policy knows about one indicator.
struct indicator_state {
  const indicator_def* def = nullptr;
  thresholds limits;
  bool sampled = false;
  double value = 0;
  degradation level = degradation::normal;    ///< the sustained level (rises late, falls at once)
  size_t rounds_warning = 0;  ///< consecutive rounds with the value at or above the warning
  size_t rounds_critical = 0; ///< consecutive rounds with the value at or above the critical
  trend direction = trend::steady;
  std::vector<double> history;                ///< recent values, oldest first
  caf::optional<caf::timestamp> raised_at;    ///< when its level last rose
  std::deque<std::pair<caf::timestamp, double>> totals; ///< counters: samples in the window
};

/// Counts one round measured at `measured` into `st`'s runs and returns its sustained
/// level: the highest level reached in each of the last `rounds` consecutive rounds.
degradation sustained_level(indicator_state& st, degradation measured, size_t rounds);

/// What one observation round produced.
struct health_step {
  std::vector<early_warning> warnings;        ///< levels raised this round (sustained)
  caf::optional<degradation_changed> change;  ///< the node's level changed
};

/// The failure-mode registry with live state.
class health_policy {
public:
  /// Builds the registry under checked settings (see `check_health`).
  explicit health_policy(health_settings s = {});

  /// Takes one round of readings at `now`; unknown indicator ids are ignored. A round
  /// counts for an indicator only if it carries a finite sample of it.
  health_step observe(const std::vector<reading>& readings, caf::timestamp now);

  /// The node's degradation level: the worst mode's.
  degradation level() const noexcept {
    return level_;
  }

  /// The level of failure mode `id` (normal if unknown).
  degradation mode_level(const std::string& id) const;

  /// Every indicator, in registry order.
  const std::vector<indicator_state>& indicators() const noexcept {
    return indicators_;
  }

  /// The indicator `id`, or nullptr.
  const indicator_state* find(const std::string& id) const;

  const health_settings& settings() const noexcept {
    return settings_;
  }

private:
  double value_of(indicator_state& st, double sample, caf::timestamp now);
  std::string modes_at(degradation lvl) const;

  health_settings settings_;
  std::vector<indicator_state> indicators_;
  degradation level_ = degradation::normal;
};

} // namespace bulwark
