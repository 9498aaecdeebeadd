// A flight family's actor (the pipeline's, one per family of levels): a proposal's
// admission (idempotency, validation, open circuits; the governance step is in
// governance_step.cpp), the outcomes kept for repeats, and its behaviour. The flights run
// in flights.cpp; approvals, interrupts, resolutions and registrations in
// operator_calls.cpp.

#include "actors/pipeline/pipeline.hpp"
#include "supervision/mailbox_gauge.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/blast_radius/blast_radius.hpp"
#include "actors/pipeline/pipeline_impl.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

using namespace pipeline_detail;

namespace pipeline_detail {

caf::timestamp now(self_ptr self) {
  return self->state.epoch + (self->clock().now() - self->state.start);
}

void remember_outcome(self_ptr self, const in_flight& f, const outcome& o) {
  auto& st = self->state;
  // A read's resources are answered once: thousands of kept outcomes must not each hold
  // up to a thousand resources. A repeat learns it was read, and at which decision.
  auto kept = o;
  kept.read = caf::none;
  if (!st.outcomes.emplace(f.m.id, std::move(kept)).second)
    return;
  st.outcome_order.emplace_back(f.m.id, f.key);
  while (st.outcome_order.size() > std::max<uint64_t>(st.settings.kept_outcomes, 1)) {
    auto& [old, key] = st.outcome_order.front();
    st.outcomes.erase(old);
    // The projection holds the key from the decision on: the registry's can go.
    st.registry->release(key, old);
    st.outcome_order.pop_front();
  }
}

const std::map<std::string, uint32_t>& sizes_of(self_ptr self,
                                                const committed_view::reader& fleet) {
  auto& st = self->state;
  if (st.sizes_at != fleet.fleet_changes()) {
    st.sizes = active_sizes(fleet.state());
    st.sizes_at = fleet.fleet_changes();
  }
  return st.sizes;
}

void release_reservation(self_ptr self, const digest& id) {
  auto& st = self->state;
  if (!st.window) {
    self->send(st.blast, atom::release_v, id);
    return;
  }
  std::lock_guard<std::mutex> guard{st.window->mtx};
  st.window->policy.settle(id);
}

void drop(self_ptr self, const digest& id, const caf::error& err) {
  auto& st = self->state;
  auto i = st.flights.find(id);
  if (i == st.flights.end())
    return;
  for (auto& w : i->second.waiters)
    w.deliver(err);
  if (i->second.reserved) // its reservation can go
    release_reservation(self, id);
  if (st.outcomes.count(id) == 0)
    st.registry->release(i->second.key, id);
  st.registry->ended(id);
  st.flights.erase(i);
}

} // namespace pipeline_detail

pipeline_state::~pipeline_state() {
  // Its flights end here (a restart rebuilds them and takes their keys again); the
  // journal's decided index answers for its outcomes' keys.
  if (registry) {
    for (auto& [id, f] : flights) {
      registry->release(f.key, id);
      registry->ended(id);
    }
    for (auto& [id, key] : outcome_order)
      registry->release(key, id);
  }
  if (stopping)
    return;
  for (auto& [id, f] : flights) {
    auto err = refuse(ec::unavailable,
                      "the pipeline stopped while this proposal was in flight; the journal "
                      "holds what it did (see in-doubt)",
                      f.m.trace);
    for (auto& w : f.waiters)
      if (w.pending())
        w.deliver(err);
    for (auto& a : f.approvers)
      if (a.pending())
        a.deliver(err);
  }
}

namespace {

/// Returns the recorded outcome of a proposal decided before a restart.
outcome rebuilt_outcome(const decided_proposal& d) {
  outcome o;
  o.proposal = d.proposal;
  o.decided_seq = seq_no{d.decided_seq};
  o.code = d.code;
  switch (d.status) {
    case decided::succeeded:
      o.status = proposal_status::succeeded;
      o.message = "recorded earlier (the journal's outcome)";
      break;
    case decided::read:
      o.status = proposal_status::read;
      o.message = "read-only (recorded earlier)";
      break;
    case decided::compensation_failed:
      o.status = proposal_status::compensation_failed;
      o.message = "recorded earlier (the journal's outcome): a compensation failed, see the "
                  "dead letters";
      break;
    case decided::running:
      // Allowed, with no outcome journaled and no flight here: it is in doubt.
      o.status = proposal_status::failed;
      o.code = ec::unavailable;
      o.message = "recorded earlier without an outcome (in doubt: see in-doubt)";
      break;
    default:
      o.status = proposal_status::failed;
      o.message = "recorded earlier (the journal's outcome)";
  }
  return o;
}

/// Returns why and for how long a touched service's circuit is open, if one is.
caf::optional<std::pair<std::string, caf::timespan>> open_circuit(self_ptr self,
                                                                  const proposal& p) {
  auto t = now(self);
  for (auto& service : touched_services(p, fleet_of(self).state())) {
    breaker_directory::entry e;
    if (!self->state.breakers->find(service, e))
      continue;
    if (e.state == breaker_state::forced_open)
      return std::make_pair("circuit of " + service + " is forced open by an admin",
                            caf::timespan{std::chrono::seconds{30}});
    if (e.state == breaker_state::open && t < e.open_until)
      return std::make_pair("circuit of " + service + " is open", e.open_until - t);
  }
  return caf::none;
}

} // namespace

