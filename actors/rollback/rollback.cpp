// The rollback executor's shell: the governance check of an order, planning from the
// journal, approvals and the halt's release; each planned rollback runs as a compensation
// flight (rollback_runs.cpp carries out its commands).

#include "actors/rollback/rollback.hpp"
#include "actors/rollback/rollback_runs.hpp"

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
#include "persistence/record.hpp"

namespace bulwark {

using namespace rollback_detail;

namespace {

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

/// A rollback's plan and its compensating steps, newest first.
struct planned {
  rollback_requested plan;
  std::vector<rollback_step> steps;
};

/// Plans an order; a flight starts only for a plan that can run. Only a pass from the
/// halt guard opens this path, so no rollback can skip the halt and governance check.
caf::expected<planned> plan(rollback_ptr self, const rollback_order& o, const halt_guard::pass&) {
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
    if (left.empty())
      return planned{rollback_requested{rollback_id(o.incident, {}), o.incident, o.by, o.level,
                                        {}, o.justification + " (culprits already reverted)"},
                     {}};
    seqs = std::move(left);
  }
  auto steps = plan_steps(self, seqs);
  if (!steps)
    return steps.error();
  std::vector<seq_no> reverts;
  for (auto& s : *steps)
    reverts.push_back(s.reverts);
  auto id = rollback_id(o.incident, reverts);
  auto level = o.level;
  if (level == authority_level::enforce && !st.settings.enforce_enabled)
    level = authority_level::assist; // level 4 disabled: a person decides
  return planned{rollback_requested{id, o.incident, o.by, level, reverts, o.justification},
                 std::move(*steps)};
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
        if (f->second.c.at == flight::phase::awaiting_approval)
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
        auto p = plan(self, o, *pass);
        if (!p) {
          rp.deliver(p.error());
          return;
        }
        launch(self, std::move(p->plan), std::move(p->steps), rp);
      },
      [self, rp, o](caf::error&) mutable {
        rp.deliver(self->state.guard
                     .governance_down(o.incident, true, "the authority did not answer", trace_id{})
                     .error());
      });
  return rp;
}

caf::result<rollback_status> decide(rollback_ptr self, const approval& a) {
  auto id = a.proposal;
  auto i = self->state.flights.find(id);
  if (i == self->state.flights.end())
    return refuse(ec::invalid_input, "no rollback " + to_hex(id) + " awaits approval");
  auto r = drive(self, id, [&](auto& c, auto& cx, auto& out) {
    return flight::answer(c, a.approver, a.approve, a.note, cx, out);
  });
  if (r)
    return refuse(r.code, r.message);
  // The approver hears the outcome: its answer's append is under way, the flight lives.
  auto rp = self->make_response_promise<rollback_status>();
  self->state.flights.at(id).waiters.push_back(rp);
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

namespace rollback_detail {

caf::expected<std::vector<rollback_step>> plan_steps(rollback_ptr self,
                                                     const std::vector<seq_no>& seqs) {
  auto& st = self->state;
  if (seqs.empty())
    return refuse(ec::invalid_input, "nothing to roll back: no seqs given");
  auto head = st.store->head();
  auto lo = std::min_element(seqs.begin(), seqs.end())->value;
  if (auto err = cover(*st.store, st.index, lo))
    return err;
  auto records = load_records(*st.store, seqs);
  if (!records)
    return records.error();
  auto fleet = fleet_of(self);
  return plan_rollback(seqs, *records, st.index, services_of(fleet.state()),
                       fleet.state().reverted, head);
}

} // namespace rollback_detail

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
  update(self, true); // a restart after a reload starts with its policy
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
    recover_unfinished(self);
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
      update(self);
      return order(self, o);
    },
    [self](atom::approve, const approval& a) {
      update(self);
      return decide(self, a);
    },
    [self](atom::pending) -> std::vector<digest> {
      std::vector<digest> out;
      for (auto& [id, f] : self->state.flights)
        if (f.c.at == flight::phase::awaiting_approval)
          out.push_back(id);
      return out;
    },
    [self](atom::effected, const digest& id, uint64_t token, const effector_result& r) {
      on_effected(self, id, token, r);
    },
    [self](atom::expire, const digest& id) {
      // A rollback answered meanwhile does not wait any more: the refusal is dropped.
      drive(self, id, [](auto& c, auto& cx, auto& out) {
        return flight::approval_expired(c, cx, out);
      });
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
