#include "actors/flight/approval_policy.hpp"

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

} // namespace bulwark
