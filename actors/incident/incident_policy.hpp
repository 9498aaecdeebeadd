#pragma once

/// The incident policies, pure: which policy a (service, region) falls under (the
/// correlation rules), what a policy decides for a candidate (PROMOTE, DEFER or SUPPRESS,
/// severity, rollback level), and the ids of candidates, decisions, incidents and
/// rollbacks (SHA-256 of their inputs, so a replayed candidate yields the same ids).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "actors/incident/detector_policy.hpp"
#include "actors/incident/rca_policy.hpp"
#include "messages/enums.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// A severity by error rate: the first rule whose minimum the rate reaches wins.
struct severity_rule {
  double min_error_rate = 0;
  severity level = severity::p3;
};

/// One named policy (`[[incident.policy]]`).
struct incident_policy_def {
  std::string id = "default";
  policy_verdict verdict = policy_verdict::promote;
  severity level = severity::p2;       ///< when no rule matches
  std::vector<severity_rule> rules;    ///< checked in order
  authority_level rollback_level = authority_level::assist;
};

/// Maps a (service, region) to a policy id; "*" matches anything (`[[incident.correlation]]`).
struct correlation_rule {
  std::string service = "*";
  std::string region = "*";
  std::string policy;
};

template <class T>
class live_settings; // supervision/live_settings.hpp

/// Everything the incident actors are configured with.
struct incident_settings {
  detector_settings detector;
  rca_settings rca;
  std::vector<incident_policy_def> policies; ///< empty: one built-in "default" policy
  std::vector<correlation_rule> correlation; ///< first match wins; none: "default"
  /// How long the detector keeps samples for the analysis of level-3 observation
  /// windows (the engine sets it from the window; not a configuration key).
  caf::timespan signal_retention = std::chrono::minutes{10};
  /// Days the attempts store keeps an orchestration attempt (`attempt_retention_days`).
  uint32_t attempt_retention_days = 90;
  /// The orchestrator's newest settings after a policy reload (none: these stay).
  std::shared_ptr<live_settings<incident_settings>> live{};
};

/// Why a candidate was raised, as its decision's reason reads: the error rate over its
/// threshold, or the raiser's own words (a latency anomaly), with the series.
std::string candidate_reason(const candidate_raised& c);

/// The built-in default: PROMOTE; P0 at 50 % errors, P1 at 25 %, else P2; rollback at level 1.
incident_policy_def default_policy();

/// Returns the policy id for a series (the correlation rules, else "default").
std::string policy_for(const incident_settings& s, const std::string& service,
                       const std::string& region);

/// What a policy decided.
struct policy_outcome {
  policy_verdict verdict = policy_verdict::defer;
  severity level = severity::p3;
  authority_level rollback_level = authority_level::assist;
};

/// Applies the policy the candidate names; an unknown policy id is `INVALID_INPUT`.
caf::expected<policy_outcome> decide(const incident_settings& s, const candidate_raised& c);

/// Checks the settings (thresholds, windows, policy references); names the key.
caf::error check_incident_settings(const incident_settings& s, const std::string& origin);

/// Builds the candidate of an anomaly and its ranking (ids derived from the inputs).
candidate_raised make_candidate(const anomaly& a, const rca_result& r, std::string policy);

/// Ids: SHA-256 over a tag and the canonical encoding of the inputs.
digest candidate_id(const std::string& service, const std::string& region,
                    caf::timestamp onset, const std::vector<seq_no>& culprits);
digest decision_id(const digest& candidate, const std::string& policy, policy_verdict v,
                   const principal_id& by, bool manual);
digest incident_id(const digest& decision);
digest rollback_id(const digest& incident, const std::vector<seq_no>& reverts);

/// Parts per million of a rate in [0, 1] (journal payloads carry no floating point).
uint32_t to_ppm(double rate) noexcept;

} // namespace bulwark
