// The fleet-wide blast budget as the projection keeps it: charges, their end, and what
// gives them back.

#include <doctest/doctest.h>

#include "persistence/codec.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"
#include "support/small_digest.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp t(int64_t seconds) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000 + seconds}};
}

using test::id;

event charged(uint8_t proposal, std::vector<std::string> resources, int64_t at,
              const std::string& region = "north") {
  budget_charged c;
  c.proposal = id(proposal);
  c.principal = principal_id{"agent"};
  for (auto& r : resources)
    c.entries.push_back(budget_entry{resource_id{r}, "coaster", region});
  c.window = std::chrono::hours{1};
  c.until = t(at) + c.window;
  return make_event(event_type::budget_charged, t(at), c);
}

struct fixture {
  projection p;
  uint64_t seq = 0;
  fixture() {
    for (auto* r : {"c1", "c2", "c3", "c4"})
      apply(make_event(event_type::resource_registered, t(0),
                       resource_registered{resource_id{r}, "coaster", "north", {}}));
  }
  void apply(const event& e) {
    REQUIRE_FALSE(p.apply(seq_no{++seq}, e));
  }
  size_t charged_count() const {
    auto i = p.state().budget.find("coaster");
    return i == p.state().budget.end() ? 0 : i->second.size();
  }
};

} // namespace

TEST_CASE("budget: a charge holds its resources with region, proposal and end") {
  fixture f;
  f.apply(charged(1, {"c1", "c2"}, 10));
  REQUIRE(f.charged_count() == 2);
  auto& c = f.p.state().budget.at("coaster").at("c1");
  CHECK(c.region == "north");
  CHECK(c.proposal == id(1));
  CHECK(c.until == t(10) + 1h);
}

TEST_CASE("budget: a later charge drops the ones that ended before it began") {
  fixture f;
  f.apply(charged(1, {"c1"}, 0));
  f.apply(charged(2, {"c2"}, 1800));
  CHECK(f.charged_count() == 2);
  f.apply(charged(3, {"c3"}, 3600)); // c1's charge ended at 3600: gone
  CHECK(f.charged_count() == 2);
  CHECK(f.p.state().budget.at("coaster").count("c1") == 0);
}

TEST_CASE("budget: a compensation gives its resource back") {
  fixture f;
  f.apply(charged(1, {"c1", "c2"}, 10));
  rollback_applied undo{id(1), seq_no{9}, resource_id{"c1"}, "mode", std::string{"a"},
                        std::string{"normal"}};
  f.apply(make_event(event_type::rollback_applied, t(20), undo));
  CHECK(f.charged_count() == 1);
  CHECK(f.p.state().budget.at("coaster").count("c2") == 1);
}

TEST_CASE("budget: a flight that left the fleet as it found it gives its whole charge back") {
  fixture f;
  f.apply(charged(1, {"c1", "c2"}, 10));
  f.apply(charged(2, {"c3"}, 11));
  // Proposal 2 applied one step and kept it: its charge stays.
  f.apply(make_event(event_type::proposal_finished, t(12),
                     proposal_finished{id(2), false, ec::effector_failed, 1, 0, "kept"}));
  CHECK(f.charged_count() == 3);
  // Proposal 1 applied one step and compensated it: nothing of it is left.
  f.apply(make_event(event_type::proposal_finished, t(13),
                     proposal_finished{id(1), false, ec::halted, 1, 1, "undone"}));
  CHECK(f.charged_count() == 1);
  CHECK(f.p.state().budget.at("coaster").count("c3") == 1);
}

TEST_CASE("budget: the charges survive a snapshot's encoding") {
  fixture f;
  f.apply(charged(1, {"c1", "c2"}, 10, "south"));
  fleet_state back;
  REQUIRE_FALSE(decode(f.p.encode_state(), back));
  projection copy{back};
  CHECK(copy.state_digest() == f.p.state_digest());
  CHECK(copy.state().budget.at("coaster").at("c2").region == "south");
}
