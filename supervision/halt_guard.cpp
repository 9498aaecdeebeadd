#include "supervision/halt_guard.hpp"

#include "messages/refusals.hpp"

namespace bulwark {

caf::expected<halt_guard::pass> halt_guard::admit(const digest& id,
                                                  const authority_verdict& verdict,
                                                  bool mutating, trace_id trace) const {
  if (!verdict.allowed)
    return refuse(verdict.code == ec::none ? ec::authority_denied : verdict.code,
                  verdict.reason, trace, verdict.retry_after);
  if (mutating && conditions_ && conditions_->journal_space_critical())
    return refuse(ec::audit_unavailable,
                  "JOURNAL-SPACE is critical: new proposals are refused before journal writes "
                  "start failing",
                  trace, caf::timespan{std::chrono::seconds{60}});
  return pass{id, mutating};
}

caf::expected<halt_guard::pass> halt_guard::governance_down(const digest& id, bool mutating,
                                                            const std::string& why,
                                                            trace_id trace) const {
  if (mutating) {
    count_refusal(protected_value::halt_guard);
    return refuse(ec::governance_failure, "authority unavailable: " + why, trace);
  }
  return pass{id, false};
}

} // namespace bulwark
