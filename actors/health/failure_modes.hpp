#pragma once

/// The failure-mode registry: every named failure mode Bulwark watches for, with its
/// indicators, their default warning and critical thresholds, a documented mitigation
/// and the recommended action an early warning carries.

#include <cstdint>
#include <string>
#include <vector>

namespace bulwark {

/// Thresholds of one indicator; higher values are worse and `warning <= critical`.
struct thresholds {
  double warning = 0;
  double critical = 0;
};

/// How an indicator's samples are read.
enum class indicator_kind : uint8_t {
  gauge,   ///< the sample is the value (a percentage, a depth, an age)
  counter, ///< the sample is a running total; the value is its growth in the rate window
};

/// One health indicator of a failure mode.
struct indicator_def {
  std::string id;          ///< e.g. "journal_space_pct"; config keys are `<id>_warning`
  std::string mode;        ///< the failure mode it belongs to, e.g. "JOURNAL-SPACE"
  indicator_kind kind = indicator_kind::gauge;
  std::string unit;        ///< what the value counts, for people
  thresholds limits;       ///< the defaults
};

/// One named failure mode.
struct failure_mode_def {
  std::string id;         ///< e.g. "VAL-4"
  std::string name;       ///< e.g. "restart storm"
  std::string mitigation; ///< what Bulwark itself does about it
  std::string action;     ///< what an operator should do (carried by early warnings)
};

/// Returns every failure mode, in registry order.
const std::vector<failure_mode_def>& failure_modes();

/// Returns every indicator with its default thresholds, in registry order.
const std::vector<indicator_def>& indicator_defs();

/// Returns the failure mode `id`, or nullptr.
const failure_mode_def* find_mode(const std::string& id);

} // namespace bulwark
