#pragma once

/// The recovery vocabulary: candidates, policy decisions, incidents and rollbacks, as
/// journal payloads (event types 19-25) and as messages between the incident actors.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/enums.hpp"
#include "messages/error.hpp"
#include "messages/ids.hpp"

namespace bulwark {

// -- enumerations ---------------------------------------------------------------------

/// What an incident policy decides for a candidate.
enum class policy_verdict : uint8_t { promote = 1, defer = 2, suppress = 3 };

const char* to_string(policy_verdict x) noexcept;
bool parse(std::string_view name, policy_verdict& out) noexcept;
inline bool valid(policy_verdict x) noexcept {
  auto v = static_cast<uint8_t>(x);
  return v >= 1 && v <= 3;
}

/// Incident severity, P0 (most urgent) to P3; the policy's output.
enum class severity : uint8_t { p0 = 0, p1 = 1, p2 = 2, p3 = 3 };

const char* to_string(severity x) noexcept;
bool parse(std::string_view name, severity& out) noexcept;
inline bool valid(severity x) noexcept {
  return static_cast<uint8_t>(x) <= 3;
}

/// The response deadline of a severity: P0 immediate, P1 1 h, P2 4 h, P3 24 h.
caf::timespan response_time(severity x) noexcept;

// -- payloads -------------------------------------------------------------------------

/// One suspected culprit: an applied action ranked by root-cause analysis.
struct culprit {
  seq_no seq;               ///< its `action_applied` record
  digest proposal;
  resource_id resource;
  std::string key;
  uint32_t score = 0;       ///< thousandths; higher is more likely
  caf::timespan before_onset{}; ///< how long before the anomaly's onset it was applied
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, culprit& x) {
  return f(caf::meta::type_name("culprit"), x.seq, x.proposal, x.resource, x.key, x.score,
           x.before_onset);
}

/// Payload of `candidate_raised` (19): a confirmed anomaly with its suspected culprits.
struct candidate_raised {
  digest candidate;          ///< SHA-256 of service, region, onset and culprit seqs
  std::string service;
  std::string region;
  caf::timestamp onset;      ///< first sample over the threshold
  caf::timestamp confirmed;  ///< when the confirmation window was complete
  uint32_t error_ppm = 0;    ///< error rate at confirmation, parts per million
  uint32_t baseline_ppm = 0;
  uint32_t threshold_ppm = 0;
  std::vector<culprit> culprits; ///< best first; may be empty
  std::string policy;        ///< policy id from the correlation rules
  std::string raised_by;     ///< "detector", or who submitted it
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, candidate_raised& x) {
  return f(caf::meta::type_name("candidate_raised"), x.candidate, x.service, x.region,
           x.onset, x.confirmed, x.error_ppm, x.baseline_ppm, x.threshold_ppm, x.culprits,
           x.policy, x.raised_by);
}

/// Payload of `candidate_decided` (20): the policy's verdict on a candidate.
struct candidate_decided {
  digest candidate;
  digest decision;          ///< SHA-256 of candidate, policy, verdict, by, manual
  std::string policy;
  policy_verdict verdict = policy_verdict::defer;
  severity level = severity::p3;
  principal_id by;          ///< "policy:<id>", or the operator of a manual promotion
  bool manual = false;
  std::string justification;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, candidate_decided& x) {
  return f(caf::meta::type_name("candidate_decided"), x.candidate, x.decision, x.policy,
           x.verdict, x.level, x.by, x.manual, x.justification,
           caf::meta::load_callback([&]() -> caf::error {
             return valid(x.verdict) && valid(x.level) ? caf::error{}
                                                       : refuse(ec::invalid_input, "verdict");
           }));
}

/// Payload of `incident_opened` (21): a promoted candidate.
struct incident_opened {
  digest incident;          ///< SHA-256 of "incident" and the decision
  digest candidate;
  digest decision;
  std::string service;
  std::string region;
  severity level = severity::p3;
  caf::timestamp onset;
  caf::timestamp respond_by;
  std::vector<seq_no> culprits;       ///< what its rollback reverts
  authority_level rollback_level = authority_level::assist;
  principal_id by;
  std::string justification;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incident_opened& x) {
  return f(caf::meta::type_name("incident_opened"), x.incident, x.candidate, x.decision,
           x.service, x.region, x.level, x.onset, x.respond_by, x.culprits, x.rollback_level,
           x.by, x.justification, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.level) && valid(x.rollback_level)
                      ? caf::error{}
                      : refuse(ec::invalid_input, "severity or level");
           }));
}

