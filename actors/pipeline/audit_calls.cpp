// The pipeline's audit acknowledgements: an operator's review of what a level-4 proposal
// did, journaled as `audit_acknowledged` where the journal is written. The rule is
// actors/pipeline/audit_policy.hpp; the queue is the journal's (`fleet_state::audit`).

#include <cstring>

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/audit_policy.hpp"
#include "actors/pipeline/pipeline_impl.hpp"
#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/record.hpp"

namespace bulwark::pipeline_detail {

namespace {

/// Decodes the payload of stored event bytes whose header was read already.
template <class Payload>
caf::error payload_at(seq_no seq, const uint8_t* bytes, size_t size, Payload& x) {
  if (decode(bytes + record_header_size, size - record_header_size, x))
    return refuse(ec::integrity_violation,
                  "record " + std::to_string(seq.value) + " does not decode");
  return {};
}

/// What the journal holds of proposal `id`: its latest decision, outcome and review. One
/// scan by record type (the proposal's digest is the first field of the three payloads,
/// so only its own records are decoded); run only to say why an acknowledgement is refused.
caf::expected<audit_trace> trace_of(journal_store& store, const digest& id) {
  audit_trace out;
  caf::error bad;
  auto err = store.scan(seq_no{1}, store.head(), [&](seq_no seq, const uint8_t*,
                                                     const uint8_t* bytes, size_t size) {
    if (size < record_header_size + id.bytes.size()
        || std::memcmp(bytes + record_header_size, id.bytes.data(), id.bytes.size()) != 0)
      return true;
    switch (static_cast<event_type>(bytes[1])) {
      case event_type::proposal_decided: {
        proposal_decided x;
        if ((bad = payload_at(seq, bytes, size, x)))
          return false;
        out.decided = true;
        out.level = x.level;
        out.allowed = x.allowed;
        break;
      }
      case event_type::proposal_finished: {
        proposal_finished x;
        if ((bad = payload_at(seq, bytes, size, x)))
          return false;
        out.finished = true;
        out.applied = x.applied;
        break;
      }
      case event_type::audit_acknowledged: {
        audit_acknowledged x;
        if ((bad = payload_at(seq, bytes, size, x)))
          return false;
        out.acknowledged_by = x.by;
        out.acknowledged_seq = seq.value;
        break;
      }
      default:
        break;
    }
    return true;
  });
  store.release_resident(); // the scan's pages need not stay resident
  if (err || bad)
    return err ? err : bad;
  return out;
}

} // namespace

caf::result<seq_no> acknowledge_audit(self_ptr self, const audit_acknowledged& ack) {
  auto& st = self->state;
  auto& policy = st.settings.approvals;
  if (auto err = check_reviewer(policy, ack))
    return err;
  auto fleet = fleet_of(self); // held to the end: the queue is the journal's
  auto& queue = fleet.state().audit;
  caf::optional<audit_trace> trace;
  if (queue.pending.count(ack.proposal) == 0 && queue.running.count(ack.proposal) == 0
      && st.store) {
    if (auto t = trace_of(*st.store, ack.proposal))
      trace = std::move(*t);
    else
      spdlog::warn("pipeline: cannot read the journal for proposal {}: {}",
                   to_hex(ack.proposal), describe(t.error()).message);
  }
  if (auto err = check_reviewed(policy, queue, ack, trace))
    return err;
  if (st.reviewing.count(ack.proposal) != 0)
    return refuse(ec::invalid_input,
                  "proposal " + to_hex(ack.proposal) + " is being acknowledged already");
  st.reviewing.insert(ack.proposal);
  auto rp = self->make_response_promise<seq_no>();
  auto id = ack.proposal;
  auto by = ack.by.value;
  append(self, {make_event(event_type::audit_acknowledged, now(self), ack)},
         [self, rp, id, by](const appended& done) mutable {
           self->state.reviewing.erase(id);
           spdlog::info("pipeline: level-4 proposal {} acknowledged by {} (seq {})",
                        to_hex(id), by, done.first.value);
           rp.deliver(done.first);
         },
         [self, rp, id](caf::error& err) mutable {
           self->state.reviewing.erase(id);
           rp.deliver(err);
         });
  return rp;
}

} // namespace bulwark::pipeline_detail