caf::result<outcome> pipeline_detail::submit(self_ptr self, proposal p) {
  auto& st = self->state;
  auto id = proposal_digest(p);
  trace_id trace{0};
  for (int i = 0; i < 8; ++i)
    trace.value = (trace.value << 8) | id.bytes[i];
  // A malformed key names nothing: refused before it is looked up (or journaled).
  if (!is_valid_id(p.idempotency_key))
    return refuse(ec::invalid_input, bad_key_message, trace);
  auto key = p.principal.value + "/" + p.idempotency_key;
  // The promise takes over the reply: make it only where the answer comes later.
  auto known = st.registry->holder(key);
  // The decision journaled earlier under this key, copied out of the journal's view.
  caf::optional<decided_proposal> earlier;
  auto decided_before = [&] {
    auto fleet = fleet_of(self);
    if (auto d = fleet.state().decided.find(idempotency_digest(p.principal, p.idempotency_key)))
      earlier = *d;
  };
  if (!known) {
    decided_before();
    if (earlier) // the decided index holds it: the registry need not
      known = earlier->proposal;
  }
  if (known) {
    if (*known != id)
      return refuse(ec::invalid_input, "idempotency key '" + p.idempotency_key
                                         + "' was used for another proposal", trace);
    if (auto f = st.flights.find(id); f != st.flights.end()) {
      auto rp = self->make_response_promise<outcome>();
      f->second.waiters.push_back(rp);
      return rp;
    }
    if (auto o = st.outcomes.find(id); o != st.outcomes.end())
      return o->second;
    if (!earlier)
      decided_before();
    if (earlier) {
      if (earlier->status == decided::refused)
        return refuse(earlier->code, "refused before (same idempotency key)", trace);
      return rebuilt_outcome(*earlier);
    }
  }
  // Taken atomically: another family may have taken the key since it was looked up.
  if (st.registry->claim(key, id) != id)
    return refuse(ec::invalid_input, "idempotency key '" + p.idempotency_key
                                       + "' was used for another proposal", trace);
  st.registry->running(id, st.family);
  auto rp = self->make_response_promise<outcome>();
  in_flight f;
  f.m = flight::start(std::move(p), id, trace);
  f.key = key;
  f.waiters.push_back(rp);
  auto& q = st.flights.emplace(id, std::move(f)).first->second.m.p; // the proposal, moved in
  auto has = [&st](const std::string& s) {
    breaker_directory::entry e;
    return st.breakers->find(s, e);
  };
  caf::error invalid;
  {
    auto fleet = fleet_of(self);
    invalid = validate(q, fleet.state(), has, st.settings.limits, now(self));
  }
  if (invalid)
    refuse_flight(self, id, refuse(ec::invalid_input, describe(invalid).message, trace));
  else if (auto open = open_circuit(self, q))
    refuse_flight(self, id, refuse(ec::circuit_open, open->first, trace, open->second));
  else
    check_authority(self, id);
  return rp;
}

namespace {

/// Derives the flight machine's settings from the pipeline's.
void machine_settings(pipeline_state& st) {
  auto& settings = st.settings;
  st.machine.approval_timeout = settings.approval_timeout;
  settings.limits.approval_timeout = settings.approval_timeout; // own windows are shorter
  st.machine.observation_window = settings.observation_window;
  st.machine.effector_timeout = settings.effector_timeout;
  st.machine.analysis_failure_limit = settings.analysis_failure_limit;
  st.machine.analysis_requires_data = settings.analysis_requires_data;
  st.machine.budget_window = settings.budget_window;
  st.machine.approvals = settings.approvals;
  st.machine.authority = settings.authority;
  st.machine.policy_version = settings.policy_version;
  st.analysis_timeout = settings.analysis_timeout;
}

/// Takes the policy a reload journaled: the next decision or approval runs under it.
void follow_policy(pipeline_state& st) {
  if (refresh(st.settings, st.settings_seen))
    machine_settings(st);
}

/// Follows committed entries (the journal's view has them already): the rebuilt flights a
/// late commit settles.
void follow(self_ptr self, const std::vector<journal_entry>& entries) {
  auto& st = self->state;
  for (auto& e : entries) {
    if (e.seq.value <= st.followed)
      continue;
    st.followed = e.seq.value;
    if (!st.rebuilt.empty())
      settle_rebuilt(self, e);
  }
}

} // namespace

