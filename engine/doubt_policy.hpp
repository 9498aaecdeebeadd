#pragma once

/// Settling actions in doubt by looking: what their services' probes read back decides
/// whether a proposal's actions applied. A pure rule: the readings are its inputs.

#include <optional>
#include <string>
#include <vector>

#include "bulwark/engine.hpp"

namespace bulwark {

/// What a probe read of one action's key (`ok` false: it could not read it).
struct probe_reading {
  bool ok = false;
  std::optional<std::string> value; ///< ok: the key's value (none: not set)
  std::string error;                ///< !ok: why
};

/// The judgement of one proposal's actions in doubt.
struct doubt_judgement {
  enum class verdict { applied, not_applied, unresolved } outcome = verdict::unresolved;
  std::string evidence; ///< what the probes read, or why it stays in doubt
};

/// Judges a proposal's actions in doubt from one reading each (in the same order): applied
/// when every resource holds the value its action was to set, not applied when every one
/// holds the journal's value (a key the journal has not set reads as not set); unresolved
/// when a probe failed, a resource holds neither value, or the actions disagree.
doubt_judgement judge_doubt(const std::vector<in_doubt_action>& actions,
                            const std::vector<probe_reading>& readings);

} // namespace bulwark
