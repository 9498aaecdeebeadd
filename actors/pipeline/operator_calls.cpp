// The pipeline's operator calls: approvals (levels 1 and 2) and interrupts (level 3),
// each an input of the flight machine, the resolution of actions in doubt, and resource
// registration.

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/pipeline_impl.hpp"
#include "actors/pipeline/recovery.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::pipeline_detail {

namespace {

/// Feeds approval `a` into its flight's machine; `rp` is answered on the approval's
/// commit, or now with the machine's refusal (then a reservation made for it goes).
void give_answer(self_ptr self, const approval& a, caf::typed_response_promise<seq_no> rp) {
  auto& st = self->state;
  auto i = st.flights.find(a.proposal);
  if (i == st.flights.end()) {
    rp.deliver(refuse(ec::invalid_input,
                      "no proposal awaits approval with digest " + to_hex(a.proposal)));
    return;
  }
  i->second.approvers.push_back(rp);
  auto r = drive(self, a.proposal, [&](auto& m, auto& cx, auto& out) {
    return flight::answer(m, a.approver, a.approve, a.note, cx, out);
  });
  if (r) {
    if (auto j = st.flights.find(a.proposal); j != st.flights.end()) {
      j->second.approvers.pop_back();
      if (a.approve && j->second.reserved) {
        j->second.reserved = false;
        release_reservation(self, a.proposal);
      }
    }
    rp.deliver(refuse(r.code, r.message));
  }
}

} // namespace

caf::result<seq_no> answer_approval(self_ptr self, const approval& a) {
  auto& st = self->state;
  auto i = st.flights.find(a.proposal);
  if (i == st.flights.end() || i->second.m.at != flight::phase::awaiting_approval)
    return refuse(ec::invalid_input,
                  "no proposal awaits approval with digest " + to_hex(a.proposal));
  // The approver's answer comes with the approval's commit (a denial's at once: it rides
  // the outcome's transaction).
  if (!a.approve || i->second.m.p.mutations.empty()) {
    auto rp = self->make_response_promise<seq_no>();
    give_answer(self, a, rp);
    return rp;
  }
  // An approval starts the execution, which is charged to the fleet-wide blast budget:
  // first what the machine would refuse (on a copy: nothing changes), then the budget.
  scope_request req;
  {
    auto fleet = fleet_of(self);
    auto copy = i->second.m;
    std::vector<flight::command> ignored;
    if (auto r = flight::answer(copy, a.approver, true, a.note, context_of(self, fleet),
                                ignored))
      return refuse(r.code, r.message);
    req = scope_of(i->second.m.p, a.proposal, fleet.state(), sizes_of(self, fleet), true);
  }
  auto rp = self->make_response_promise<seq_no>();
  auto trace = i->second.m.trace;
  self->request(st.blast, st.settings.governance_timeout, atom::check_v, std::move(req))
    .then(
      [self, a, rp, trace](const scope_verdict& sv) mutable {
        if (sv.allowed) {
          auto i = self->state.flights.find(a.proposal);
          if (i != self->state.flights.end())
            i->second.reserved = true;
          else // gone meanwhile: its room goes at once
            release_reservation(self, a.proposal);
          give_answer(self, a, rp);
        } else
          rp.deliver(refuse(ec::blast_radius_exceeded,
                            sv.reason + "; the approval is not taken and the proposal still "
                                        "awaits approval",
                            trace));
      },
      [self, id = a.proposal, rp, trace](caf::error& err) mutable {
        // A check that timed out may still reserve when it runs: this release follows it
        // into blast radius's mailbox (one sender, in order) and drops what it reserved.
        self->send(self->state.blast, atom::release_v, id);
        rp.deliver(refuse(ec::governance_failure,
                          "blast radius unavailable: " + describe(err).message, trace));
      });
  return rp;
}

caf::result<seq_no> answer_interrupt(self_ptr self, const interrupt& x) {
  if (self->state.flights.count(x.proposal) == 0)
    return refuse(ec::invalid_input,
                  "no level-3 proposal is running with digest " + to_hex(x.proposal));
  auto r = drive(self, x.proposal, [&](auto& m, auto& cx, auto& out) {
    return flight::interrupt(m, x.by, cx, out);
  });
  if (r)
    return refuse(r.code, r.message);
  return seq_no{0};
}

