// Settling actions in doubt by looking: the probes' readings decide, and anything short of
// agreement leaves the proposal in doubt.

#include <doctest/doctest.h>

#include "engine/doubt_policy.hpp"

using namespace bulwark;
using verdict = doubt_judgement::verdict;

namespace {

in_doubt_action action(uint32_t step, const std::string& resource, const std::string& to,
                       std::optional<std::string> journaled) {
  in_doubt_action a;
  a.proposal = std::string(64, 'a');
  a.step = step;
  a.resource = resource;
  a.service = "pumps";
  a.key = "mode";
  a.value = to;
  a.journaled_value = std::move(journaled);
  return a;
}

probe_reading reads(std::optional<std::string> v) {
  return probe_reading{true, std::move(v), ""};
}

} // namespace

TEST_CASE("doubt: every resource holding its new value is applied, every one holding the "
          "journal's is not") {
  std::vector<in_doubt_action> two{action(0, "p1", "drain", "normal"),
                                   action(1, "p2", "drain", std::nullopt)};
  auto applied = judge_doubt(two, {reads("drain"), reads("drain")});
  CHECK(applied.outcome == verdict::applied);
  CHECK(applied.evidence == "probe: p1/mode holds 'drain', the value step 0 was to set; "
                            "p2/mode holds 'drain', the value step 1 was to set");
  auto untouched = judge_doubt(two, {reads("normal"), reads(std::nullopt)});
  CHECK(untouched.outcome == verdict::not_applied);
  CHECK(untouched.evidence == "probe: p1/mode holds 'normal', the journal's value; p2/mode "
                              "holds (unset), the journal's value");
}

TEST_CASE("doubt: a failed probe, a third value or disagreeing readings stay unresolved") {
  std::vector<in_doubt_action> two{action(0, "p1", "drain", "normal"),
                                   action(1, "p2", "drain", "normal")};
  auto failed = judge_doubt(two, {reads("drain"), probe_reading{false, {}, "timed out"}});
  CHECK(failed.outcome == verdict::unresolved);
  CHECK(failed.evidence == "the probe of p2/mode failed: timed out");
  auto third = judge_doubt(two, {reads("drain"), reads("broken")});
  CHECK(third.outcome == verdict::unresolved);
  CHECK(third.evidence == "p2/mode holds 'broken': neither 'drain' (to set) nor 'normal' "
                          "(journaled)");
  auto mixed = judge_doubt(two, {reads("drain"), reads("normal")});
  CHECK(mixed.outcome == verdict::unresolved);
  CHECK(mixed.evidence.find("the probes disagree: ") == 0);
  CHECK(judge_doubt(two, {reads("drain")}).outcome == verdict::unresolved); // a reading short
  CHECK(judge_doubt({}, {}).outcome == verdict::unresolved);
}
