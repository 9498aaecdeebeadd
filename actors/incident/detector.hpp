#pragma once

/// The detector: judges the metric samples hosts feed (detector_policy), indexes applied
/// actions from the journal for root-cause analysis (rca_policy), hands confirmed
/// anomalies to the orchestrator as candidates, and journals verified recoveries
/// (`incident_closed`) and failed ones (`incident_escalated`).

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"
#include "caf/optional.hpp"

#include "actors/incident/detector_policy.hpp"
#include "actors/incident/incident_policy.hpp"
#include "actors/incident/rca_policy.hpp"
#include "messages/interfaces.hpp"
#include "messages/state.hpp"
#include "supervision/supervisor.hpp"

namespace bulwark {

class journal_store;

/// What the detector remembers of an open incident.
struct watched_incident {
  std::string service;
  std::string region;
  caf::timestamp onset;
};

/// Where the detector finds the orchestrator (changes when it is restarted).
using orchestrator_slot = std::shared_ptr<handle_slot<orchestrator_actor>>;

/// State of the detector.
struct detector_state {
  incident_settings settings;
  detector_policy detect{detector_settings{}};
  rca_policy rca{rca_settings{}};
  journal_actor journal;
  orchestrator_slot orchestrator;
  std::map<std::string, std::pair<std::string, std::string>> where; ///< resource -> series
  std::map<digest, watched_incident> incidents;
  uint64_t seq = 0; ///< the last journal seq followed
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  static inline const char* name = "detector";
};

/// Records the detector rebuilds its index from at start (the newest ones).
inline constexpr uint64_t detector_replay_records = 100'000;

/// Runs the detector from `st` (the journal's state at spawn; none after a restart: it
/// asks the journal first, and samples wait until the answer) and the newest records of
/// `store`; it subscribes to the journal to follow later commits. Baselines start with
/// a warm-up; open incidents whose rollback finished are watched for recovery again.
detector_actor::behavior_type detector(detector_actor::stateful_pointer<detector_state> self,
                                       incident_settings settings, journal_actor journal,
                                       orchestrator_slot orchestrator,
                                       std::shared_ptr<journal_store> store,
                                       caf::optional<fleet_state> st, caf::timestamp epoch);

} // namespace bulwark
