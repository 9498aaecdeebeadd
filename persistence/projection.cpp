#include "persistence/projection.hpp"

#include <string>

#include "messages/incidents.hpp"
#include "messages/cluster.hpp"
#include "messages/notifications.hpp"
#include "persistence/audit_projection.hpp"
#include "persistence/budget_projection.hpp"
#include "persistence/codec.hpp"
#include "persistence/lifecycle_projection.hpp"
#include "persistence/sha256.hpp"

namespace bulwark {

digest idempotency_digest(const principal_id& principal, const std::string& key) {
  std::string bytes;
  bytes.reserve(principal.value.size() + 1 + key.size());
  bytes.append(principal.value).append(1, '/').append(key);
  return sha256(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

namespace {

/// Applies one decoded payload to the state. Unknown resources are ignored so that
/// `apply` stays total: validation happens before events are appended.
struct applier {
  fleet_state& st;
  uint64_t seq;
  event_type type;

  void operator()(const resource_registered& x) {
    auto& r = st.resources[x.resource.value];
    r.service = x.service;
    r.region = x.region;
    r.attributes = x.attributes;
    r.retired = false;
    r.last_change = seq;
  }
  void operator()(const resource_retired& x) {
    if (auto i = st.resources.find(x.resource.value); i != st.resources.end()) {
      i->second.retired = true;
      i->second.last_change = seq;
    }
  }
  void operator()(const proposal_decided& x) {
    bool read = x.level == authority_level::read_only;
    digest key;
    if (!x.idempotency_key.empty()) {
      key = idempotency_digest(x.principal, x.idempotency_key);
      st.decided.insert(decided_proposal{key, x.proposal, seq, x.code,
                                         !x.allowed ? decided::refused
                                         : read    ? decided::read
                                                   : decided::running});
    }
    if (x.allowed && !read) // a read is answered at its decision: nothing of it runs
      st.proposals[x.proposal] = proposal_state{key, seq, 0};
    track_decision(st.audit, seq, x);
  }
  void operator()(const action_started& x) {
    if (auto i = st.proposals.find(x.proposal); i != st.proposals.end())
      ++i->second.started;
  }
  void operator()(action_applied& x) { // the decoded payload is ours: its value moves
    if (auto i = st.proposals.find(x.proposal); i != st.proposals.end()
                                                && i->second.started > 0)
      --i->second.started;
    if (auto i = st.resources.find(x.resource.value); i != st.resources.end()) {
      i->second.attributes[x.key] = std::move(x.new_value);
      i->second.last_change = seq;
    }
  }
  void operator()(const action_failed& x) {
    if (auto i = st.proposals.find(x.proposal); i != st.proposals.end()
                                                && i->second.started > 0)
      --i->second.started;
  }
  void operator()(const rollback_applied& x) {
    st.reverted[x.reverts.value] = x.rollback;
    auto i = st.resources.find(x.resource.value);
    if (i == st.resources.end())
      return;
    // A compensated change gives its resource back to the blast budget.
    release_resource(st.budget, i->second.service, x.resource.value);
    if (x.new_value)
      i->second.attributes[x.key] = *x.new_value;
    else
      i->second.attributes.erase(x.key);
    i->second.last_change = seq;
  }
  void operator()(const breaker_transition& x) {
    st.breakers[x.service] = x.to;
  }
  void operator()(const budget_charged& x) {
    charge_budget(st.budget, x);
  }
  void operator()(const audit_acknowledged& x) {
    remove_reviewed(st.audit, x);
  }
  void operator()(const policy_changed& x) {
    st.policy_version = x.version;
    st.policy = x.entries;
  }
  void operator()(const quarantine_changed& x) {
    if (x.quarantined)
      st.quarantined[x.principal.value] = seq;
    else
      st.quarantined.erase(x.principal.value);
  }
  void operator()(const grant_changed& x) {
    st.grants[x.principal.value] = grant_state{x.level, x.until};
  }
  void operator()(const halt_changed&) {
    st.halted = type == event_type::halt_engaged;
  }
  // Recorded for audit only; they change no projected state.
  void operator()(const approval_recorded&) {
  }
  void operator()(const approval_checked&) {
  }
  void operator()(const policy_refused&) {
  }
  void operator()(const decision_basis&) {
  }
  void operator()(const approval_window&) {
  }
  void operator()(const interrupted&) {
  }
  void operator()(const console_access&) {
  }
  void operator()(const actor_restarted&) {
  }
  void operator()(const candidate_raised& x) {
    auto& c = st.candidates[x.candidate];
    c.service = x.service;
    c.region = x.region;
    c.onset = x.onset;
    c.error_ppm = x.error_ppm;
    c.culprits.clear();
    for (auto& k : x.culprits)
      c.culprits.push_back(k.seq);
    c.policy = x.policy;
    c.detected_after = x.raised_by == "detector" ? x.confirmed - x.onset : caf::timespan{};
  }
  void operator()(const candidate_decided& x) {
    if (auto i = st.candidates.find(x.candidate); i != st.candidates.end()) {
      i->second.verdict = static_cast<uint8_t>(x.verdict);
      i->second.decision = x.decision;
    }
  }
  void operator()(const incident_opened& x) {
    auto& n = st.incidents[x.incident];
    n.candidate = x.candidate;
    n.service = x.service;
    n.region = x.region;
    n.level = x.level;
    n.onset = x.onset;
    n.respond_by = x.respond_by;
    n.culprits = x.culprits;
    n.rollback_level = x.rollback_level;
    n.status = 1;
    if (auto i = st.candidates.find(x.candidate); i != st.candidates.end())
      i->second.incident = x.incident;
  }
  void operator()(const rollback_requested& x) {
    if (auto i = st.incidents.find(x.incident); i != st.incidents.end()) {
      i->second.rollback = x.rollback;
      i->second.rollback_result = 0;
    }
  }
  void operator()(const rollback_finished& x) {
    if (auto i = st.incidents.find(x.incident); i != st.incidents.end()
                                                && i->second.rollback == x.rollback) {
      auto& result = i->second.rollback_result;
      // A failed compensation of this rollback (type 53, before its finish) stays said.
      if (x.succeeded || result != incident_rollback::compensation_failed)
        result = x.succeeded ? incident_rollback::succeeded : incident_rollback::failed;
    }
  }
  void operator()(const compensation_failed& x) {
    // A running proposal's compensation: its index entry says so from here on (its
    // `proposal_finished`, later in the same transaction, keeps it).
    if (auto i = st.proposals.find(x.proposal); i != st.proposals.end()) {
      if (i->second.key != digest{})
        st.decided.settle(i->second.key, decided::compensation_failed);
      return;
    }
    // A rollback's compensation: the incident whose latest rollback it is says so.
    for (auto& entry : st.incidents)
      if (entry.second.rollback == x.proposal
          && entry.second.rollback_result == incident_rollback::none)
        entry.second.rollback_result = incident_rollback::compensation_failed;
  }
  void operator()(const incident_outcome& x) {
    auto i = st.incidents.find(x.incident);
    // An incident an operator resolved or closed (4, 5) is not escalated; one closed by
    // an operator stays so when the detector later verifies its recovery.
    if (i == st.incidents.end() || i->second.status == 5
        || (type == event_type::incident_escalated && i->second.status == 4))
      return;
    i->second.status = type == event_type::incident_closed ? 2 : 3;
    i->second.mttr = x.mttr;
  }
  void operator()(const orchestration_failed&) {
    // A record of an attempt: the candidate's state changes only once it is journaled.
  }
  void operator()(const early_warning&) {
  }
  void operator()(const degradation_changed&) {
  }
  void operator()(dead_lettered& x) {
    st.dead_letters[seq] = std::move(x);
  }
  void operator()(const dead_letter_resolved& x) {
    st.dead_letters.erase(x.letter);
  }
  void operator()(const peer_changed&) {
  }
  void operator()(const integrity_alert&) {
  }
  void operator()(const leadership_changed&) {
  }
  void operator()(const notification_sent&) {
  }
  void operator()(const analysis_failed&) {
  }
  void operator()(const proposal_finished& x) {
    // A proposal that left the fleet as it found it (nothing applied, or every applied
    // step compensated) gives its whole blast-budget charge back.
    if (x.compensated == x.applied)
      release_proposal(st.budget, x.proposal);
    queue_finished(st.audit, seq, x);
    auto i = st.proposals.find(x.proposal);
    if (i == st.proposals.end())
      return;
    if (i->second.key != digest{}) {
      auto d = st.decided.find(i->second.key);
      bool kept = d != nullptr && d->status == decided::compensation_failed && !x.succeeded;
      if (!kept)
        st.decided.settle(i->second.key, x.succeeded ? decided::succeeded : decided::failed);
    }
    st.proposals.erase(i);
  }
};

/// The payload of one record as `apply` sees it: type and bytes.
struct raw_event {
  event_type type;
  const uint8_t* data;
  size_t size;
};

template <class Payload>
caf::error decode_as(seq_no seq, const raw_event& ev, Payload& x) {
  if (auto err = decode(ev.data, ev.size, x))
    return refuse(ec::integrity_violation, "record " + std::to_string(seq.value) + ": "
                                               + to_string(ev.type)
                                               + " payload does not decode");
  return {};
}

template <class Payload>
caf::error apply_as(fleet_state& st, seq_no seq, const raw_event& ev) {
  Payload x;
  if (auto err = decode_as(seq, ev, x))
    return err;
  applier{st, seq.value, ev.type}(x);
  return {};
}

} // namespace

projection projection::without_history(const fleet_state& state) {
  projection out;
  auto& s = out.state_;
  s.seq = state.seq;
  s.resources = state.resources;
  s.grants = state.grants;
  s.breakers = state.breakers;
  s.halted = state.halted;
  s.counts = state.counts;
  s.candidates = state.candidates;
  s.incidents = state.incidents;
  s.reverted = state.reverted;
  s.dead_letters = state.dead_letters;
  s.budget = state.budget;
  out.history_ = false;
  return out;
}

caf::error projection::apply(seq_no seq, const event& e) {
  return apply(seq, e.type, e.payload.data(), e.payload.size());
}

caf::error projection::apply(seq_no seq, event_type type, const uint8_t* payload, size_t size) {
  raw_event ev{type, payload, size};
  if (seq.value != state_.seq + 1)
    return refuse(ec::integrity_violation,
                  "projection at seq " + std::to_string(state_.seq) + " cannot apply seq "
                    + std::to_string(seq.value));
  caf::error err;
  switch (ev.type) {
    case event_type::resource_registered:
      err = apply_as<resource_registered>(state_, seq, ev);
      break;
    case event_type::resource_retired:
      err = apply_as<resource_retired>(state_, seq, ev);
      break;
    case event_type::proposal_decided:
      if (history_) {
        err = apply_as<proposal_decided>(state_, seq, ev);
      } else { // checked, not kept
        proposal_decided x;
        err = decode_as(seq, ev, x);
      }
      break;
    case event_type::action_started:
      err = apply_as<action_started>(state_, seq, ev);
      break;
    case event_type::action_applied:
      err = apply_as<action_applied>(state_, seq, ev);
      break;
    case event_type::action_failed:
      err = apply_as<action_failed>(state_, seq, ev);
      break;
    case event_type::rollback_applied:
      err = apply_as<rollback_applied>(state_, seq, ev);
      break;
    case event_type::breaker_transition:
      err = apply_as<breaker_transition>(state_, seq, ev);
      break;
    case event_type::grant_changed:
      err = apply_as<grant_changed>(state_, seq, ev);
      break;
    case event_type::halt_engaged:
    case event_type::halt_released:
      err = apply_as<halt_changed>(state_, seq, ev);
      break;
    case event_type::proposal_finished:
      err = apply_as<proposal_finished>(state_, seq, ev);
      break;
    case event_type::approval_granted:
    case event_type::approval_denied:
    case event_type::approval_expired:
      err = apply_as<approval_recorded>(state_, seq, ev);
      break;
    case event_type::interrupted:
      err = apply_as<interrupted>(state_, seq, ev);
      break;
    case event_type::console_access:
      err = apply_as<console_access>(state_, seq, ev);
      break;
    case event_type::actor_restarted:
      err = apply_as<actor_restarted>(state_, seq, ev);
      break;
    case event_type::candidate_raised:
      err = apply_as<candidate_raised>(state_, seq, ev);
      break;
    case event_type::candidate_decided:
      err = apply_as<candidate_decided>(state_, seq, ev);
      break;
    case event_type::incident_opened:
      err = apply_as<incident_opened>(state_, seq, ev);
      break;
    case event_type::rollback_requested:
      err = apply_as<rollback_requested>(state_, seq, ev);
      break;
    case event_type::rollback_finished:
      err = apply_as<rollback_finished>(state_, seq, ev);
      break;
    case event_type::incident_closed:
    case event_type::incident_escalated:
      err = apply_as<incident_outcome>(state_, seq, ev);
      break;
    case event_type::orchestration_failed:
      err = apply_as<orchestration_failed>(state_, seq, ev);
      break;
    case event_type::early_warning:
      err = apply_as<early_warning>(state_, seq, ev);
      break;
    case event_type::degradation_changed:
      err = apply_as<degradation_changed>(state_, seq, ev);
      break;
    case event_type::dead_lettered:
      err = apply_as<dead_lettered>(state_, seq, ev);
      break;
    case event_type::dead_letter_resolved:
      err = apply_as<dead_letter_resolved>(state_, seq, ev);
      break;
    case event_type::peer_changed:
      err = apply_as<peer_changed>(state_, seq, ev);
      break;
    case event_type::integrity_alert:
      err = apply_as<integrity_alert>(state_, seq, ev);
      break;
    case event_type::leadership_changed:
      err = apply_as<leadership_changed>(state_, seq, ev);
      break;
    case event_type::incident_acknowledged:
    case event_type::incident_noted:
    case event_type::incident_severity_changed:
    case event_type::incident_resolved:
    case event_type::incident_reopened:
    case event_type::incident_closed_by_operator:
      err = apply_lifecycle(state_, seq, ev.type, ev.data, ev.size);
      break;
    case event_type::notification_sent:
      err = apply_as<notification_sent>(state_, seq, ev);
      break;
    case event_type::analysis_failed:
      err = apply_as<analysis_failed>(state_, seq, ev);
      break;
    case event_type::budget_charged:
      err = apply_as<budget_charged>(state_, seq, ev);
      break;
    case event_type::approval_checked:
      err = apply_as<approval_checked>(state_, seq, ev);
      break;
    case event_type::audit_acknowledged:
      err = apply_as<audit_acknowledged>(state_, seq, ev);
      break;
    case event_type::policy_changed:
      err = apply_as<policy_changed>(state_, seq, ev);
      break;
    case event_type::policy_refused:
      err = apply_as<policy_refused>(state_, seq, ev);
      break;
    case event_type::decision_basis:
      err = apply_as<decision_basis>(state_, seq, ev);
      break;
    case event_type::quarantine_changed:
      err = apply_as<quarantine_changed>(state_, seq, ev);
      break;
    case event_type::compensation_failed:
      err = apply_as<compensation_failed>(state_, seq, ev);
      break;
    case event_type::approval_window:
      err = apply_as<approval_window>(state_, seq, ev);
      break;
  }
  if (err)
    return err;
  state_.seq = seq.value;
  ++state_.counts[static_cast<uint8_t>(ev.type)];
  return {};
}

std::vector<uint8_t> projection::encode_state() const {
  return encode(state_);
}

digest projection::state_digest() const {
  auto bytes = encode_state();
  return sha256(bytes.data(), bytes.size());
}

std::vector<digest> projection::in_doubt() const {
  std::vector<digest> result;
  for (auto& [id, p] : state_.proposals)
    if (p.started > 0)
      result.push_back(id);
  return result;
}

} // namespace bulwark
