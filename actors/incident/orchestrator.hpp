#pragma once

/// The orchestrator: glue only. It takes a candidate, takes the policy id the candidate
/// names (never derives or overrides it), asks the policy for PROMOTE, DEFER or SUPPRESS,
/// journals candidate, decision and (on PROMOTE) the incident in one transaction, and
/// hands a promoted incident's culprits to the rollback executor. No severity branches,
/// no retries of its own (the detector hands a candidate over again until it is
/// journaled). Ids are hashes of the inputs, so a repeated or replayed candidate is a
/// no-op that answers the first decision.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"
#include "caf/optional.hpp"

#include "actors/incident/incident_policy.hpp"
#include "actors/incident/lifecycle_policy.hpp"
#include "messages/interfaces.hpp"
#include "around_caf/committed_view.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// What the hooks learn of an incident escalated because nobody acknowledged it.
struct escalation_notice {
  digest incident;
  std::string service;
  std::string region;
  severity level = severity::p3;
  caf::timestamp respond_by;
  caf::timestamp at;
  seq_no seq; ///< its `incident_escalated` record
};

/// The notification hooks of respond_by escalations; called on the orchestrator's
/// thread after the escalation is journaled.
struct escalation_hooks {
  std::mutex lock;
  std::vector<std::function<void(const escalation_notice&)>> fns;

  void add(std::function<void(const escalation_notice&)> fn) {
    std::lock_guard<std::mutex> guard{lock};
    fns.push_back(std::move(fn));
  }
  void call(const escalation_notice& n) {
    std::vector<std::function<void(const escalation_notice&)>> copy;
    {
      std::lock_guard<std::mutex> guard{lock};
      copy = fns;
    }
    for (auto& fn : copy)
      fn(n);
  }
};

/// State of the orchestrator.
struct orchestrator_state {
  incident_settings settings;
  uint64_t settings_seen = 0; ///< the generation of `settings.live` copied
  journal_actor journal;
  rollback_actor rollbacks;
  std::map<digest, candidate_state> candidates; ///< known candidates, from the journal on
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  std::shared_ptr<escalation_hooks> hooks; ///< respond_by escalations (may be null)
  /// The journal's committed projection, read in place for one step (never across a
  /// message): the candidates at start, the incidents a step or a timer checks.
  std::shared_ptr<const committed_view> view;
  static inline const char* name = "orchestrator";
};

/// Runs the orchestrator on the journal's committed projection `view`: it starts from
/// the candidates the view holds (a decided candidate is never decided twice) and arms a
/// respond_by timer per incident that awaits an acknowledgement. It also takes the
/// operators' lifecycle steps (lifecycle_policy), one at a time: each is checked against
/// the view and journaled before the next is taken. At respond_by it journals
/// `incident_escalated` and calls `hooks`.
orchestrator_actor::behavior_type
orchestrator(orchestrator_actor::stateful_pointer<orchestrator_state> self,
             incident_settings settings, journal_actor journal, rollback_actor rollbacks,
             std::shared_ptr<const committed_view> view, caf::timestamp epoch,
             std::shared_ptr<escalation_hooks> hooks);

} // namespace bulwark
