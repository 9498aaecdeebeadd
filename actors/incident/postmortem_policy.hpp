#pragma once

/// The postmortem report of an incident, assembled from journal records alone (pure):
/// the changes in the look-back before its onset, its detection, its candidate and
/// decision, its rollbacks, its recovery, its MTTR, and who did what and when. Built in
/// two passes over the journal in seq order: `scan` finds the incident, `collect`
/// gathers what belongs to it (docs/incidents.md, "The postmortem report").

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/events.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// One step of the timeline: who did what and when.
struct postmortem_step {
  uint64_t seq = 0;
  caf::timestamp at;
  std::string what;   ///< the record's type, e.g. incident_acknowledged
  std::string by;     ///< principal, or "" when the node did it
  std::string detail;
};

/// One change applied to the incident's series in the look-back before its onset.
struct postmortem_change {
  uint64_t seq = 0;
  caf::timestamp at;
  digest proposal;
  std::string resource;
  std::string key;
  caf::optional<std::string> old_value;
  std::string new_value;
  bool culprit = false;   ///< a suspect of the incident's candidate
  uint32_t score = 0;     ///< its RCA score (thousandths) when a suspect
  bool reverted = false;  ///< a rollback of this incident undid it
};

/// One rollback of the incident.
struct postmortem_rollback {
  digest rollback;
  uint64_t seq = 0;
  caf::timestamp requested;
  std::string by;
  std::vector<uint64_t> reverts;
  bool finished = false;
  bool succeeded = false;
  std::string code;   ///< "" or the error code
  uint32_t reverted = 0;
  caf::timestamp finished_at;
};

/// Everything the report holds.
struct postmortem_report {
  digest incident;
  digest candidate;
  std::string service;
  std::string region;
  std::string opened_severity;
  std::string severity;     ///< the last one
  std::string status;       ///< open, escalated, recovered, resolved, closed
  caf::timestamp onset;
  caf::timestamp opened;
  caf::timestamp respond_by;
  // detection
  bool detected = false;    ///< its candidate_raised was found
  caf::timestamp confirmed;
  uint32_t error_ppm = 0;
  uint32_t baseline_ppm = 0;
  uint32_t threshold_ppm = 0;
  std::string raised_by;
  std::string policy;
  // decision
  std::string verdict;
  std::string decided_by;
  bool manual = false;
  std::string justification;
  // lifecycle
  std::string owner;
  std::string resolution;
  caf::optional<caf::timestamp> acknowledged;
  caf::optional<caf::timestamp> recovered;  ///< recovery verified by the detector
  caf::optional<caf::timestamp> closed;     ///< the last close (recovery or operator)
  caf::optional<caf::timespan> mttr;        ///< closed - onset
  uint32_t escalations = 0;
  uint32_t notes = 0;
  caf::timespan lookback{};
  std::vector<postmortem_change> changes;   ///< in the look-back, oldest first
  std::vector<postmortem_rollback> rollbacks;
  std::vector<postmortem_step> timeline;    ///< in journal order
};

/// Builds one incident's report.
class postmortem_builder {
public:
  /// `lookback`: how far before the onset changes are listed (`[incident] lookback_ms`).
  postmortem_builder(digest incident, caf::timespan lookback);

  /// Pass 1: every record in seq order; finds the incident's `incident_opened`.
  void scan(const journal_entry& e);

  /// True once pass 1 saw the incident.
  bool found() const noexcept {
    return found_;
  }

  /// Pass 2: every record in seq order again; gathers what belongs to the incident.
  void collect(const journal_entry& e);

  /// The report (after both passes).
  postmortem_report finish() const;

private:
  void timeline(const journal_entry& e, std::string by, std::string detail);
  void on_lifecycle(const journal_entry& e);

  postmortem_report r_;
  bool found_ = false;
  std::map<std::string, std::pair<std::string, std::string>> where_; ///< resource -> series
  std::map<uint64_t, uint32_t> culprits_;  ///< seq -> score
  std::set<digest> rollback_ids_;
  bool closed_ = false;
};

} // namespace bulwark
