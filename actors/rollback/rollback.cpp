// The rollback executor's shell: governance checks, planning from the journal, the
// write-ahead plan, approval below level 4, effector calls through the breakers, and the
// one final transaction.

#include "actors/rollback/rollback.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/authority/authority_policy.hpp"
#include "actors/incident/incident_policy.hpp"
#include "messages/commands.hpp"
#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/record.hpp"

namespace bulwark {

namespace {

using rollback_ptr = rollback_actor::stateful_pointer<rollback_state>;

const digest zero_digest{};

rollback_status status_of(const digest& id, std::string status, uint32_t reverted = 0) {
  rollback_status s;
  s.rollback = id;
  s.status = std::move(status);
  s.reverted = reverted;
  return s;
}

service_lookup services_of(const fleet_state& st) {
  return [&st](const std::string& resource) -> const std::string* {
    auto i = st.resources.find(resource);
    return i == st.resources.end() ? nullptr : &i->second.service;
  };
}

/// Follows one committed entry: the conflict index.
void follow(rollback_state& st, const journal_entry& e) {
  if (e.seq.value <= st.index.to())
    return;
  action_applied a;
  if (e.ev.type == event_type::action_applied && !decode(e.ev.payload, a))
    st.index.add(e.seq.value, a.resource.value, a.key);
  else
    st.index.skip(e.seq.value);
}

void answer(rollback_ptr self, const digest& id, const rollback_status& s) {
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end())
    return;
  for (auto& w : i->second.waiters)
    w.deliver(s);
  self->state.flights.erase(i);
}

void fail_all(rollback_ptr self, const digest& id, const caf::error& err) {
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end())
    return;
  for (auto& w : i->second.waiters)
    w.deliver(err);
  self->state.flights.erase(i);
}

/// Journals every done compensation, and every failed one with its dead letter and P1
/// incident, with the finish in one transaction.
void finish(rollback_ptr self, const digest& id, ec code, std::string message) {
  auto& f = self->state.flights.at(id);
  rollback_outcome out;
  {
    auto view = fleet_of(self);
    auto& fleet = view.state();
    auto region_of = [&fleet](const std::string& resource) {
      auto i = fleet.resources.find(resource);
      return i == fleet.resources.end() ? std::string{} : i->second.region;
    };
    out = rollback_outcome_of(f.plan, f.steps, f.next, f.failed, code, std::move(message),
                              region_of, rollback_now(self));
  }
  if (!f.failed.empty())
    spdlog::error("rollback: {}: {}", to_hex(id), out.message);
  auto evs = std::move(out.records);
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(evs))
    .then(
      [self, id, out](const appended& a) {
        auto s = status_of(id, out.status, out.reverted);
        s.code = out.code;
        s.message = out.message;
        s.seq = a.last;
        answer(self, id, s);
      },
      [self, id](caf::error& err) {
        spdlog::error("rollback: the outcome of {} could not be journaled: {}", to_hex(id),
                      describe(err).message);
        fail_all(self, id, err);
      });
}

void run_next(rollback_ptr self, const digest& id);

/// Drops steps another rollback reverted meanwhile (two incidents, one culprit), so no
/// action is reverted twice; checked when execution starts.
void drop_reverted(rollback_ptr self, rollback_flight& f) {
  auto fleet = fleet_of(self);
  auto& reverted = fleet.state().reverted;
  f.steps.erase(std::remove_if(f.steps.begin(), f.steps.end(),
                               [&](const rollback_step& s) {
                                 return reverted.count(s.reverts.value) != 0;
                               }),
                f.steps.end());
}

/// Starts the effector calls of an approved (or level-4) rollback.
void execute(rollback_ptr self, const digest& id) {
  drop_reverted(self, self->state.flights.at(id));
  run_next(self, id);
}

void on_effected(rollback_ptr self, const digest& id, uint64_t step, const effector_result& r) {
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end() || i->second.next != step || i->second.awaiting)
    return;
  // A failed step does not stop the others: each undoes an independent change.
  if (!r.ok)
    i->second.failed.push_back(
      rollback_failure{i->second.next, r.code == ec::none ? ec::effector_failed : r.code,
                       r.message});
  ++i->second.next;
  run_next(self, id);
}

