#include "actors/admission/admission.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "messages/commands.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

using admission_ptr = admission_actor::stateful_pointer<admission_state>;

/// Whether an answer counts as a failure of its principal (bad input or a failed run).
bool failed(const outcome& o) {
  return o.status == proposal_status::failed
         || o.status == proposal_status::compensation_failed;
}

/// Frees `ticket`'s slot and dispatches what may run now, then answers its caller: a
/// caller that submits again at once finds the places the dispatch gave back.
template <class Answer>
void finish(admission_ptr self, uint64_t ticket, bool failure, Answer answer);

/// Where proposal `p` goes: straight to the actor that runs its flight, else the
/// pipeline's door (which answers `UNAVAILABLE` while that actor restarts).
pipeline_actor pipeline_for(admission_ptr self, const proposal& p) {
  auto& deps = self->state.deps;
  if (deps.straight)
    if (auto a = deps.straight(p))
      return caf::actor_cast<pipeline_actor>(std::move(a));
  return deps.pipeline;
}

/// Hands every proposal that may run now to the pipeline; each gives its place back.
void pump(admission_ptr self) {
  auto& st = self->state;
  for (auto ticket : st.policy.dispatch()) {
    auto& e = st.entries.at(ticket);
    e.running = true;
    st.deps.gate->leave(e.p.principal.value);
    self->request(pipeline_for(self, e.p), caf::infinite, atom::submit_v, e.p)
      .then(
        [self, ticket](const outcome& o) { finish(self, ticket, failed(o), o); },
        [self, ticket](const caf::error& err) {
          // The pipeline died before answering (its supervisor restarts it). Not the
          // caller's own bounce from a dead admission, whose place the caller gives back:
          // this place was given back at dispatch.
          if (err == caf::sec::request_receiver_down)
            return finish(self, ticket, false,
                          refuse(ec::unavailable, "the pipeline restarted before answering; "
                                                  "the journal holds what ran (see in_doubt())"));
          finish(self, ticket, code_of(err) == ec::invalid_input, err);
        });
  }
}

/// The record of a quarantine or release of `who` by `by`.
event quarantine_record(admission_ptr self, const std::string& who, bool quarantined,
                        const std::string& by, std::string reason) {
  auto at = self->state.deps.now ? self->state.deps.now() : caf::make_timestamp();
  return make_event(event_type::quarantine_changed, at,
                    quarantine_changed{principal_id{who}, quarantined, principal_id{by},
                                       std::move(reason)});
}

/// Journals the quarantine of `who` (it is in force already: refusing more is safe).
void journal_quarantine(admission_ptr self, const std::string& who) {
  auto& st = self->state;
  if (!st.deps.journal)
    return;
  auto ev = quarantine_record(self, who, true, "admission",
                              std::to_string(st.policy.limits().quarantine_after)
                                + " consecutive failures");
  self->request(st.deps.journal, caf::infinite, atom::append_v, std::move(ev))
    .then([](const appended&) {},
          [who](const caf::error& err) {
            spdlog::error("admission: the quarantine of {} is not journaled: {}", who,
                          describe(err).message);
          });
}

