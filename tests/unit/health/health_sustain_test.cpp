// Sustained evidence: an indicator's level rises only after `sustain_rounds` rounds in a
// row at or above it, and falls at once.

#include <doctest/doctest.h>

#include "actors/health/health_policy.hpp"

using namespace bulwark;

namespace {

caf::timestamp at(int seconds) {
  return caf::timestamp{std::chrono::seconds{1'767'225'600 + seconds}};
}

health_settings rounds(size_t n) {
  health_settings s;
  s.sustain_rounds = n;
  return s;
}

/// Feeds `backlog` values (warning 100, critical 1000) one round a second from `t0`;
/// returns the warnings raised per round.
std::vector<size_t> feed(health_policy& p, const std::vector<double>& values, int t0 = 0) {
  std::vector<size_t> out;
  for (size_t i = 0; i < values.size(); ++i) {
    auto step = p.observe({{"backlog", values[i]}}, at(t0 + static_cast<int>(i)));
    out.push_back(step.warnings.size());
  }
  return out;
}

} // namespace

TEST_CASE("the default waits three rounds before an indicator's level rises") {
  CHECK(health_settings{}.sustain_rounds == 3);
  health_policy p;
  // One sample over the threshold degrades nothing.
  auto one = p.observe({{"backlog", 150}}, at(0));
  CHECK(one.warnings.empty());
  CHECK(!one.change);
  CHECK(p.level() == degradation::normal);
  CHECK(p.find("backlog")->value == 150); // the value is current, only the level waits
  CHECK(!p.find("backlog")->raised_at);
  CHECK(p.observe({{"backlog", 150}}, at(1)).warnings.empty());
  CHECK(p.level() == degradation::normal);
  // The third round in a row raises it: the early warning comes with the rise.
  auto third = p.observe({{"backlog", 160}}, at(2));
  REQUIRE(third.warnings.size() == 1);
  CHECK(third.warnings[0].indicator == "backlog");
  CHECK(third.warnings[0].level == degradation::degraded);
  CHECK(third.warnings[0].value == 160);
  CHECK(third.warnings[0].threshold == 100);
  REQUIRE(third.change);
  CHECK(third.change->from == degradation::normal);
  CHECK(third.change->to == degradation::degraded);
  CHECK(third.change->cause == "BACKLOG");
  CHECK(p.find("backlog")->raised_at == at(2));
  // Staying there raises nothing new.
  CHECK(p.observe({{"backlog", 150}}, at(3)).warnings.empty());
  CHECK(p.level() == degradation::degraded);
}

TEST_CASE("N consecutive rounds raise the level, for any N") {
  for (size_t n : {1u, 2u, 5u, 10u}) {
    CAPTURE(n);
    health_policy p{rounds(n)};
    auto warned = feed(p, std::vector<double>(n + 2, 200));
    for (size_t i = 0; i < warned.size(); ++i)
      CHECK(warned[i] == (i + 1 == n ? 1u : 0u));
    CHECK(p.level() == degradation::degraded);
  }
}

TEST_CASE("an interrupted run restarts the count") {
  health_policy p{rounds(3)};
  // Two rounds over, one under, two over: never three in a row.
  CHECK(feed(p, {150, 150, 50, 150, 150}) == std::vector<size_t>{0, 0, 0, 0, 0});
  CHECK(p.level() == degradation::normal);
  CHECK(p.find("backlog")->rounds_warning == 2);
  // The third in a row of the new run raises it.
  CHECK(feed(p, {150}, 5) == std::vector<size_t>{1});
  CHECK(p.level() == degradation::degraded);
  // Rounds without a sample of the indicator do not count, nor interrupt.
  health_policy q{rounds(3)};
  feed(q, {150, 150});
  CHECK(q.observe({{"journal_space_pct", 10}}, at(2)).warnings.empty());
  CHECK(q.level() == degradation::normal);
  CHECK(q.observe({{"backlog", 150}, {"backlog_typo", 1}}, at(3)).warnings.size() == 1);
}

TEST_CASE("critical needs its own sustained run, warning rounds count towards nothing more") {
  health_policy p{rounds(3)};
  // Critical from the first round: both runs count, the rise goes straight to critical.
  auto w = feed(p, {2000, 2000, 2000});
  CHECK(w == std::vector<size_t>{0, 0, 1});
  CHECK(p.level() == degradation::critical);
  health_policy q{rounds(3)};
  // Degraded first; one critical sample in between does not make it critical.
  CHECK(feed(q, {150, 150, 150, 2000, 150}) == std::vector<size_t>{0, 0, 1, 0, 0});
  CHECK(q.level() == degradation::degraded);
  CHECK(feed(q, {2000, 2000}, 5) == std::vector<size_t>{0, 0});
  auto third = q.observe({{"backlog", 2000}}, at(7));
  REQUIRE(third.warnings.size() == 1);
  CHECK(third.warnings[0].level == degradation::critical);
  CHECK(third.warnings[0].threshold == 1000);
  REQUIRE(third.change);
  CHECK(third.change->from == degradation::degraded);
  CHECK(third.change->to == degradation::critical);
}

TEST_CASE("the level falls at once when the value falls") {
  health_policy p{rounds(3)};
  feed(p, {2000, 2000, 2000});
  REQUIRE(p.level() == degradation::critical);
  // One round under critical: back to degraded (its warning run never broke).
  auto down = p.observe({{"backlog", 150}}, at(3));
  REQUIRE(down.change);
  CHECK(down.change->from == degradation::critical);
  CHECK(down.change->to == degradation::degraded);
  CHECK(down.warnings.empty());
  // One round under the warning: normal.
  auto normal = p.observe({{"backlog", 5}}, at(4));
  REQUIRE(normal.change);
  CHECK(normal.change->to == degradation::normal);
  CHECK(normal.change->cause.empty());
  CHECK(!p.find("backlog")->raised_at);
  // Rising again needs a full run again.
  CHECK(feed(p, {150, 150, 150}, 5) == std::vector<size_t>{0, 0, 1});
}

TEST_CASE("sustain_rounds = 1 is the first sample over a threshold") {
  health_policy p{rounds(1)};
  CHECK(feed(p, {150, 150, 2000, 10, 150}) == std::vector<size_t>{1, 0, 1, 0, 1});
  CHECK(p.level() == degradation::degraded);
  // A counter: one refusal in the window is one sample; its value holds through the
  // window, so a warning threshold of 1 would still degrade after the rounds.
  health_policy c{rounds(3)};
  c.observe({{"pv002_refused", 0}}, at(0));
  for (int t = 1; t <= 5; ++t)
    c.observe({{"pv002_refused", 1}}, at(t));
  CHECK(c.find("pv002_refused")->value == 1);
  CHECK(c.level() == degradation::normal); // the default warning is 5 per window
  for (int t = 6; t <= 8; ++t)
    c.observe({{"pv002_refused", 5}}, at(t));
  CHECK(c.mode_level("PV-002") == degradation::degraded);
}

TEST_CASE("sustained_level counts the runs of one indicator") {
  indicator_state st;
  CHECK(sustained_level(st, degradation::degraded, 2) == degradation::normal);
  CHECK(sustained_level(st, degradation::critical, 2) == degradation::degraded);
  CHECK(st.rounds_warning == 2);
  CHECK(st.rounds_critical == 1);
  CHECK(sustained_level(st, degradation::critical, 2) == degradation::critical);
  CHECK(sustained_level(st, degradation::normal, 2) == degradation::normal);
  CHECK(st.rounds_warning == 0);
  CHECK(st.rounds_critical == 0);
}