caf::result<seq_no> resolve_doubt(self_ptr self, const doubt_resolution& r) {
  auto& st = self->state;
  if (!is_valid_id(r.by.value))
    return refuse(ec::invalid_input, "the resolver is not a valid name");
  if (r.reason.empty())
    return refuse(ec::invalid_input, "a resolution needs a reason");
  if (role_of(st.settings.approvals, r.by.value) == approver_role::none)
    return refuse(ec::authority_denied,
                  r.by.value + " holds no approver role ([authority] operators or admins) and "
                               "may not resolve actions in doubt");
  auto name = to_hex(r.proposal);
  auto fleet = fleet_of(self); // held to the end: the records are built from it
  auto p = fleet.state().proposals.find(r.proposal);
  if (p == fleet.state().proposals.end() || p->second.started == 0
      || st.registry->runner(r.proposal)) // running: not in doubt
    return refuse(ec::invalid_input, "proposal " + name + " has no action in doubt (see in-doubt)");
  if (st.settling.count(r.proposal) != 0)
    return refuse(ec::invalid_input, "proposal " + name + " is being resolved already");
  if (!st.store)
    return refuse(ec::unavailable, "the journal cannot be read here: nothing resolved");
  auto all = doubtful_actions(*st.store, fleet.state());
  if (!all)
    return all.error();
  std::vector<doubtful_action> mine;
  for (auto& a : *all)
    if (a.proposal == r.proposal)
      mine.push_back(std::move(a));
  if (mine.empty())
    return refuse(ec::invalid_input, "proposal " + name + " has no action in doubt (see in-doubt)");
  auto at = now(self);
  auto how = r.applied ? " as applied: " : " as not applied: ";
  auto why = "in doubt, resolved by " + r.by.value + how + r.reason;
  std::vector<event> evs;
  uint32_t applied = mine.front().applied;
  for (auto& a : mine) {
    if (r.applied) {
      // Its effect record would claim the key's value from here on: refused when another
      // change of the resource was journaled after this action started.
      auto res = fleet.state().resources.find(a.change.resource.value);
      if (res != fleet.state().resources.end() && res->second.last_change > a.started.value)
        return refuse(ec::invalid_input,
                      "resource " + a.change.resource.value + " changed after step "
                        + std::to_string(a.step) + " started (seq "
                        + std::to_string(res->second.last_change)
                        + "): its value is journaled already; resolve it as not applied");
      caf::optional<std::string> old;
      if (a.journaled_value)
        old = *a.journaled_value;
      evs.push_back(make_event(event_type::action_applied, at,
                               action_applied{a.proposal, a.step, a.change.resource,
                                              a.change.key, std::move(old), a.change.value}));
      ++applied;
    } else {
      evs.push_back(make_event(event_type::action_failed, at,
                               action_failed{a.proposal, a.step, a.change, ec::unavailable,
                                             "not applied: " + why}));
    }
  }
  bool whole = applied == mine.front().steps;
  evs.push_back(make_event(event_type::proposal_finished, at,
                           proposal_finished{r.proposal, whole,
                                             whole ? ec::none : ec::unavailable, applied, 0,
                                             why}));
  st.settling.insert(r.proposal);
  auto rp = self->make_response_promise<seq_no>();
  auto id = r.proposal;
  append(self, std::move(evs),
         [self, rp, id](const appended& ack) mutable {
           self->state.settling.erase(id);
           rp.deliver(ack.last);
         },
         [self, rp, id](caf::error& err) mutable {
           self->state.settling.erase(id);
           rp.deliver(err);
         });
  return rp;
}

caf::result<seq_no> enroll(self_ptr self, const registration& r) {
  if (!is_valid_id(r.resource.value) || !is_valid_id(r.service) || !is_valid_id(r.region))
    return refuse(ec::invalid_input, "resource, service and region must be valid names");
  {
    auto fleet = fleet_of(self);
    auto& resources = fleet.state().resources;
    if (auto i = resources.find(r.resource.value); i != resources.end() && !i->second.retired)
      return refuse(ec::invalid_input,
                    "resource '" + r.resource.value + "' is registered already");
  }
  resource_registered x{r.resource, r.service, r.region, r.attributes};
  auto rp = self->make_response_promise<seq_no>();
  append(self, {make_event(event_type::resource_registered, now(self), x)},
         [rp](const appended& ack) mutable { rp.deliver(ack.last); },
         [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

} // namespace bulwark::pipeline_detail
