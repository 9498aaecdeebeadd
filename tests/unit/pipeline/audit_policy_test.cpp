// The rule of audit acknowledgements as a pure function: who may review a level-4 change,
// and the reason given for each proposal that is not waiting for a review.

#include <doctest/doctest.h>

#include "actors/pipeline/audit_policy.hpp"
#include "support/small_digest.hpp"

using namespace bulwark;

namespace {

using test::id;

approval_policy policy() {
  approval_policy p;
  p.admins = {"admin"};
  p.operators = {"ops", "ops-alice"};
  return p;
}

audit_queue queue() {
  audit_queue q;
  q.pending[id(1)] = audit_entry{principal_id{"ops"}, 10, 14, 2, 2, true, ec::none};
  q.running[id(2)] = audit_flight{principal_id{"agent"}, 20, 1};
  return q;
}

audit_acknowledged ack(const std::string& by, uint8_t n, std::string note = {}) {
  return audit_acknowledged{id(n), principal_id{by}, std::move(note)};
}

std::string refusal(const caf::error& err, ec code) {
  auto info = describe(err);
  CHECK(info.code == code);
  return info.message;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("audit policy: operators and admins review, nobody else, with a bounded note") {
  auto p = policy();
  CHECK(!check_reviewer(p, ack("ops-alice", 1)));
  CHECK(!check_reviewer(p, ack("admin", 1, std::string(max_audit_note, 'n'))));
  CHECK(has(refusal(check_reviewer(p, ack("agent", 1)), ec::authority_denied),
            "agent holds no approver role"));
  CHECK(has(refusal(check_reviewer(p, ack("", 1)), ec::invalid_input), "not a valid name"));
  CHECK(has(refusal(check_reviewer(p, ack("bad name", 1)), ec::invalid_input),
            "not a valid name"));
  CHECK(has(refusal(check_reviewer(p, ack("ops", 1, std::string(max_audit_note + 1, 'n'))),
                    ec::invalid_input),
            "longer than 4096 bytes"));
}

TEST_CASE("audit policy: a proposal in the queue, but not the reviewer's own by default") {
  auto p = policy();
  auto q = queue();
  CHECK(!check_reviewed(p, q, ack("ops-alice", 1), caf::none));
  CHECK(has(refusal(check_reviewed(p, q, ack("ops", 1), caf::none), ec::authority_denied),
            "ops made this proposal and may not acknowledge it"));
  p.allow_self_approval = true;
  CHECK(!check_reviewed(p, q, ack("ops", 1), caf::none));
}

TEST_CASE("audit policy: each proposal outside the queue is refused with the reason the "
          "journal gives") {
  auto p = policy();
  auto q = queue();
  auto why = [&](uint8_t n, const caf::optional<audit_trace>& t) {
    return refusal(check_reviewed(p, q, ack("ops-alice", n), t), ec::invalid_input);
  };
  CHECK(has(why(2, caf::none), "is still running"));
  CHECK(has(why(3, caf::none), "is not in the audit queue (see audit-pending)"));
  audit_trace t;
  CHECK(has(why(3, t), "no proposal with digest 03"));
  t.decided = true;
  t.level = authority_level::act;
  t.allowed = true;
  CHECK(has(why(3, t), "is a level-3 proposal: only level-4 proposals wait for a review"));
  t.level = authority_level::enforce;
  t.allowed = false;
  CHECK(has(why(3, t), "was refused at its decision"));
  t.allowed = true;
  t.finished = true;
  CHECK(has(why(3, t), "applied no change"));
  t.acknowledged_by = principal_id{"admin"};
  t.acknowledged_seq = 42;
  CHECK(has(why(3, t), "was acknowledged already, by admin (seq 42)"));
}