void run_next(rollback_ptr self, const digest& id) {
  auto& f = self->state.flights.at(id);
  breaker_directory::entry e;
  // A step whose service has no effector fails as a compensation; the others still run.
  while (f.next < f.steps.size() && !self->state.breakers->find(f.steps[f.next].service, e)) {
    f.failed.push_back(rollback_failure{f.next, ec::unavailable,
                                        "no effector is registered for service "
                                          + f.steps[f.next].service});
    ++f.next;
  }
  if (f.next == f.steps.size())
    return finish(self, id, ec::none,
                  f.steps.empty() ? "nothing left to revert: another rollback reverted it"
                                  : "reverted " + std::to_string(f.steps.size()) + " actions");
  auto& s = f.steps[f.next];
  auto timeout = self->state.settings.effector_timeout;
  effector_request req{s.service, mutation{s.resource, s.key, s.current}, true, s.restore,
                       to_hex(id) + "/" + std::to_string(f.next), rollback_now(self) + timeout};
  auto step = static_cast<uint64_t>(f.next);
  self->request(e.handle, timeout, atom::execute_v, std::move(req))
    .then([self, id, step](effector_result& r) { on_effected(self, id, step, r); },
          [self, id, step](caf::error& err) {
            auto info = describe(err);
            on_effected(self, id, step,
                        effector_result{false, info.code == ec::none ? ec::timeout : info.code,
                                        info.message, caf::none});
          });
}

/// Journals the plan (write-ahead), then runs it or waits for an approval.
void start(rollback_ptr self, const digest& id) {
  auto& f = self->state.flights.at(id);
  auto ev = make_event(event_type::rollback_requested, rollback_now(self), f.plan);
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(ev))
    .then(
      [self, id](const appended& a) {
        auto& f = self->state.flights.at(id);
        if (f.plan.level != authority_level::enforce && !f.steps.empty()) {
          f.awaiting = true;
          self->delayed_send(self, self->state.settings.approval_timeout, atom::expire_v, id);
          auto s = status_of(id, "awaiting-approval");
          s.seq = a.last;
          s.message = "an operator must approve rollback " + to_hex(id);
          for (auto& w : f.waiters)
            w.deliver(s);
          f.waiters.clear();
          return;
        }
        execute(self, id);
      },
      [self, id](caf::error& err) { fail_all(self, id, err); });
}

/// Plans an order; the flight is created only for a plan that can run. Only a pass from
/// the halt guard opens this path, so no rollback can skip the halt and governance check.
caf::expected<digest> plan(rollback_ptr self, const rollback_order& o, const halt_guard::pass&) {
  auto& st = self->state;
  std::vector<seq_no> seqs = o.seqs;
  std::vector<seq_no> left;
  {
    auto fleet = fleet_of(self); // released before the store is read
    if (o.incident != zero_digest && seqs.empty()) {
      auto i = fleet.state().incidents.find(o.incident);
      if (i == fleet.state().incidents.end())
        return refuse(ec::invalid_input, "unknown incident " + to_hex(o.incident));
      seqs = i->second.culprits;
    }
    // One culprit behind two incidents (a cascade): what another rollback reverted is
    // done; an incident whose culprits are all reverted gets an empty, immediate rollback.
    for (auto s : seqs)
      if (fleet.state().reverted.count(s.value) == 0)
        left.push_back(s);
  }
  if (seqs.empty())
    return refuse(ec::invalid_input, "nothing to roll back: no seqs given");
  if (o.incident != zero_digest) {
    if (left.empty()) {
      auto id = rollback_id(o.incident, {});
      auto& f = st.flights[id];
      f.plan = rollback_requested{id, o.incident, o.by, o.level, {},
                                  o.justification + " (culprits already reverted)"};
      return id;
    }
    seqs = std::move(left);
  }
  auto head = st.store->head();
  auto lo = std::min_element(seqs.begin(), seqs.end())->value;
  if (auto err = cover(*st.store, st.index, lo))
    return err;
  auto records = load_records(*st.store, seqs);
  if (!records)
    return records.error();
  auto fleet = fleet_of(self);
  auto steps = plan_rollback(seqs, *records, st.index, services_of(fleet.state()),
                             fleet.state().reverted, head);
  if (!steps)
    return steps.error();
  std::vector<seq_no> reverts;
  for (auto& s : *steps)
    reverts.push_back(s.reverts);
  auto id = rollback_id(o.incident, reverts);
  auto level = o.level;
  if (level == authority_level::enforce && !st.settings.enforce_enabled)
    level = authority_level::assist; // level 4 disabled: a person decides
  auto& f = st.flights[id];
  f.plan = rollback_requested{id, o.incident, o.by, level, reverts, o.justification};
  f.steps = std::move(*steps);
  return id;
}

