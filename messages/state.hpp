#pragma once

/// The projected fleet state: what committed journal events build (see
/// persistence/projection.hpp), and the verification report.

#include <cstdint>
#include <map>
#include <string>

#include "caf/meta/type_name.hpp"
#include "caf/optional.hpp"
#include "caf/timestamp.hpp"

#include "messages/decided_index.hpp"
#include "messages/enums.hpp"
#include "messages/error.hpp"
#include "messages/events.hpp"
#include "messages/ids.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// One registered resource as the journal knows it.
struct resource_state {
  std::string service;
  std::string region;
  attribute_map attributes;
  bool retired = false;
  uint64_t last_change = 0; ///< seq of the last event that changed it
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_state& x) {
  return f(caf::meta::type_name("resource_state"), x.service, x.region, x.attributes,
           x.retired, x.last_change);
}

/// A journaled grant change in force for one principal.
struct grant_state {
  authority_level level = authority_level::read_only;
  caf::optional<caf::timestamp> until;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, grant_state& x) {
  return f(caf::meta::type_name("grant_state"), x.level, x.until);
}

/// A proposal allowed and not finished yet (for in-doubt checks); once finished, only
/// its entry in `fleet_state::decided` remains.
struct proposal_state {
  digest key;               ///< its key in `fleet_state::decided` (zero: it has none)
  uint64_t decided_seq = 0;
  uint32_t started = 0; ///< actions started without a journaled outcome yet
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proposal_state& x) {
  return f(caf::meta::type_name("proposal_state"), x.key, x.decided_seq, x.started);
}

/// A raised candidate as the journal knows it (kept so an operator can promote it).
struct candidate_state {
  std::string service;
  std::string region;
  caf::timestamp onset;
  uint32_t error_ppm = 0;
  std::vector<seq_no> culprits; ///< best first
  std::string policy;
  uint8_t verdict = 0;          ///< 0 undecided, else a `policy_verdict`
  digest incident;              ///< set once promoted
  digest decision;              ///< set once decided
  caf::timespan detected_after{}; ///< onset to confirmation when the detector raised it
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, candidate_state& x) {
  return f(caf::meta::type_name("candidate_state"), x.service, x.region, x.onset, x.error_ppm,
           x.culprits, x.policy, x.verdict, x.incident, x.decision,
           x.detected_after);
}

/// An incident as the journal knows it.
/// The result of an incident's latest rollback as `incident_state` records it.
namespace incident_rollback {
constexpr uint8_t none = 0;                ///< none finished yet
constexpr uint8_t succeeded = 1;
constexpr uint8_t failed = 2;
constexpr uint8_t compensation_failed = 3; ///< failed, and a step of it could not be undone
} // namespace incident_rollback

struct incident_state {
  digest candidate;
  std::string service;
  std::string region;
  severity level = severity::p3;
  caf::timestamp onset;
  caf::timestamp respond_by;
  std::vector<seq_no> culprits;
  authority_level rollback_level = authority_level::assist;
  uint8_t status = 1; ///< 1 open, 2 recovered (closed), 3 escalated (open, flagged), 4, 5
  digest rollback;              ///< the last rollback requested for it (zero: none)
  uint8_t rollback_result = 0;  ///< `incident_rollback`: 0 none yet, 1 succeeded, 2 failed, 3
  caf::timespan mttr{};         ///< onset to verified recovery, once closed
  // -- the lifecycle (docs/incidents.md): status 4 resolved, 5 closed by an operator --
  bool acknowledged = false;
  std::string owner;            ///< who acknowledged it last ("" none)
  std::string resolution;       ///< the resolution of a resolved or closed incident
  uint32_t notes = 0;           ///< notes journaled for it
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incident_state& x) {
  return f(caf::meta::type_name("incident_state"), x.candidate, x.service, x.region, x.level,
           x.onset, x.respond_by, x.culprits, x.rollback_level, x.status, x.rollback,
           x.rollback_result, x.mttr, x.acknowledged, x.owner, x.resolution, x.notes);
}

