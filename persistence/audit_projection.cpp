#include "persistence/audit_projection.hpp"

namespace bulwark {

void track_decision(audit_queue& audit, uint64_t seq, const proposal_decided& x) {
  if (!x.allowed || x.level != authority_level::enforce)
    return;
  audit.running[x.proposal] = audit_flight{x.principal, seq,
                                           static_cast<uint32_t>(x.mutations.size())};
}

void queue_finished(audit_queue& audit, uint64_t seq, const proposal_finished& x) {
  auto i = audit.running.find(x.proposal);
  if (i == audit.running.end())
    return;
  // Nothing applied, nothing to review: the first step failed, or the flight stopped
  // (a halt, a lowered grant) before it.
  if (x.applied > 0)
    audit.pending[x.proposal] = audit_entry{i->second.principal, i->second.decided_seq, seq,
                                            i->second.steps, x.applied, x.succeeded, x.code};
  audit.running.erase(i);
}

void remove_reviewed(audit_queue& audit, const audit_acknowledged& x) {
  audit.pending.erase(x.proposal);
}

} // namespace bulwark
