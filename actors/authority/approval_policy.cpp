#include "actors/authority/approval_policy.hpp"

namespace bulwark {

const char* to_string(approver_role x) noexcept {
  switch (x) {
    case approver_role::none: return "none";
    case approver_role::operator_: return "operator";
    case approver_role::admin: return "admin";
  }
  return "none";
}

approver_role role_of(const approval_policy& policy, const std::string& principal) {
  if (policy.admins.count(principal) != 0)
    return approver_role::admin;
  if (policy.operators.count(principal) != 0)
    return approver_role::operator_;
  return approver_role::none;
}

approval_check check_approver(const approval_policy& policy, const std::string& approver,
                              const std::string& proposer, authority_level level) {
  approval_check out;
  out.role = role_of(policy, approver);
  auto index = static_cast<size_t>(level);
  auto least = index < policy.least.size() ? policy.least[index] : approver_role::admin;
  if (out.role == approver_role::none) {
    out.code = ec::authority_denied;
    out.message = approver + " may not approve or deny: it holds no approver role "
                             "(authority.operators or authority.admins)";
  } else if (static_cast<uint8_t>(out.role) < static_cast<uint8_t>(least)) {
    out.code = ec::authority_denied;
    out.message = "a level-" + std::to_string(index) + " approval or denial needs the role "
                  + to_string(least) + " (authority.approver_role); " + approver + " is "
                  + to_string(out.role);
  } else if (!policy.allow_self_approval && approver == proposer) {
    out.code = ec::authority_denied;
    out.message = approver + " made this proposal and may not approve or deny it "
                             "(authority.allow_self_approval is false)";
  }
  return out;
}

approval_checked approval_evidence(const approval_check& check, const digest& id,
                                   const std::string& approver, const std::string& proposer,
                                   bool approve, authority_level level, size_t actions,
                                   caf::optional<authority_level> grant) {
  approval_checked out;
  out.proposal = id;
  out.approver = principal_id{approver};
  out.approve = approve;
  out.role = to_string(check.role);
  out.grant = grant;
  auto who = approver + " (role " + out.role + ", "
             + (grant ? "grant level " + std::to_string(static_cast<int>(*grant))
                      : std::string{"no grant"})
             + ")";
  // A rollback's answer has no proposer rule: its order is its orderer's own approval.
  auto self = proposer.empty()      ? std::string{}
              : approver == proposer ? std::string{"; its own proposal "
                                                   "(authority.allow_self_approval)"}
                                     : "; proposed by " + proposer;
  auto verb = std::string{approve ? "approved" : "denied"};
  if (level == authority_level::assist) {
    out.gates.push_back({gate::human_approval, approve, verb + " by " + who + self});
    if (approve)
      out.gates.push_back({gate::explicit_confirmation, true,
                           "the approval named the proposal's digest " + to_hex(id)});
  } else if (level == authority_level::recommend) {
    out.gates.push_back({gate::human_review, approve,
                         "the batch of " + std::to_string(actions) + " action"
                           + (actions == 1 ? "" : "s") + " was reviewed and " + verb + " by "
                           + who + self});
  }
  return out;
}

} // namespace bulwark
