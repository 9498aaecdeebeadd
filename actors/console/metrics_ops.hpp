#pragma once

/// The operational figures of `/metrics` beside the journal's: incidents, rollbacks, dead
/// letters, admission refusals, breakers' windows, waiting approvals, verification and
/// backup age. Rendering is pure: the caller gathers the figures and passes the time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/timestamp.hpp"

#include "messages/commands.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// Admission's refusals and shedding, as the node's admission gate counts them.
struct load_figures {
  uint64_t shed = 0;                   ///< refused: the class's queue bound was reached
  uint64_t rate_limited = 0;           ///< refused: the principal's bound was reached
  uint64_t quarantine_refused = 0;     ///< refused: the principal is quarantined
  uint64_t quarantined_principals = 0; ///< principals quarantined now
  uint64_t telemetry_shed = 0;         ///< metric samples shed under load
};

/// Everything `render_ops_metrics` reports besides the journal's state.
struct ops_figures {
  caf::timestamp now;
  caf::timespan approval_timeout{};            ///< a waiting approval's age is measured from it
  std::vector<caf::timestamp> approval_expiries; ///< of the proposals waiting for an approval
  /// The approval window of each (parallel to `approval_expiries`; missing or zero: the
  /// node's `approval_timeout`): a proposal may wait in a shorter window of its own.
  std::vector<caf::timespan> approval_windows;
  std::vector<breaker_status> breakers;
  std::optional<bool> verified_ok;            ///< the last full verification's result
  std::optional<caf::timespan> verified_age;  ///< since the last full verification
  std::optional<caf::timespan> backup_age;    ///< since the last verified backup
  std::optional<load_figures> load;           ///< none: the node has no admission gate
};

/// Renders the operational figures in Prometheus text format (HELP and TYPE for each).
std::string render_ops_metrics(const fleet_state& st, const ops_figures& f);

/// A label value in the text format: backslash, double quote and line feed escaped.
std::string prometheus_label(const std::string& v);

} // namespace bulwark