/// Payload of `rollback_requested` (22): the write-ahead plan of a rollback.
struct rollback_requested {
  digest rollback;          ///< SHA-256 of "rollback", the incident and the reverted seqs
  digest incident;          ///< all zero for a rollback an operator asked for by seqs
  principal_id by;
  authority_level level = authority_level::assist;
  std::vector<seq_no> reverts; ///< `action_applied` seqs, newest first
  std::string justification;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rollback_requested& x) {
  return f(caf::meta::type_name("rollback_requested"), x.rollback, x.incident, x.by, x.level,
           x.reverts, x.justification, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.level) ? caf::error{} : refuse(ec::invalid_input, "level");
           }));
}

/// Payload of `rollback_finished` (23): journaled with every `rollback_applied` of it.
struct rollback_finished {
  digest rollback;
  digest incident;
  bool succeeded = false;
  ec code = ec::none;
  uint32_t reverted = 0;
  std::string message;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rollback_finished& x) {
  return f(caf::meta::type_name("rollback_finished"), x.rollback, x.incident, x.succeeded,
           x.code, x.reverted, x.message);
}

/// Payload of `incident_closed` (24, recovery verified) and `incident_escalated` (25).
struct incident_outcome {
  digest incident;
  caf::timespan mttr{};     ///< onset to verified recovery (escalated: onset to escalation)
  uint32_t error_ppm = 0;   ///< the error rate that decided it
  std::string detail;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incident_outcome& x) {
  return f(caf::meta::type_name("incident_outcome"), x.incident, x.mttr, x.error_ppm, x.detail);
}

/// Payload of `orchestration_failed` (26): one failed attempt to hand a candidate to the
/// orchestrator and have it journaled; the detector tries again.
struct orchestration_failed {
  digest candidate;
  std::string service;
  std::string region;
  uint32_t attempt = 0;     ///< 1 for the first attempt of this candidate
  ec code = ec::none;       ///< why it failed (UNAVAILABLE: no orchestrator running)
  std::string reason;
  caf::timespan retry_in{}; ///< when the detector tries again
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, orchestration_failed& x) {
  return f(caf::meta::type_name("orchestration_failed"), x.candidate, x.service, x.region,
           x.attempt, x.code, x.reason, x.retry_in);
}

// -- messages between actors ------------------------------------------------------------

/// One metric sample of a (service, region) as the detector receives it.
struct metric_in {
  std::string service;
  std::string region;
  double error_rate = 0; ///< fraction of failed requests, 0..1
  double latency_ms = 0;
  caf::timestamp at;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metric_in& x) {
  return f(caf::meta::type_name("metric_in"), x.service, x.region, x.error_rate,
           x.latency_ms, x.at);
}

/// What one service's signals showed over a time window (a level-3 step's observation
/// window): the detector's answer to `analyze`.
struct signal_summary {
  bool available = true;      ///< false: the signals could not be read (`error` says why)
  std::string error;
  uint32_t samples = 0;       ///< accepted samples of the service in the window
  uint32_t breaches = 0;      ///< of them above their series' threshold
  std::string worst_region;   ///< the series of the worst sample ("" when none)
  uint32_t worst_ppm = 0;     ///< its error rate, parts per million
  uint32_t threshold_ppm = 0; ///< the threshold it was judged by
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signal_summary& x) {
  return f(caf::meta::type_name("signal_summary"), x.available, x.error, x.samples,
           x.breaches, x.worst_region, x.worst_ppm, x.threshold_ppm);
}

/// A request to roll back applied actions: an incident's culprits, or seqs by hand.
struct rollback_order {
  digest incident;             ///< zero: by seqs
  std::vector<seq_no> seqs;    ///< the `action_applied` records to revert
  principal_id by;
  authority_level level = authority_level::assist;
  std::string justification;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rollback_order& x) {
  return f(caf::meta::type_name("rollback_order"), x.incident, x.seqs, x.by, x.level,
           x.justification, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.level) ? caf::error{} : refuse(ec::invalid_input, "level");
           }));
}

/// The answer to a rollback order: its id, where it stands and what it reverted.
struct rollback_status {
  digest rollback;
  /// "awaiting-approval", "succeeded", "failed", "compensation_failed" (a step of it could
  /// not be undone: a dead letter and a P1 incident name it), "no-op"
  std::string status;
  ec code = ec::none;
  std::string message;
  uint32_t reverted = 0;
  seq_no seq;               ///< the journal seq that recorded it
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rollback_status& x) {
  return f(caf::meta::type_name("rollback_status"), x.rollback, x.status, x.code, x.message,
           x.reverted, x.seq);
}

/// The orchestrator's answer for one candidate.
struct incident_decision {
  digest candidate;
  digest decision;
  policy_verdict verdict = policy_verdict::defer;
  caf::optional<digest> incident; ///< set on PROMOTE
  bool repeated = false;          ///< the candidate was decided before: nothing new
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incident_decision& x) {
  return f(caf::meta::type_name("incident_decision"), x.candidate, x.decision, x.verdict,
           x.incident, x.repeated);
}

} // namespace bulwark
