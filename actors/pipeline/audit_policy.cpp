#include "actors/pipeline/audit_policy.hpp"

#include <string>

namespace bulwark {

namespace {

/// Why proposal `name`, not in the queue, cannot be acknowledged.
std::string absence(const std::string& name, const audit_queue& queue, const digest& id,
                    const caf::optional<audit_trace>& trace) {
  auto p = "proposal " + name;
  if (queue.running.count(id) != 0)
    return p + " is still running: it waits for a review once it finished";
  if (!trace)
    return p + " is not in the audit queue (see audit-pending)";
  if (trace->acknowledged_by)
    return p + " was acknowledged already, by " + trace->acknowledged_by->value + " (seq "
           + std::to_string(trace->acknowledged_seq) + ")";
  if (!trace->decided)
    return "no proposal with digest " + name + " is journaled";
  if (trace->level != authority_level::enforce)
    return p + " is a level-" + std::to_string(static_cast<int>(trace->level))
           + " proposal: only level-4 proposals wait for a review (a person took part in "
             "the others)";
  if (!trace->allowed)
    return p + " was refused at its decision: it changed nothing to review";
  if (trace->finished && trace->applied == 0)
    return p + " applied no change: there is nothing to review";
  return p + " is not in the audit queue (see audit-pending)";
}

} // namespace

caf::error check_reviewer(const approval_policy& policy, const audit_acknowledged& ack) {
  if (!is_valid_id(ack.by.value))
    return refuse(ec::invalid_input, "the reviewer is not a valid name");
  if (ack.note.size() > max_audit_note)
    return refuse(ec::invalid_input, "the note is longer than "
                                       + std::to_string(max_audit_note) + " bytes");
  if (role_of(policy, ack.by.value) == approver_role::none)
    return refuse(ec::authority_denied,
                  ack.by.value + " holds no approver role (authority.operators or "
                                 "authority.admins) and may not acknowledge level-4 changes");
  return {};
}

caf::error check_reviewed(const approval_policy& policy, const audit_queue& queue,
                          const audit_acknowledged& ack,
                          const caf::optional<audit_trace>& trace) {
  auto i = queue.pending.find(ack.proposal);
  if (i == queue.pending.end())
    return refuse(ec::invalid_input, absence(to_hex(ack.proposal), queue, ack.proposal, trace));
  if (!policy.allow_self_approval && i->second.principal.value == ack.by.value)
    return refuse(ec::authority_denied,
                  ack.by.value + " made this proposal and may not acknowledge it "
                                 "(authority.allow_self_approval is false)");
  return {};
}

} // namespace bulwark
