// The blast-radius pure core: boundaries, rounding, empty fleets, the fleet-wide budget.

#include <doctest/doctest.h>

#include "actors/blast_radius/blast_radius_policy.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp t(int64_t seconds) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000 + seconds}};
}

digest id_of(const std::string& who, size_t first) {
  digest d;
  for (size_t i = 0; i < who.size() && i < 16; ++i)
    d.bytes[i] = static_cast<uint8_t>(who[i]);
  d.bytes[31] = static_cast<uint8_t>(first);
  return d;
}

/// `n` resources from r<first> of service svc, all in region north (`fleet` of them).
scope_request req(size_t n, uint32_t fleet, const std::string& who = "agent",
                  size_t first = 0) {
  scope_request r;
  r.subject.principal = principal_id{who};
  r.subject.services = {"svc"};
  r.subject.regions = {"north"};
  r.id = id_of(who, first);
  for (size_t i = first; i < first + n; ++i) {
    r.subject.mutations.push_back(mutation{resource_id{"r" + std::to_string(i)}, "k", "v"});
    r.touched_services.push_back("svc");
    r.touched_regions.push_back("north");
  }
  r.sizes["svc"] = fleet;
  r.region_sizes["svc/north"] = fleet;
  return r;
}

/// Journaled charges of resources r<from> .. r<from + n - 1> (svc, north) until `until`.
budget_map charges(size_t from, size_t n, caf::timestamp until) {
  budget_map out;
  for (size_t i = from; i < from + n; ++i)
    out["svc"]["r" + std::to_string(i)] = budget_charge{"north", digest{}, until};
  return out;
}

} // namespace

TEST_CASE("percent allowance: floor of the share, at least one, zero for an empty fleet") {
  CHECK(percent_allowance(100, 5.0) == 5);
  CHECK(percent_allowance(99, 5.0) == 4);
  CHECK(percent_allowance(40, 5.0) == 2);
  CHECK(percent_allowance(10, 5.0) == 1);
  CHECK(percent_allowance(1, 5.0) == 1);
  CHECK(percent_allowance(0, 5.0) == 0);
  CHECK(percent_allowance(20, 100.0) == 20);
  CHECK(percent_allowance(3, 50.0) == 1);
}

TEST_CASE("exactly 5% passes and one resource more fails, naming dimension and figures") {
  blast_radius_policy p;
  auto ok = p.check(req(5, 100), t(0));
  CHECK(ok.allowed);
  CHECK(ok.allowed_count == 5);
  blast_radius_policy q;
  auto over = q.check(req(6, 100), t(0));
  CHECK(!over.allowed);
  CHECK(over.dimension == "percent");
  CHECK(over.limit == doctest::Approx(5.0));
  CHECK(over.asked == doctest::Approx(6.0));
}

TEST_CASE("an unknown service (no active resources) allows nothing") {
  blast_radius_policy p;
  auto v = p.check(req(1, 0), t(0));
  CHECK(!v.allowed);
  CHECK(v.dimension == "percent");
}

TEST_CASE("service and region scope refuse before percent") {
  blast_radius_policy p;
  auto r = req(1, 100);
  r.subject.services.push_back("other");
  auto v = p.check(r, t(0));
  CHECK(v.dimension == "service");
  CHECK(v.asked == 2);
  r = req(1, 100);
  r.subject.regions.push_back("south");
  v = p.check(r, t(0));
  CHECK(v.dimension == "region");
  blast_limits wide;
  wide.max_regions = 2;
  blast_radius_policy w{wide};
  CHECK(w.check(r, t(0)).allowed);
}

TEST_CASE("two principals asking 4 percent of one service and region share one budget") {
  blast_radius_policy p; // 1 h window, 5% of 100 = 5
  auto first = p.check(req(4, 100, "agent-a", 0), t(0));
  CHECK(first.allowed);
  auto second = p.check(req(4, 100, "agent-b", 10), t(1));
  CHECK(!second.allowed);
  CHECK(second.dimension == "budget");
  CHECK(second.limit == 5);
  CHECK(second.asked == 8);
  CHECK(second.reason.find("fleet-wide budget") != std::string::npos);
  CHECK(second.reason.find("all principals") != std::string::npos);
  // The same resources again are not new room; one more of the budget's is.
  CHECK(p.check(req(1, 100, "agent-b", 4), t(2)).allowed);
}

