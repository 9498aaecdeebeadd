// The pipeline's operator calls: approvals (levels 1 and 2), interrupts (level 3) and
// resource registration.

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/pipeline_impl.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::pipeline_detail {

caf::result<seq_no> answer_approval(self_ptr self, const approval& a) {
  auto& st = self->state;
  auto i = st.flights.find(a.proposal);
  if (i == st.flights.end() || i->second.phase != flight_phase::awaiting_approval)
    return refuse(ec::invalid_input,
                  "no proposal awaits approval with digest " + to_hex(a.proposal));
  if (!is_valid_id(a.approver.value))
    return refuse(ec::invalid_input, "approver is not a valid name");
  auto& f = i->second;
  auto id = a.proposal;
  auto type = a.approve ? event_type::approval_granted : event_type::approval_denied;
  std::vector<event> events{
    make_event(type, now(self), approval_recorded{id, a.approver, a.note}, f.trace)};
  if (!a.approve) {
    f.pending = std::move(events);
    f.final_status = proposal_status::denied;
    f.final_message = "denied by " + a.approver.value;
    finish(self, id);
    return seq_no{0};
  }
  f.phase = flight_phase::running;
  auto rp = self->make_response_promise<seq_no>();
  append(self, std::move(events),
         [self, id, rp](const appended& ack) mutable {
           rp.deliver(ack.last);
           run_next(self, id);
         },
         [self, id, rp](caf::error& err) mutable {
           rp.deliver(err);
           drop(self, id, refuse(ec::audit_unavailable, "approval could not be journaled"));
         });
  return rp;
}

caf::result<seq_no> answer_interrupt(self_ptr self, const interrupt& x) {
  auto& st = self->state;
  auto i = st.flights.find(x.proposal);
  if (i == st.flights.end() || i->second.p.level != authority_level::act
      || (i->second.phase != flight_phase::running && i->second.phase != flight_phase::observing))
    return refuse(ec::invalid_input,
                  "no level-3 proposal is running with digest " + to_hex(x.proposal));
  auto& f = i->second;
  if (f.interrupted)
    return refuse(ec::invalid_input, "the proposal was interrupted already");
  f.interrupted = true;
  f.pending.push_back(make_event(event_type::interrupted, now(self),
                                 bulwark::interrupted{x.proposal, x.by,
                                                      static_cast<uint32_t>(f.done.size())},
                                 f.trace));
  // Between steps nothing runs: roll back now. During a call: when it returns.
  if (f.phase == flight_phase::observing)
    run_next(self, x.proposal);
  return seq_no{0};
}

caf::result<seq_no> enroll(self_ptr self, const registration& r) {
  auto& st = self->state;
  if (!is_valid_id(r.resource.value) || !is_valid_id(r.service) || !is_valid_id(r.region))
    return refuse(ec::invalid_input, "resource, service and region must be valid names");
  if (auto i = st.proj.state().resources.find(r.resource.value);
      i != st.proj.state().resources.end() && !i->second.retired)
    return refuse(ec::invalid_input, "resource '" + r.resource.value + "' is registered already");
  resource_registered x{r.resource, r.service, r.region, r.attributes};
  auto rp = self->make_response_promise<seq_no>();
  append(self, {make_event(event_type::resource_registered, now(self), x)},
         [rp](const appended& ack) mutable { rp.deliver(ack.last); },
         [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

} // namespace bulwark::pipeline_detail