caf::result<rollback_status> order(rollback_ptr self, const rollback_order& o) {
  auto& st = self->state;
  if (o.level == authority_level::read_only)
    return refuse(ec::invalid_input, "a rollback changes resources: level 0 cannot run one");
  if (o.incident != zero_digest) {
    bool known = false;
    bool rolled_back = false;
    digest current{};
    {
      auto fleet = fleet_of(self);
      auto& incidents = fleet.state().incidents;
      if (auto i = incidents.find(o.incident); i != incidents.end()) {
        known = true;
        rolled_back = i->second.rollback_result == 1;
        current = i->second.rollback;
      }
    }
    if (rolled_back && o.seqs.empty())
      return status_of(current, "no-op"); // rolling back twice changes nothing
    if (known)
      if (auto f = st.flights.find(current); f != st.flights.end()) {
        // Only a promise made here answers the request: make none for the direct answer.
        if (f->second.awaiting)
          return status_of(f->first, "awaiting-approval");
        auto rp = self->make_response_promise<rollback_status>();
        f->second.waiters.push_back(rp);
        return rp;
      }
  }
  auto authority = st.authority->get();
  if (!authority)
    return st.guard.governance_down(o.incident, true, "no rollback runs", trace_id{}).error();
  auto rp = self->make_response_promise<rollback_status>();
  self->request(authority, std::chrono::seconds{2}, atom::state_v)
    .then(
      [self, rp, o](bool halted) mutable {
        // During a halt a rollback waits (it is ordered again at the release), unless an
        // admin orders it: an admin's explicit order runs one.
        authority_verdict v;
        bool admin = role_of(self->state.settings.approvals, o.by.value) == approver_role::admin;
        v.allowed = !halted || admin;
        if (!v.allowed) {
          v.code = ec::halted;
          v.reason = "the halt is engaged: the rollback waits for its release (an admin's "
                     "explicit order runs one now)";
        }
        auto pass = self->state.guard.admit(o.incident, v, true, trace_id{});
        if (!pass) {
          rp.deliver(pass.error());
          return;
        }
        auto id = plan(self, o, *pass);
        if (!id) {
          rp.deliver(id.error());
          return;
        }
        auto& f = self->state.flights.at(*id);
        f.waiters.push_back(rp);
        if (f.waiters.size() == 1)
          start(self, *id);
      },
      [self, rp, o](caf::error&) mutable {
        rp.deliver(self->state.guard
                     .governance_down(o.incident, true, "the authority did not answer", trace_id{})
                     .error());
      });
  return rp;
}

caf::result<rollback_status> decide(rollback_ptr self, const approval& a) {
  auto i = self->state.flights.find(a.proposal);
  if (i == self->state.flights.end() || !i->second.awaiting)
    return refuse(ec::invalid_input, "no rollback " + to_hex(a.proposal) + " awaits approval");
  if (!is_valid_id(a.approver.value))
    return refuse(ec::invalid_input, "approver is not a valid name");
  // The role is checked; the self rule is not: a principal's rollback order is its own
  // approval (a rollback restores journaled values; the orchestrator's waits for a person).
  auto who = check_approver(self->state.settings.approvals, a.approver.value, std::string{},
                            i->second.plan.level);
  if (who.code != ec::none)
    return refuse(who.code, who.message);
  // During a halt a rollback waits: only an admin's explicit approval runs one.
  if (a.approve && fleet_of(self).state().halted && who.role != approver_role::admin)
    return refuse(ec::halted, "the halt is engaged: only an admin's approval runs a rollback "
                              "now (" + a.approver.value + " is " + to_string(who.role) + ")");
  auto rp = self->make_response_promise<rollback_status>();
  auto& f = i->second;
  f.awaiting = false;
  f.waiters.push_back(rp);
  auto id = a.proposal;
  auto type = a.approve ? event_type::approval_granted : event_type::approval_denied;
  auto now = rollback_now(self);
  std::vector<event> evs;
  evs.push_back(make_event(type, now, approval_recorded{id, a.approver, a.note}));
  authority_config configured;
  configured.grants = self->state.settings.grants;
  auto grant = effective_grant(a.approver.value, configured, fleet_of(self).state().grants, now);
  evs.push_back(make_event(event_type::approval_checked, now,
                           approval_evidence(who, id, a.approver.value, std::string{},
                                             a.approve, f.plan.level, f.plan.reverts.size(),
                                             grant)));
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(evs))
    .then(
      [self, id, a](const appended&) {
        if (a.approve)
          return execute(self, id);
        finish(self, id, ec::authority_denied, "denied by " + a.approver.value);
      },
      [self, id](caf::error& err) { fail_all(self, id, err); });
  return rp;
}