pipeline_actor::behavior_type pipeline(pipeline_actor::stateful_pointer<pipeline_state> self,
                                       pipeline_settings settings, pipeline_deps deps,
                                       caf::timestamp epoch) {
  auto& st = self->state;
  st.settings = settings;
  st.journal = deps.journal;
  st.journal_behind = deps.journal_behind;
  st.authority = deps.authority;
  st.blast = deps.blast;
  st.window = deps.window;
  st.breakers = deps.breakers;
  st.guard = halt_guard{deps.conditions};
  st.view = deps.view;
  st.family = deps.family;
  st.registry = deps.registry ? deps.registry : std::make_shared<flight_registry>();
  st.store = deps.store;
  // The flights a restart interrupted are rebuilt from the journal's state of this moment
  // (a copy: the view moves on while the store is read), only where this node writes the
  // journal (a follower's leader runs them).
  bool rebuilds = deps.store && (!deps.writes || deps.writes());
  fleet_state at_start;
  if (rebuilds) {
    auto fleet = fleet_of(self);
    st.followed = fleet.state().seq;
    at_start = fleet.state();
  }
  refresh(st.settings, st.settings_seen); // a restart after a reload starts with its policy
  machine_settings(st);
  st.detector = deps.detector;
  st.epoch = epoch;
  st.start = self->clock().now();
  self->set_exit_handler([self](caf::exit_msg& msg) { // a kill never reaches it
    if (!msg.reason)
      return;
    self->state.stopping = true;
    self->quit(msg.reason);
  });
  // They go back into the machine: waiting for their approval (or expired), approved, or
  // rolled back (actors/flight/flight_recovery.hpp).
  if (rebuilds)
    rebuild_flights(self, *deps.store, at_start);
  if (!st.rebuilt.empty()) // a late commit of its predecessor's may settle them
    self->send(st.journal, atom::subscribe_v, caf::actor_cast<subscriber_actor>(self),
               seq_no{st.followed});
  return {
    [self](atom::committed, const std::vector<journal_entry>& entries) { follow(self, entries); },
    [self, gauge = deps.mailbox](atom::submit, proposal& p) -> caf::result<outcome> {
      if (gauge) // BACKLOG: its mailbox depth, sampled where proposals arrive
        gauge->sample(self);
      follow_policy(self->state);
      return submit(self, std::move(p));
    },
    [self](atom::approve, const approval& a) -> caf::result<seq_no> {
      follow_policy(self->state);
      return answer_approval(self, a);
    },
    [self](atom::interrupt, const interrupt& x) -> caf::result<seq_no> {
      return answer_interrupt(self, x);
    },
    [self](atom::pending) -> caf::result<std::vector<pending_approval>> {
      std::vector<pending_approval> out;
      for (auto& [id, f] : self->state.flights)
        if (f.m.at != flight::phase::deciding) {
          pending_approval x;
          x.proposal = id;
          x.principal = f.m.p.principal;
          x.level = f.m.p.level;
          x.mutations = f.m.p.mutations;
          x.expires = f.m.expires;
          x.awaiting = f.m.at == flight::phase::awaiting_approval;
          if (x.awaiting)
            x.approval_window = flight::window_of(f.m, self->state.machine);
          x.phase = flight::to_string(f.m.at);
          x.applied = static_cast<uint32_t>(f.m.done.size());
          if (f.m.at == flight::phase::observing) {
            x.window_from = f.m.window_from;
            x.window = self->state.machine.observation_window;
            x.window_service = f.m.window_service;
          }
          out.push_back(std::move(x));
        }
      return out;
    },
    [self](atom::enroll, const registration& r) -> caf::result<seq_no> { return enroll(self, r); },
    [self](atom::resolve, const doubt_resolution& r) -> caf::result<seq_no> {
      return resolve_doubt(self, r);
    },
    [self](atom::audit_ack, const audit_acknowledged& a) -> caf::result<seq_no> {
      return acknowledge_audit(self, a);
    },
    [self](atom::in_doubt) -> caf::result<std::vector<digest>> {
      return fleet_of(self).proj().in_doubt();
    },
    [self](atom::requeue, const dead_letter_command& cmd) -> caf::result<outcome> {
      return requeue_letter(self, cmd);
    },
    [self](atom::discard, const dead_letter_command& cmd) -> caf::result<seq_no> {
      return discard_letter(self, cmd);
    },
    [self](atom::effected, const digest& id, uint64_t token, const effector_result& r) {
      on_effected(self, id, token, r);
    },
    [self](atom::expire, const digest& id) {
      // A stale timer (the flight answered or finished meanwhile) changes nothing.
      drive(self, id, [](auto& m, auto& cx, auto& out) {
        return flight::approval_expired(m, cx, out);
      });
    },
    [self](atom::step, const digest& id) { analyze_window(self, id); },
    [self](atom::deadline, const digest&, uint64_t) { sweep(self); }, // the watchdog's timer
  };
}

} // namespace bulwark
