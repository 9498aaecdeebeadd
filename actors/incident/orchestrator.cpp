#include "actors/incident/orchestrator.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/incident/lifecycle_policy.hpp"
#include "messages/commands.hpp"
#include "persistence/make_event.hpp"
#include "supervision/live_settings.hpp"

namespace bulwark {

namespace {

using orchestrator_ptr = orchestrator_actor::stateful_pointer<orchestrator_state>;

caf::timestamp now(orchestrator_ptr self) {
  return self->state.epoch + (self->clock().now() - self->state.start);
}

/// The answer for a candidate decided before.
incident_decision repeated(const digest& id, const candidate_state& c) {
  incident_decision d{id, c.decision, static_cast<policy_verdict>(c.verdict), caf::none, true};
  if (!c.incident.is_zero())
    d.incident = c.incident;
  return d;
}

candidate_state known_of(const candidate_raised& c) {
  candidate_state k;
  k.service = c.service;
  k.region = c.region;
  k.onset = c.onset;
  k.error_ppm = c.error_ppm;
  for (auto& x : c.culprits)
    k.culprits.push_back(x.seq);
  k.policy = c.policy;
  return k;
}

/// The events of one decision: the decision and, on PROMOTE, the incident.
std::vector<event> decision_events(orchestrator_ptr self, const digest& cid, const candidate_state& c,
                                   const policy_outcome& out, const principal_id& by,
                                   bool manual, const std::string& why, incident_decision& d) {
  auto at = now(self);
  candidate_decided cd{cid, decision_id(cid, c.policy, out.verdict, by, manual), c.policy,
                       out.verdict, out.level, by, manual, why};
  d = incident_decision{cid, cd.decision, out.verdict, caf::none, false};
  std::vector<event> evs{make_event(event_type::candidate_decided, at, cd)};
  if (out.verdict == policy_verdict::promote) {
    incident_opened io{incident_id(cd.decision), cid, cd.decision, c.service, c.region,
                       out.level, c.onset, at + response_time(out.level), {},
                       out.rollback_level, by, why};
    io.culprits = c.culprits;
    d.incident = io.incident;
    evs.push_back(make_event(event_type::incident_opened, at, io));
  }
  return evs;
}

/// Hands a promoted incident's culprits to the rollback executor; its answer is logged
/// (the incident stays open when the rollback cannot run, for an operator to act on).
void order_rollback(orchestrator_ptr self, rollback_order o) {
  auto id = o.incident;
  self->request(self->state.rollbacks, caf::infinite, atom::rollback_v, std::move(o))
    .then(
      [id](const rollback_status& s) {
        spdlog::info("orchestrator: rollback of incident {}: {}", to_hex(id).substr(0, 12),
                     s.status);
      },
      [id](caf::error& err) {
        spdlog::warn("orchestrator: rollback of incident {} did not run: {}",
                     to_hex(id).substr(0, 12), describe(err).message);
      });
}

/// After a failed append: forgets a candidate this attempt introduced, so the next
/// attempt journals its `candidate_raised` again (never a decision without it).
void forget_unjournaled(orchestrator_ptr self, const digest& cid, bool fresh) {
  auto i = self->state.candidates.find(cid);
  if (fresh && i != self->state.candidates.end() && i->second.verdict == 0)
    self->state.candidates.erase(i);
}

/// How long an escalation the journal refused waits before it is tried again.
constexpr auto respond_retry = std::chrono::seconds{1};

/// Arms the respond_by timer of an incident (at once when it is due).
void arm_respond(orchestrator_ptr self, const digest& incident, caf::timestamp respond_by) {
  auto left = respond_by - now(self);
  if (left <= caf::timespan{0})
    self->send(self, atom::respond_v, incident);
  else
    self->delayed_send(self, left, atom::respond_v, incident);
}

/// Journals `evs`; on success records the decision, answers, arms the respond_by timer
/// of an incident it opens, and orders the rollback.
/// `fresh`: the candidate's `candidate_raised` is among `evs`.
void commit(orchestrator_ptr self, std::vector<event> evs, digest cid, incident_decision d,
            authority_level level, principal_id by, std::string why, bool fresh,
            caf::typed_response_promise<incident_decision> rp) {
  bool opens = false;
  caf::timestamp respond_by{};
  for (auto& ev : evs)
    if (incident_opened io; ev.type == event_type::incident_opened && !payload_of(ev, io)) {
      opens = true;
      respond_by = io.respond_by;
    }
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(evs))
    .then(
      [=](const appended&) mutable {
        auto& c = self->state.candidates[cid];
        c.verdict = static_cast<uint8_t>(d.verdict);
        c.decision = d.decision;
        if (d.incident)
          c.incident = *d.incident;
        rp.deliver(d);
        if (d.incident && opens)
          arm_respond(self, *d.incident, respond_by);
        if (d.incident && !c.culprits.empty())
          order_rollback(self, rollback_order{*d.incident, c.culprits, by, level, why});
      },
      [self, rp, cid, fresh](caf::error& err) mutable {
        forget_unjournaled(self, cid, fresh);
        rp.deliver(err);
      });
}

caf::result<incident_decision> on_candidate(orchestrator_ptr self, const candidate_raised& c) {
  auto& st = self->state;
  if (auto i = st.candidates.find(c.candidate); i != st.candidates.end() && i->second.verdict != 0)
    return repeated(c.candidate, i->second); // idempotent: the first decision stands
  auto out = decide(st.settings, c);
  std::vector<event> evs;
  bool fresh = st.candidates.count(c.candidate) == 0;
  if (fresh)
    evs.push_back(make_event(event_type::candidate_raised, now(self), c));
  st.candidates.emplace(c.candidate, known_of(c));
  auto rp = self->make_response_promise<incident_decision>();
  if (!out) {
    // The candidate is kept for an operator; an unknown policy decides nothing.
    self->request(st.journal, caf::infinite, atom::append_v, std::move(evs))
      .then([rp, err = out.error()](const appended&) mutable { rp.deliver(err); },
            [self, rp, cid = c.candidate, fresh](caf::error& e) mutable {
              forget_unjournaled(self, cid, fresh);
              rp.deliver(e);
            });
    return rp;
  }
  principal_id by{auto_engine}; // its session: the candidate, named by the decision
  auto why = candidate_reason(c);
  incident_decision d;
  auto more = decision_events(self, c.candidate, st.candidates[c.candidate], *out, by, false, why, d);
  evs.insert(evs.end(), more.begin(), more.end());
  commit(self, std::move(evs), c.candidate, d, out->rollback_level, by, why, fresh, rp);
  return rp;
}

caf::result<incident_decision> on_promote(orchestrator_ptr self, const digest& cid,
                                          const principal_id& by, const std::string& why) {
  auto& st = self->state;
  auto i = st.candidates.find(cid);
  if (i == st.candidates.end())
    return refuse(ec::invalid_input, "unknown candidate " + to_hex(cid));
  if (!i->second.incident.is_zero())
    return repeated(cid, i->second); // promoted before: the same incident
  if (i->second.verdict != static_cast<uint8_t>(policy_verdict::defer))
    return refuse(ec::invalid_input, "candidate " + to_hex(cid).substr(0, 16)
                                       + " was not deferred; only deferred candidates are promoted");
  candidate_raised probe;
  probe.policy = i->second.policy;
  probe.error_ppm = i->second.error_ppm;
  auto out = decide(st.settings, probe);
  policy_outcome o = out ? *out : policy_outcome{};
  o.verdict = policy_verdict::promote;
  incident_decision d;
  auto evs = decision_events(self, cid, i->second, o, by, true, why, d);
  auto rp = self->make_response_promise<incident_decision>();
  commit(self, std::move(evs), cid, d, o.rollback_level, by, why, false, rp);
  return rp;
}

/// Arms the respond_by timer of every incident that awaits an acknowledgement.
void arm_all(orchestrator_ptr self, const fleet_state& fs) {
  for (auto& [id, n] : fs.incidents)
    if (awaits_acknowledgement(n))
      arm_respond(self, id, n.respond_by);
}

/// An operator's lifecycle step: checked against the journal's committed state of this
/// moment and journaled. The append is awaited, so steps are taken one at a time: the
/// next is checked against a view that holds this one.
caf::result<seq_no> on_lifecycle(orchestrator_ptr self, lifecycle_command c) {
  caf::expected<event> ev{caf::make_error(caf::sec::runtime_error)};
  {
    auto fleet = self->state.view->read();
    ev = lifecycle_event(fleet.state(), c, now(self));
  }
  if (!ev)
    return ev.error();
  auto rp = self->make_response_promise<seq_no>();
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(*ev))
    .await([rp](const appended& a) mutable { rp.deliver(a.last); },
           [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

/// The respond_by timer of one incident: escalates it if nobody acknowledged it in time.
void on_respond(orchestrator_ptr self, const digest& id) {
  auto at = now(self);
  caf::optional<incident_outcome> x;
  escalation_notice notice;
  {
    auto fleet = self->state.view->read();
    auto& incidents = fleet.state().incidents;
    auto i = incidents.find(id);
    if (i == incidents.end() || !awaits_acknowledgement(i->second))
      return; // acknowledged, escalated or closed meanwhile
    x = overdue(id, i->second, at);
    if (!x)
      return arm_respond(self, id, i->second.respond_by); // not due yet
    notice = escalation_notice{id, i->second.service, i->second.region, i->second.level,
                               i->second.respond_by, at, seq_no{}};
  }
  self->request(self->state.journal, caf::infinite, atom::append_v,
                make_event(event_type::incident_escalated, at, *x))
    .await(
      [self, notice](const appended& a) mutable {
        notice.seq = a.last;
        spdlog::warn("orchestrator: incident {} ({}) not acknowledged by its respond_by: "
                     "escalated", to_hex(notice.incident).substr(0, 12),
                     to_string(notice.level));
        if (self->state.hooks)
          self->state.hooks->call(notice);
      },
      [self, id](caf::error& err) {
        // Not journaled (the journal refused the write): tried again until it is, or the
        // incident no longer awaits an acknowledgement.
        spdlog::error("orchestrator: the escalation of incident {} could not be "
                      "journaled: {}; trying again in 1 s", to_hex(id).substr(0, 12),
                      describe(err).message);
        self->delayed_send(self, respond_retry, atom::respond_v, id);
      });
}

} // namespace

orchestrator_actor::behavior_type
orchestrator(orchestrator_actor::stateful_pointer<orchestrator_state> self,
             incident_settings settings, journal_actor journal, rollback_actor rollbacks,
             std::shared_ptr<const committed_view> view, caf::timestamp epoch,
             std::shared_ptr<escalation_hooks> hooks) {
  auto& st = self->state;
  st.settings = std::move(settings);
  refresh(st.settings, st.settings_seen); // a restart after a reload starts with its policy
  st.journal = journal;
  st.rollbacks = rollbacks;
  st.epoch = epoch;
  st.start = self->clock().now();
  st.hooks = std::move(hooks);
  st.view = std::move(view);
  {
    auto fleet = st.view->read();
    st.candidates = fleet.state().candidates;
    arm_all(self, fleet.state());
  }
  return {
    [self](atom::candidate, const candidate_raised& c) {
      refresh(self->state.settings, self->state.settings_seen);
      return on_candidate(self, c);
    },
    [self](atom::promote, const digest& cid, const principal_id& by, const std::string& why) {
      refresh(self->state.settings, self->state.settings_seen);
      return on_promote(self, cid, by, why);
    },
    [self](atom::lifecycle, const lifecycle_command& c) { return on_lifecycle(self, c); },
    [self](atom::respond, const digest& id) { on_respond(self, id); },
  };
}

} // namespace bulwark