/// At the release of a halt: orders the rollback of every open incident that has
/// culprits and no rollback yet (its order was refused while the halt was engaged).
/// From the journal's state, so a restart in between loses none.
void order_held(rollback_ptr self) {
  auto fleet = fleet_of(self);
  for (auto& [id, inc] : fleet.state().incidents) {
    bool open = inc.status == 1 || inc.status == 3;
    if (!open || inc.rollback != zero_digest || inc.culprits.empty())
      continue;
    rollback_order o{id, {}, principal_id{"bulwark"}, inc.rollback_level,
                     "ordered at the halt's release: held while the halt was engaged"};
    auto incident = id;
    self->request(caf::actor_cast<rollback_actor>(self), caf::infinite, atom::rollback_v, o)
      .then(
        [incident](const rollback_status& s) {
          spdlog::info("rollback: incident {} held during the halt: {}",
                       to_hex(incident).substr(0, 12), s.status);
        },
        [incident](caf::error& err) {
          spdlog::warn("rollback: incident {} held during the halt did not run: {}",
                       to_hex(incident).substr(0, 12), describe(err).message);
        });
  }
}

} // namespace

rollback_state::~rollback_state() {
  if (stopping)
    return;
  auto err = refuse(ec::unavailable, "the rollback executor stopped while this rollback was "
                                     "in progress; the journal holds what it reverted");
  for (auto& [id, f] : flights)
    for (auto& w : f.waiters)
      if (w.pending())
        w.deliver(err);
}

rollback_actor::behavior_type rollback(rollback_actor::stateful_pointer<rollback_state> self,
                                       rollback_settings settings, rollback_deps deps,
                                       caf::timestamp epoch) {
  auto& st = self->state;
  st.settings = settings;
  refresh(st.settings, st.settings_seen); // a restart after a reload starts with its policy
  st.journal = deps.journal;
  st.store = deps.store;
  st.authority = deps.authority;
  st.breakers = deps.breakers;
  st.guard = halt_guard{deps.conditions};
  st.view = deps.view;
  auto from = fleet_of(self).state().seq;
  st.started_at = from;
  st.index = rollback_index{from};
  st.epoch = epoch;
  st.start = self->clock().now();
  self->send(st.journal, atom::subscribe_v, caf::actor_cast<subscriber_actor>(self),
             seq_no{from});
  self->set_exit_handler([self](caf::exit_msg& msg) { // a kill never reaches it
    if (!msg.reason)
      return;
    self->state.stopping = true;
    self->quit(msg.reason);
  });
  st.writes = deps.writes;
  if (st.store && (!deps.writes || deps.writes()))
    close_unfinished(self);
  return {
    [self](atom::committed, const std::vector<journal_entry>& entries) {
      bool released = false;
      for (auto& e : entries) {
        follow(self->state, e);
        released |= e.ev.type == event_type::halt_released;
      }
      if (released && !fleet_of(self).state().halted
          && (!self->state.writes || self->state.writes()))
        order_held(self);
    },
    [self](atom::rollback, const rollback_order& o) {
      refresh(self->state.settings, self->state.settings_seen);
      return order(self, o);
    },
    [self](atom::approve, const approval& a) {
      refresh(self->state.settings, self->state.settings_seen);
      return decide(self, a);
    },
    [self](atom::pending) -> std::vector<digest> {
      std::vector<digest> out;
      for (auto& [id, f] : self->state.flights)
        if (f.awaiting)
          out.push_back(id);
      return out;
    },
    [self](atom::effected, const digest& id, uint64_t step, const effector_result& r) {
      on_effected(self, id, step, r);
    },
    [self](atom::expire, const digest& id) {
      auto i = self->state.flights.find(id);
      if (i == self->state.flights.end() || !i->second.awaiting)
        return;
      i->second.awaiting = false;
      auto ev = make_event(event_type::approval_expired, rollback_now(self),
                           approval_recorded{id, principal_id{"bulwark"}, "timeout"});
      self->request(self->state.journal, caf::infinite, atom::append_v, std::move(ev))
        .then([self, id](const appended&) {
                finish(self, id, ec::approval_expired, "nobody approved the rollback in time");
              },
              [self, id](caf::error& err) { fail_all(self, id, err); });
    },
  };
}

committed_view::reader fleet_of(rollback_actor::stateful_pointer<rollback_state> self) {
  return self->state.view->read();
}

caf::timestamp rollback_now(rollback_actor::stateful_pointer<rollback_state> self) {
  return self->state.epoch + (self->clock().now() - self->state.start);
}

} // namespace bulwark