/// Releases `who` once the release is journaled: without the journal, nothing changes.
caf::result<bool> release(admission_ptr self, const principal_id& who, const principal_id& by) {
  auto& st = self->state;
  if (st.policy.quarantined().count(who.value) == 0)
    return false;
  auto apply = [self, who] {
    auto& st = self->state;
    auto released = st.policy.release(who.value);
    if (released) {
      spdlog::warn("admission: principal {} released from quarantine", who.value);
      st.deps.gate->set_quarantined(st.policy.quarantined());
    }
    return released;
  };
  if (!st.deps.journal)
    return apply();
  auto rp = self->make_response_promise<bool>();
  self->request(st.deps.journal, caf::infinite, atom::append_v,
                quarantine_record(self, who.value, false, by.value, "released by an admin"))
    .then([rp, apply](const appended&) mutable { rp.deliver(apply()); },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

template <class Answer>
void finish(admission_ptr self, uint64_t ticket, bool failure, Answer answer) {
  auto& st = self->state;
  auto i = st.entries.find(ticket);
  auto principal = std::move(i->second.p.principal.value);
  auto reply = std::move(i->second.reply);
  st.entries.erase(i);
  if (st.policy.finished(ticket, failure)) {
    spdlog::warn("admission: principal {} quarantined after repeated failures", principal);
    st.deps.gate->set_quarantined(st.policy.quarantined());
    journal_quarantine(self, principal);
  }
  pump(self);
  reply.deliver(std::move(answer));
}

/// Queues a proposal whose caller holds a place at the gate.
caf::result<outcome> enqueue(admission_ptr self, proposal& p, uint8_t cls) {
  auto& st = self->state;
  if (st.deps.mailbox)
    st.deps.mailbox->sample(self);
  if (st.deps.conditions)
    st.policy.set_level(static_cast<degradation>(std::min<uint8_t>(
      st.deps.conditions->degradation_level(), 2)));
  auto c = static_cast<admission_class>(std::min<uint8_t>(cls, 2));
  auto ticket = ++st.next_ticket;
  auto v = st.policy.offer(ticket, p.principal.value, c);
  if (!v.accepted) {
    // Rare: the gate admits by the same bounds; a level change in between lands here.
    st.deps.gate->leave(p.principal.value);
    st.deps.gate->count_refusal(v.quarantined);
    spdlog::info("admission: shed a proposal of {} ({}): {}", p.principal.value, to_string(c),
                 v.reason);
    return refuse(v.quarantined ? ec::authority_denied : ec::overloaded, v.reason, trace_id{},
                  v.retry_after);
  }
  auto rp = self->make_response_promise<outcome>();
  st.entries.emplace(ticket, admission_entry{std::move(p), rp, false});
  pump(self);
  return rp;
}

/// Queues a proposal whose caller did not pass the gate (the console): reserve first.
caf::result<outcome> submit(admission_ptr self, proposal& p, uint8_t cls) {
  auto& st = self->state;
  auto c = static_cast<admission_class>(std::min<uint8_t>(cls, 2));
  auto level = st.deps.conditions ? static_cast<degradation>(std::min<uint8_t>(
                                      st.deps.conditions->degradation_level(), 2))
                                  : degradation::normal;
  auto pass = st.deps.gate->try_enter(p.principal.value, c, level);
  if (!pass.admitted) {
    spdlog::info("admission: shed a proposal of {} ({}): {}", p.principal.value, to_string(c),
                 pass.reason);
    return refuse(pass.code, pass.reason, trace_id{}, pass.retry_after);
  }
  return enqueue(self, p, cls);
}

} // namespace

admission_state::~admission_state() {
  // Going down (a crash, a kill or the engine's stop): nobody may hear silence.
  if (!deps.gate)
    return; // died before it started: it holds nothing
  for (auto& [ticket, e] : entries) {
    if (!e.reply.pending())
      continue;
    if (e.running) {
      // The pipeline knows the proposal by its key: the repeat joins the running flight
      // (or returns its outcome) and answers the caller directly.
      e.reply.delegate(deps.pipeline, atom::submit_v, std::move(e.p));
      continue;
    }
    deps.gate->leave(e.p.principal.value);
    e.reply.deliver(refuse(ec::unavailable,
                           "admission restarted before the proposal ran; submit it again",
                           trace_id{}, policy.retry_base()));
  }
}

admission_actor::behavior_type admission(admission_actor::stateful_pointer<admission_state> self,
                                         admission_limits limits, admission_deps deps) {
  auto& st = self->state;
  st.policy = admission_policy{limits};
  st.policy.restore_quarantine(deps.gate->quarantined()); // a restart keeps the quarantine
  st.deps = std::move(deps);
  return {
    [self](atom::submit, proposal& p, uint8_t cls) -> caf::result<outcome> {
      return submit(self, p, cls);
    },
    [self](atom::submit, proposal& p, uint8_t cls, bool reserved) -> caf::result<outcome> {
      return reserved ? enqueue(self, p, cls) : submit(self, p, cls);
    },
    [self](atom::release, const principal_id& who, const principal_id& by) -> caf::result<bool> {
      return release(self, who, by);
    },
    [self](atom::state) -> caf::result<uint64_t, uint64_t, uint64_t, std::string> {
      auto& st = self->state;
      std::string q;
      for (auto& who : st.policy.quarantined())
        q += (q.empty() ? "" : ",") + who;
      return {st.policy.queued(), st.policy.in_flight(), st.deps.gate->refused().total(), q};
    },
  };
}

} // namespace bulwark
