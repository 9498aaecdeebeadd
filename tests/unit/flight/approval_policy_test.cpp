// Separation of duties as a pure rule: roles, the least role per level, no self-approval.

#include <doctest/doctest.h>

#include "actors/authority/approval_policy.hpp"

using namespace bulwark;

namespace {

approval_policy policy() {
  approval_policy p;
  p.admins = {"root"};
  p.operators = {"alice", "bob"};
  return p;
}

} // namespace

TEST_CASE("approvals: operators and admins approve, nobody else, and never their own") {
  auto p = policy();
  CHECK(check_approver(p, "alice", "agent", authority_level::assist).code == ec::none);
  CHECK(check_approver(p, "alice", "agent", authority_level::assist).role
        == approver_role::operator_);
  CHECK(check_approver(p, "root", "agent", authority_level::recommend).role
        == approver_role::admin);
  auto stranger = check_approver(p, "mallory", "agent", authority_level::assist);
  CHECK(stranger.code == ec::authority_denied);
  CHECK(stranger.message.find("holds no approver role") != std::string::npos);
  auto self = check_approver(p, "alice", "alice", authority_level::assist);
  CHECK(self.code == ec::authority_denied);
  CHECK(self.message.find("allow_self_approval") != std::string::npos);
  CHECK(check_approver(p, "root", "root", authority_level::assist).code
        == ec::authority_denied); // admins too
  p.allow_self_approval = true;
  CHECK(check_approver(p, "alice", "alice", authority_level::assist).code == ec::none);
}

TEST_CASE("approvals: a level that asks for an admin refuses an operator, naming the rule") {
  auto p = policy();
  p.least[2] = approver_role::admin;
  auto op = check_approver(p, "bob", "agent", authority_level::recommend);
  CHECK(op.code == ec::authority_denied);
  CHECK(op.message.find("needs the role admin") != std::string::npos);
  CHECK(op.message.find("bob is operator") != std::string::npos);
  CHECK(check_approver(p, "root", "agent", authority_level::recommend).code == ec::none);
  CHECK(check_approver(p, "bob", "agent", authority_level::assist).code == ec::none);
}