TEST_CASE("the budget counts the journal's live charges and the reservations, distinct") {
  blast_radius_policy p;
  auto r = req(2, 100, "a", 10);
  r.committed = charges(0, 3, t(3600));
  CHECK(p.check(r, t(0)).allowed); // 3 journaled + 2 = 5
  auto more = req(1, 100, "b", 20);
  more.committed = charges(0, 3, t(3600));
  auto v = p.check(more, t(1)); // 3 journaled + 2 reserved + 1
  CHECK(!v.allowed);
  CHECK(v.dimension == "budget");
  // Once the reservation is journaled (the request carries it) it counts once, not twice.
  p.settle(r.id);
  auto journaled = charges(10, 2, t(3600));
  more.committed = charges(0, 3, t(3600));
  for (auto& [res, c] : journaled["svc"])
    more.committed["svc"][res] = c;
  CHECK(!p.check(more, t(2)).allowed);
  // A journaled charge that ended no longer counts.
  more.committed = charges(0, 3, t(2));
  for (auto& [res, c] : journaled["svc"])
    more.committed["svc"][res] = c;
  CHECK(p.check(more, t(2)).allowed);
}

TEST_CASE("a check without its charge reserves nothing, a settled one frees its room") {
  blast_radius_policy p;
  auto dry = req(5, 100, "a", 0);
  dry.charge = false;
  CHECK(p.check(dry, t(0)).allowed);
  CHECK(p.reservations() == 0);
  auto wet = req(5, 100, "b", 10);
  CHECK(p.check(wet, t(0)).allowed);
  CHECK(p.reservations() == 1);
  CHECK(!p.check(req(1, 100, "c", 20), t(1)).allowed);
  p.settle(wet.id);
  CHECK(p.reservations() == 0);
  CHECK(p.check(req(1, 100, "c", 20), t(1)).allowed);
}

TEST_CASE("a reservation never settled ends with the window") {
  blast_radius_policy p;
  CHECK(p.check(req(5, 100, "a", 0), t(0)).allowed);
  CHECK(!p.check(req(1, 100, "b", 10), t(3599)).allowed);
  CHECK(p.check(req(1, 100, "b", 10), t(3600)).allowed);
}

TEST_CASE("the percent holds per service and region as well as per service") {
  blast_radius_policy p;
  auto r = req(3, 100, "a", 0);
  r.region_sizes["svc/north"] = 40; // 5 % of 40 is 2
  auto v = p.check(r, t(0));
  CHECK(!v.allowed);
  CHECK(v.dimension == "percent");
  CHECK(v.reason.find("svc in north") != std::string::npos);
  r = req(2, 100, "a", 0);
  r.region_sizes["svc/north"] = 40;
  auto ok = p.check(r, t(0));
  CHECK(ok.allowed);
  CHECK(ok.allowed_count == 2); // the strictest wins
  // The region's budget is full now, though the service's (5) is not.
  auto next = req(1, 100, "b", 10);
  next.region_sizes["svc/north"] = 40;
  auto full = p.check(next, t(1));
  CHECK(!full.allowed);
  CHECK(full.dimension == "budget");
  CHECK(full.reason.find("svc in north") != std::string::npos);
}

TEST_CASE("another region of the same service has its own room within the service's") {
  blast_limits wide;
  wide.max_percent = 10; // 10 of 100 in the service, 5 of 50 in each region
  blast_radius_policy q{wide};
  auto north = req(5, 100, "a", 0);
  north.region_sizes["svc/north"] = 50;
  CHECK(q.check(north, t(0)).allowed);
  auto south = req(5, 100, "b", 50);
  for (auto& r : south.touched_regions)
    r = "south";
  south.subject.regions = {"south"};
  south.region_sizes = {{"svc/south", 50}};
  CHECK(q.check(south, t(1)).allowed); // 10 of the service's 10
  auto third = req(1, 100, "c", 60);
  for (auto& r : third.touched_regions)
    r = "south";
  third.subject.regions = {"south"};
  third.region_sizes = {{"svc/south", 50}};
  auto v = q.check(third, t(2));
  CHECK(!v.allowed);
  CHECK(v.dimension == "budget");
}
