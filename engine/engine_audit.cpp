// The audit part of the embedding API: the queue of level-4 changes waiting for a review,
// and an operator's acknowledgement (journaled where the journal is written).

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "bulwark/engine.hpp"
#include "engine/engine_impl.hpp"

namespace bulwark {

audit_queue_info engine::audit_pending() {
  auto& d = *impl_;
  audit_queue_info out;
  auto view = d.committed();
  if (!view)
    return out;
  auto* st = &view->state();
  out.head_seq = st->seq;
  for (auto& [id, e] : st->audit.pending)
    out.items.push_back({to_hex(id), e.principal.value, e.decided_seq, e.finished_seq, e.steps,
                         e.applied, e.succeeded ? "succeeded" : "failed",
                         e.code == ec::none ? "" : to_string(e.code)});
  std::sort(out.items.begin(), out.items.end(), [](const audit_item& x, const audit_item& y) {
    return x.finished_seq < y.finished_seq;
  });
  return out;
}

result engine::audit_ack(const std::string& by, const std::string& proposal_hex,
                         const std::string& note) {
  auto& d = *impl_;
  digest id;
  if (!parse_digest(proposal_hex, id))
    return impl::invalid_input("proposal digest must be 64 hex characters");
  auto ack = audit_acknowledged{id, principal_id{by}, note};
  // Clustered, the cluster actor hands it to the pipeline of the node that writes.
  auto r = d.cluster ? d.call<seq_no>(d.cluster, atom::audit_ack_v, std::move(ack))
                     : d.call<seq_no>(d.pipeline, atom::audit_ack_v, std::move(ack));
  d.pump();
  if (!r)
    return impl::to_result(r.error());
  result out;
  out.ok = true;
  out.proposal = to_hex(id);
  out.seq = r->value;
  return out;
}

} // namespace bulwark
