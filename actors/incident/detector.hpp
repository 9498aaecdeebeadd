#pragma once

/// The detector: judges the metric samples hosts feed (detector_policy), indexes applied
/// actions from the journal for root-cause analysis (rca_policy), hands confirmed
/// anomalies to the orchestrator as candidates until each is journaled (every failed
/// attempt journaled as `orchestration_failed`), and journals verified recoveries
/// (`incident_closed`) and failed ones (`incident_escalated`). An incident whose
/// rollback approval expired is escalated and its rollback asked for again.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"
#include "caf/optional.hpp"

#include "actors/incident/detector_policy.hpp"
#include "actors/incident/incident_policy.hpp"
#include "actors/incident/signal_history.hpp"
#include "actors/incident/rca_policy.hpp"
#include "actors/incident/sample_shedder.hpp"
#include "messages/interfaces.hpp"
#include "around_caf/committed_view.hpp"
#include "messages/state.hpp"
#include "supervision/supervisor.hpp"

namespace bulwark {

class journal_store;
class attempt_store;

/// What the detector remembers of an open incident.
struct watched_incident {
  std::string service;
  std::string region;
  caf::timestamp onset;
  authority_level rollback_level = authority_level::assist;
  bool escalated = false; ///< escalated once: still open, watched without a deadline
};

/// A candidate handed to the orchestrator and not journaled yet.
struct pending_candidate {
  candidate_raised candidate;
  uint32_t attempts = 0;  ///< attempts started
  bool in_flight = false; ///< an attempt awaits its answer
};

/// How long the detector waits for the orchestrator's answer to one attempt.
inline constexpr caf::timespan handoff_timeout = std::chrono::seconds{10};

/// The wait before attempt `failed + 1` after `failed` failed ones: 1 s, doubling, at
/// most 30 s. A persisting anomaly is handed over again sooner, with its next sample.
caf::timespan handoff_delay(uint32_t failed) noexcept;

/// The shedding core shared by the engine's sample intake (which asks it) and the
/// detector (which tells it the incidents and changes that protect a series).
struct shed_board {
  std::mutex lock; ///< guards `core`
  sample_shedder core;
};

/// Where the detector finds the orchestrator (changes when it is restarted).
using orchestrator_slot = std::shared_ptr<handle_slot<orchestrator_actor>>;

/// State of the detector.
struct detector_state {
  incident_settings settings;
  detector_policy detect{detector_settings{}};
  rca_policy rca{rca_settings{}};
  signal_history history{std::chrono::minutes{10}}; ///< for level-3 window analysis
  journal_actor journal;
  orchestrator_slot orchestrator;
  rollback_actor rollbacks; ///< asked again when a rollback's approval expired
  std::shared_ptr<shed_board> shedding; ///< told which series must not be shed
  std::shared_ptr<attempt_store> attempts; ///< every hand-over attempt (none: not kept)
  std::map<digest, pending_candidate> pending; ///< by candidate id
  std::map<std::string, std::pair<std::string, std::string>> where; ///< resource -> series
  std::map<digest, watched_incident> incidents;
  uint64_t seq = 0; ///< the last journal seq followed
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  static inline const char* name = "detector";
};

/// Records the detector rebuilds its index from at start (the newest ones).
inline constexpr uint64_t detector_replay_records = 100'000;

/// Runs the detector from the journal's committed projection `view` (read in place at
/// start, for the series and the open incidents) and the newest records of `store` up to
/// the view's head; it subscribes to the journal to follow the commits after that head. Baselines start with
/// a warm-up; open incidents whose rollback finished are watched for recovery again.
/// Every attempt to hand a candidate over is kept in `attempts` (when set) with its
/// duration, status and error.
detector_actor::behavior_type detector(detector_actor::stateful_pointer<detector_state> self,
                                       incident_settings settings, journal_actor journal,
                                       orchestrator_slot orchestrator, rollback_actor rollbacks,
                                       std::shared_ptr<shed_board> shedding,
                                       std::shared_ptr<journal_store> store,
                                       std::shared_ptr<attempt_store> attempts,
                                       std::shared_ptr<const committed_view> view,
                                       caf::timestamp epoch);

} // namespace bulwark
