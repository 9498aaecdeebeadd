#include "actors/admission/admission.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "messages/commands.hpp"

namespace bulwark {

namespace {

using self_ptr = admission_actor::stateful_pointer<admission_state>;

/// Whether an answer counts as a failure of its principal (bad input or a failed run).
bool failed(const outcome& o) {
  return o.status == proposal_status::failed;
}

void finish(self_ptr self, uint64_t ticket, bool failure);

/// Hands every proposal that may run now to the pipeline.
void pump(self_ptr self) {
  auto& st = self->state;
  auto ready = st.policy.dispatch();
  if (st.depth)
    st.depth->store(st.policy.queued(), std::memory_order_relaxed);
  for (auto ticket : ready) {
    auto& e = st.entries.at(ticket);
    self->request(st.pipeline, caf::infinite, atom::submit_v, e.p)
      .then(
        [self, ticket](const outcome& o) {
          self->state.entries.at(ticket).reply.deliver(o);
          finish(self, ticket, failed(o));
        },
        [self, ticket](const caf::error& err) {
          self->state.entries.at(ticket).reply.deliver(err);
          finish(self, ticket, code_of(err) == ec::invalid_input);
        });
  }
}

void finish(self_ptr self, uint64_t ticket, bool failure) {
  auto& st = self->state;
  auto principal = st.entries.at(ticket).p.principal.value;
  st.entries.erase(ticket);
  if (st.policy.finished(ticket, failure))
    spdlog::warn("admission: principal {} quarantined after repeated failures", principal);
  pump(self);
}

caf::result<outcome> submit(self_ptr self, proposal& p, uint8_t cls) {
  auto& st = self->state;
  if (st.conditions)
    st.policy.set_level(static_cast<degradation>(std::min<uint8_t>(
      st.conditions->degradation_level(), 2)));
  auto c = static_cast<admission_class>(std::min<uint8_t>(cls, 2));
  auto ticket = ++st.next_ticket;
  auto v = st.policy.offer(ticket, p.principal.value, c);
  if (!v.accepted) {
    spdlog::info("admission: shed a proposal of {} ({}): {}", p.principal.value, to_string(c),
                 v.reason);
    return refuse(v.quarantined ? ec::authority_denied : ec::overloaded, v.reason, trace_id{},
                  v.retry_after);
  }
  auto rp = self->make_response_promise<outcome>();
  st.entries.emplace(ticket, admission_entry{std::move(p), rp});
  pump(self);
  return rp;
}

} // namespace

admission_actor::behavior_type admission(admission_actor::stateful_pointer<admission_state> self,
                                         admission_limits limits, pipeline_actor pipeline,
                                         std::shared_ptr<const node_conditions> conditions,
                                         std::shared_ptr<std::atomic<uint64_t>> depth) {
  auto& st = self->state;
  st.depth = std::move(depth);
  st.policy = admission_policy{limits};
  st.pipeline = std::move(pipeline);
  st.conditions = std::move(conditions);
  return {
    [self](atom::submit, proposal& p, uint8_t cls) -> caf::result<outcome> {
      return submit(self, p, cls);
    },
    [self](atom::release, const principal_id& who) -> caf::result<bool> {
      auto released = self->state.policy.release(who.value);
      if (released)
        spdlog::warn("admission: principal {} released from quarantine", who.value);
      return released;
    },
    [self](atom::state) -> caf::result<uint64_t, uint64_t, uint64_t, std::string> {
      auto& p = self->state.policy;
      std::string q;
      for (auto& who : p.quarantined())
        q += (q.empty() ? "" : ",") + who;
      return {p.queued(), p.in_flight(), p.refused(), q};
    },
  };
}

} // namespace bulwark
