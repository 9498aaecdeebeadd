#pragma once

/// Separation of duties: who may approve or deny a proposal or a rollback. A pure rule,
/// applied where each approval is decided (the flight machine, the rollback executor), so
/// the embedding API, the console and the HTTP API get the same answers.

#include <array>
#include <cstdint>
#include <set>
#include <string>

#include "caf/optional.hpp"

#include "messages/enums.hpp"
#include "messages/error.hpp"
#include "messages/events.hpp"

namespace bulwark {

/// A principal's role for approvals: `admins` hold admin, `operators` operator.
enum class approver_role : uint8_t { none = 0, operator_ = 1, admin = 2 };

/// Returns "none", "operator" or "admin".
const char* to_string(approver_role x) noexcept;

/// Who may approve what ([authority] admins, operators, approver_role, allow_self_approval).
struct approval_policy {
  std::set<std::string> admins;    ///< role admin
  std::set<std::string> operators; ///< role operator
  /// The least role that may approve or deny a proposal (or rollback) of each level,
  /// by level 0-4 (level 0 never waits for an approval).
  std::array<approver_role, 5> least{approver_role::operator_, approver_role::operator_,
                                     approver_role::operator_, approver_role::operator_,
                                     approver_role::operator_};
  bool allow_self_approval = false; ///< may a proposer approve or deny its own proposal
};

/// Returns `principal`'s role: admin if it is one of `admins`, else operator if it is one
/// of `operators`, else none.
approver_role role_of(const approval_policy& policy, const std::string& principal);

/// What the rule says of one approval or denial.
struct approval_check {
  ec code = ec::none;     ///< none: it may; else AUTHORITY_DENIED
  std::string message;    ///< why not, naming the rule and the setting
  approver_role role = approver_role::none; ///< the approver's role
};

/// Checks an approval or denial by `approver` of a proposal of `level` made by `proposer`:
/// the approver must hold at least the level's role and, unless self-approval is allowed,
/// must not be the proposer.
approval_check check_approver(const approval_policy& policy, const std::string& approver,
                              const std::string& proposer, authority_level level);

/// What an approval or denial `check` allowed is journaled with (`approval_checked`): the
/// approver's role and own `grant`, and the gate the answer meets with its evidence:
/// HumanApproval and ExplicitConfirmation at level 1, HumanReview at level 2 (a denial
/// fails its gate). `actions` counts the changes the answer covers; `proposer` is empty
/// for a rollback (no proposer rule applies to it).
approval_checked approval_evidence(const approval_check& check, const digest& id,
                                   const std::string& approver, const std::string& proposer,
                                   bool approve, authority_level level, size_t actions,
                                   caf::optional<authority_level> grant);

} // namespace bulwark
