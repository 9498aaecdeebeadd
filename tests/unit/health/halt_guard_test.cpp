// The halt guard: the one check of halt, governance and journal space before a mutation.

#include <doctest/doctest.h>

#include <type_traits>

#include "messages/refusals.hpp"
#include "supervision/halt_guard.hpp"

using namespace bulwark;

static_assert(!std::is_default_constructible_v<halt_guard::pass>,
              "only the guard makes passes");
static_assert(!std::is_constructible_v<halt_guard::pass, digest, bool>,
              "only the guard makes passes");

namespace {

digest id_of(uint8_t b) {
  digest d;
  d.bytes.fill(b);
  return d;
}

authority_verdict allowed() {
  authority_verdict v;
  v.allowed = true;
  return v;
}

} // namespace

TEST_CASE("the halt guard passes what the authority allowed, for that proposal only") {
  halt_guard g;
  auto p = g.admit(id_of(1), allowed(), true, trace_id{7});
  REQUIRE(p);
  CHECK(p->proposal() == id_of(1));
  CHECK(p->mutating());
  auto read = g.admit(id_of(2), allowed(), false, trace_id{7});
  REQUIRE(read);
  CHECK(!read->mutating());
}

TEST_CASE("the halt guard keeps the authority's refusal: a halt stays HALTED") {
  halt_guard g;
  authority_verdict halted;
  halted.code = ec::halted;
  halted.reason = "halted by admin: drill";
  auto p = g.admit(id_of(1), halted, true, trace_id{});
  REQUIRE(!p);
  CHECK(describe(p.error()).code == ec::halted);
  CHECK(describe(p.error()).message == "halted by admin: drill");
  authority_verdict unnamed; // a refusal without a code is still a refusal
  CHECK(describe(g.admit(id_of(1), unnamed, true, trace_id{}).error()).code
        == ec::authority_denied);
}

TEST_CASE("without governance a mutation fails closed and is counted, a read goes on") {
  halt_guard g;
  auto before = refusals(protected_value::halt_guard);
  auto p = g.governance_down(id_of(3), true, "not running", trace_id{});
  REQUIRE(!p);
  CHECK(describe(p.error()).code == ec::governance_failure);
  CHECK(describe(p.error()).message == "authority unavailable: not running");
  CHECK(refusals(protected_value::halt_guard) == before + 1);
  auto read = g.governance_down(id_of(3), false, "not running", trace_id{});
  REQUIRE(read);
  CHECK(!read->mutating());
  CHECK(refusals(protected_value::halt_guard) == before + 1);
}

TEST_CASE("while JOURNAL-SPACE is critical new mutations are refused before writes fail") {
  auto c = std::make_shared<node_conditions>();
  halt_guard g{c};
  CHECK(g.admit(id_of(1), allowed(), true, trace_id{}));
  c->set_journal_space_critical(true);
  auto p = g.admit(id_of(1), allowed(), true, trace_id{});
  REQUIRE(!p);
  CHECK(describe(p.error()).code == ec::audit_unavailable);
  CHECK(describe(p.error()).message.find("JOURNAL-SPACE") != std::string::npos);
  CHECK(describe(p.error()).retry_after);
  CHECK(g.admit(id_of(1), allowed(), false, trace_id{})); // reads go on
  c->set_journal_space_critical(false);
  CHECK(g.admit(id_of(1), allowed(), true, trace_id{}));
}