/// One resource's charge against the fleet-wide blast budget (`budget_charged`).
struct budget_charge {
  std::string region;
  digest proposal;       ///< the proposal whose execution charged it last
  caf::timestamp until;  ///< the charge counts while the time is before this
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, budget_charge& x) {
  return f(caf::meta::type_name("budget_charge"), x.region, x.proposal, x.until);
}

/// The journaled blast budget: service -> resource -> its charge.
using budget_map = std::map<std::string, std::map<std::string, budget_charge>>;

/// A level-4 proposal whose changes wait for an operator's review (`audit_acknowledged`):
/// it finished with at least one change applied. What an auditor needs to find it.
struct audit_entry {
  principal_id principal;     ///< who proposed it
  uint64_t decided_seq = 0;   ///< its `proposal_decided` record
  uint64_t finished_seq = 0;  ///< its `proposal_finished` record
  uint32_t steps = 0;         ///< the changes it asked for
  uint32_t applied = 0;       ///< the changes it applied (and kept: level 4 compensates none)
  bool succeeded = false;     ///< its outcome
  ec code = ec::none;         ///< the outcome's code (none when it succeeded)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_entry& x) {
  return f(caf::meta::type_name("audit_entry"), x.principal, x.decided_seq, x.finished_seq,
           x.steps, x.applied, x.succeeded, x.code);
}

/// An allowed level-4 proposal that has not finished: what its entry will need.
struct audit_flight {
  principal_id principal;
  uint64_t decided_seq = 0;
  uint32_t steps = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_flight& x) {
  return f(caf::meta::type_name("audit_flight"), x.principal, x.decided_seq, x.steps);
}

/// The review queue of level-4 changes (the gate AuditOnly): proposals that ran without a
/// person and changed something, until an operator acknowledges each.
struct audit_queue {
  std::map<digest, audit_entry> pending;  ///< waiting for a review, by proposal digest
  std::map<digest, audit_flight> running; ///< allowed level-4 proposals not finished yet

  /// The proposals waiting for a review.
  size_t size() const noexcept {
    return pending.size();
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_queue& x) {
  return f(caf::meta::type_name("audit_queue"), x.pending, x.running);
}

/// The whole projected state; its canonical encoding is what `digest()` hashes.
struct fleet_state {
  uint64_t seq = 0; ///< the last applied seq
  std::map<std::string, resource_state> resources;
  std::map<std::string, grant_state> grants;
  decided_index decided;                            ///< every decided proposal, by key
  std::map<digest, proposal_state> proposals;       ///< running ones, by proposal digest
  std::map<std::string, breaker_state> breakers;    ///< by service
  bool halted = false;
  std::map<uint8_t, uint64_t> counts;               ///< events applied, by type
  std::map<digest, candidate_state> candidates;     ///< by candidate id
  std::map<digest, incident_state> incidents;       ///< by incident id
  std::map<uint64_t, digest> reverted;              ///< applied seq -> rollback that undid it
  std::map<uint64_t, dead_lettered> dead_letters;   ///< open letters, by their record's seq
  budget_map budget; ///< charges of the fleet-wide blast budget (expired ones pruned)
  audit_queue audit; ///< level-4 changes waiting for a review (`audit.size()`)
  std::string policy_version;       ///< the last `policy_changed`'s version ("" none)
  std::vector<policy_entry> policy; ///< its entries, by key
  /// Quarantined principals, with the seq of the `quarantine_changed` that quarantined them.
  std::map<std::string, uint64_t> quarantined;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fleet_state& x) {
  return f(caf::meta::type_name("fleet_state"), x.seq, x.resources, x.grants,
           x.decided, x.proposals, x.breakers, x.halted, x.counts, x.candidates,
           x.incidents, x.reverted, x.dead_letters, x.budget, x.audit, x.policy_version,
           x.policy, x.quarantined);
}

/// The outcome of a chain verification.
struct verify_report {
  bool ok = true;
  seq_no first_bad;     ///< the first record that does not verify (when !ok)
  std::string reason;   ///< what is wrong with it
  uint64_t checked = 0; ///< records checked
  seq_no head;          ///< the newest seq verified
  digest head_chain;    ///< its chain hash
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verify_report& x) {
  return f(caf::meta::type_name("verify_report"), x.ok, x.first_bad, x.reason, x.checked,
           x.head, x.head_chain);
}

} // namespace bulwark
