// The authority's pure core: gates per level, grants with expiry, token buckets.

#include <doctest/doctest.h>

#include "actors/authority/authority_policy.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp t(int64_t seconds) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000 + seconds}};
}

proposal make(authority_level level, size_t mutations, const std::string& who = "agent") {
  proposal p;
  p.principal = principal_id{who};
  p.level = level;
  for (size_t i = 0; i < mutations; ++i)
    p.mutations.push_back(mutation{resource_id{"r" + std::to_string(i)}, "k", "v"});
  return p;
}

authority_config config(bool enforce = true) {
  authority_config cfg;
  cfg.enforce_enabled = enforce;
  cfg.grants = {{"agent", authority_level::enforce}, {"low", authority_level::assist}};
  return cfg;
}

} // namespace

TEST_CASE("each level reports its named gates in order") {
  CHECK(gates_of(authority_level::read_only)
        == std::vector<gate>{gate::transaction_read_only, gate::no_state_mutation});
  CHECK(gates_of(authority_level::assist)
        == std::vector<gate>{gate::human_approval, gate::per_action, gate::explicit_confirmation});
  CHECK(gates_of(authority_level::recommend)
        == std::vector<gate>{gate::atomic_batch, gate::human_review, gate::all_or_nothing});
  CHECK(gates_of(authority_level::act)
        == std::vector<gate>{gate::interruptible_execution, gate::human_observation,
                             gate::rollback_on_interrupt});
  CHECK(gates_of(authority_level::enforce)
        == std::vector<gate>{gate::no_human_intervention, gate::audit_only});
  size_t total = 0;
  for (int l = 0; l <= 4; ++l)
    total += gates_of(static_cast<authority_level>(l)).size();
  CHECK(total == 13);
}

TEST_CASE("the verdict table: level, grant and halt") {
  std::map<std::string, grant_state> none;
  struct row {
    authority_level level;
    size_t mutations;
    const char* who;
    bool enforce;
    bool halted;
    bool allowed;
    ec code;
  };
  const row rows[] = {
    {authority_level::read_only, 0, "agent", true, false, true, ec::none},
    {authority_level::read_only, 0, "agent", true, true, true, ec::none}, // reads go on
    {authority_level::assist, 1, "low", true, false, true, ec::none},
    {authority_level::recommend, 1, "low", true, false, false, ec::authority_denied}, // grant
    {authority_level::recommend, 5, "agent", true, false, true, ec::none},
    {authority_level::act, 3, "agent", true, false, true, ec::none},
    {authority_level::enforce, 1, "agent", true, false, true, ec::none},
    {authority_level::act, 1, "agent", true, true, false, ec::halted},
    {authority_level::assist, 1, "nobody", true, false, false, ec::authority_denied},
  };
  for (auto& r : rows) {
    CAPTURE(static_cast<int>(r.level));
    CAPTURE(r.who);
    auto v = evaluate(make(r.level, r.mutations, r.who), config(r.enforce), none, r.halted, t(0));
    CHECK(v.allowed == r.allowed);
    CHECK(v.code == r.code);
  }
}

TEST_CASE("a journaled grant wins until it expires, then the configured grant applies") {
  auto cfg = config();
  std::map<std::string, grant_state> journaled{
    {"low", grant_state{authority_level::act, t(100)}},
    {"temp", grant_state{authority_level::act, t(100)}}};
  CHECK(effective_grant("low", cfg, journaled, t(99)) == authority_level::act);
  CHECK(effective_grant("low", cfg, journaled, t(100)) == authority_level::assist);
  CHECK(effective_grant("temp", cfg, journaled, t(50)) == authority_level::act);
  CHECK(effective_grant("temp", cfg, journaled, t(101)) == authority_level::read_only);
  CHECK(!effective_grant("nobody", cfg, journaled, t(0)));
}

TEST_CASE("the token bucket refills with time and names the wait") {
  token_bucket b;
  for (int i = 0; i < 3; ++i)
    CHECK(!b.take(t(0), 1.0, 3.0));
  auto wait = b.take(t(0), 1.0, 3.0);
  REQUIRE(wait);
  CHECK(*wait == caf::timespan{1s});
  CHECK(!b.take(t(1), 1.0, 3.0));
  CHECK(b.take(t(1), 1.0, 3.0));
  CHECK(!b.take(t(100), 1.0, 3.0)); // refills up to the burst only
  CHECK(b.tokens() == doctest::Approx(2.0));
}

TEST_CASE("the adaptive rate limit shrinks with the degradation level") {
  CHECK(adaptive_share(0) == doctest::Approx(1.0));
  CHECK(adaptive_share(1) == doctest::Approx(0.5));
  CHECK(adaptive_share(2) == doctest::Approx(0.25));
  CHECK(adaptive_share(7) == doctest::Approx(0.25)); // anything above critical is critical
  // At a quarter of a 4-token burst, a principal gets one proposal at once, not four.
  token_bucket b;
  CHECK(!b.take(t(0), 4.0 * adaptive_share(2), 4.0 * adaptive_share(2)));
  CHECK(b.take(t(0), 4.0 * adaptive_share(2), 4.0 * adaptive_share(2)));
}
