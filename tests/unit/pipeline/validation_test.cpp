// Validation of a proposal's own approval window, and the proposal digest with and
// without one (the digests journaled before windows existed stay the same).

#include <doctest/doctest.h>

#include "actors/pipeline/validation.hpp"

using namespace bulwark;

namespace {

caf::timestamp at_ms(int64_t ms) {
  return caf::timestamp{std::chrono::milliseconds{ms}};
}

fleet_state one_gate() {
  fleet_state f;
  resource_state r;
  r.service = "svc";
  r.region = "north";
  f.resources["r0"] = r;
  return f;
}

proposal sample(authority_level level = authority_level::assist) {
  proposal p;
  p.idempotency_key = "k";
  p.principal = principal_id{"ops"};
  p.level = level;
  p.services = {"svc"};
  p.regions = {"north"};
  p.mutations = {mutation{resource_id{"r0"}, "version", "v1"}};
  p.justification = "j";
  p.deadline = at_ms(1000 + 30000);
  return p;
}

/// The refusal's message, or "" when `p` is valid at 1000 ms with a node window of 60 s.
std::string check(const proposal& p) {
  input_limits limits;
  limits.approval_timeout = std::chrono::seconds{60};
  limits.max_deadline = std::chrono::minutes{10};
  auto err = validate(p, one_gate(), [](const std::string&) { return true; }, limits,
                      at_ms(1000));
  if (!err)
    return "";
  CHECK(describe(err).code == ec::invalid_input);
  return describe(err).message;
}

caf::timespan ms(int64_t n) {
  return std::chrono::milliseconds{n};
}

} // namespace

TEST_CASE("validation: a proposal's own approval window is refused where it cannot be "
          "honoured, naming the field") {
  auto p = sample();
  CHECK(check(p) == "");
  p.approval_window = ms(60000); // the node's own length: taken
  CHECK(check(p) == "");
  p.approval_window = ms(1);
  CHECK(check(p) == "");
  p.approval_window = ms(0);
  CHECK(check(p) == "approval_window_ms must be longer than zero");
  p.approval_window = ms(-5);
  CHECK(check(p) == "approval_window_ms must be longer than zero");
  p.approval_window = ms(60001);
  CHECK(check(p) == "approval_window_ms (60001 ms) is longer than the node's approval window "
                    "(60000 ms, authority.approval_timeout_ms): it cannot be honoured");
  // The window and the execution time after it must fit the longest deadline together.
  p.approval_window = ms(60000);
  p.deadline = at_ms(1000 + 9 * 60000 + 1);
  CHECK(check(p) == "approval_window_ms (60000 ms) and the execution time after it (540001 ms) "
                    "do not fit together in pipeline.max_deadline_ms (600000 ms)");
  p.deadline = at_ms(1000 + 9 * 60000);
  CHECK(check(p) == "");
  // Only levels 1 and 2 wait for an approval.
  for (auto level : {authority_level::read_only, authority_level::act, authority_level::enforce}) {
    auto q = sample(level);
    q.approval_window = ms(1000);
    if (level == authority_level::read_only)
      q.mutations.clear();
    CHECK(check(q).find("approval_window_ms: a level-" + std::to_string(static_cast<int>(level))
                        + " proposal waits for no approval")
          == 0);
  }
  auto batch = sample(authority_level::recommend);
  batch.approval_window = ms(1000);
  CHECK(check(batch) == "");
}

TEST_CASE("validation: the approval window is content, the deadline is not") {
  auto p = sample();
  // Without a window, the bytes are those of the proposal before windows existed: the
  // canonical encoding of its fields with the deadline zeroed.
  CHECK(to_hex(proposal_digest(p))
        == "e51417055adbe934efbe83fef5384c057b57f62a44ca33b6edf2235390888e40");
  auto later = p;
  later.deadline = at_ms(99999);
  CHECK(proposal_digest(later) == proposal_digest(p));
  auto windowed = p;
  windowed.approval_window = ms(5000);
  CHECK(proposal_digest(windowed) != proposal_digest(p));
  auto same = windowed;
  same.deadline = at_ms(77777);
  CHECK(proposal_digest(same) == proposal_digest(windowed));
  auto other = windowed;
  other.approval_window = ms(5001);
  CHECK(proposal_digest(other) != proposal_digest(windowed));
}
