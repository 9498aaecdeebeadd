// The blast-radius pure core: boundaries, rounding, empty fleets, windows.

#include <doctest/doctest.h>

#include "actors/blast_radius/blast_radius_policy.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp t(int64_t seconds) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000 + seconds}};
}

scope_request req(size_t n, uint32_t fleet, const std::string& who = "agent",
                  size_t first = 0) {
  scope_request r;
  r.subject.principal = principal_id{who};
  r.subject.services = {"svc"};
  r.subject.regions = {"north"};
  for (size_t i = first; i < first + n; ++i) {
    r.subject.mutations.push_back(mutation{resource_id{"r" + std::to_string(i)}, "k", "v"});
    r.touched_services.push_back("svc");
  }
  r.sizes["svc"] = fleet;
  return r;
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

TEST_CASE("the rolling window counts distinct resources per principal and expires") {
  blast_radius_policy p; // 1 h window, 5% of 100 = 5
  CHECK(p.check(req(3, 100, "a", 0), t(0)).allowed);
  CHECK(p.check(req(2, 100, "a", 3), t(10)).allowed);
  auto v = p.check(req(1, 100, "a", 5), t(20));
  CHECK(!v.allowed);
  CHECK(v.dimension == "window");
  CHECK(p.check(req(2, 100, "a", 0), t(30)).allowed); // the same resources again
  CHECK(p.check(req(5, 100, "b", 10), t(30)).allowed); // another principal
  CHECK(p.check(req(1, 100, "a", 5), t(3600)).allowed); // the first ones expired
  // Alive now: r0, r1 (t30) and r5 (t3600); three more would make six.
  CHECK(!p.check(req(3, 100, "a", 6), t(3620)).allowed);
  CHECK(p.check(req(2, 100, "a", 6), t(3620)).allowed);
}
