#pragma once

/// The orchestrator: glue only. It takes a candidate, takes the policy id the candidate
/// names (never derives or overrides it), asks the policy for PROMOTE, DEFER or SUPPRESS,
/// journals candidate, decision and (on PROMOTE) the incident in one transaction, and
/// hands a promoted incident's culprits to the rollback executor. No severity branches,
/// no retries of its own (the detector hands a candidate over again until it is
/// journaled). Ids are hashes of the inputs, so a repeated or replayed candidate is a
/// no-op that answers the first decision.

#include <map>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"
#include "caf/optional.hpp"

#include "actors/incident/incident_policy.hpp"
#include "messages/interfaces.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// State of the orchestrator.
struct orchestrator_state {
  incident_settings settings;
  journal_actor journal;
  rollback_actor rollbacks;
  std::map<digest, candidate_state> candidates; ///< known candidates, from the journal on
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  static inline const char* name = "orchestrator";
};

/// Runs the orchestrator; `known` are the candidates the journal holds at spawn (none
/// after a restart: it asks the journal first, and candidates wait until the answer, so
/// a decided candidate is never decided twice).
orchestrator_actor::behavior_type
orchestrator(orchestrator_actor::stateful_pointer<orchestrator_state> self,
             incident_settings settings, journal_actor journal, rollback_actor rollbacks,
             caf::optional<std::map<digest, candidate_state>> known, caf::timestamp epoch);

} // namespace bulwark
