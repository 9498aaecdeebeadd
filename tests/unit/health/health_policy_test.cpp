// The failure-mode registry's pure core: thresholds, trends, degradation and settings.

#include <doctest/doctest.h>

#include <fstream>

#include "actors/health/health.hpp"
#include "actors/health/health_board.hpp"
#include "actors/health/health_policy.hpp"
#include "engine/node_config.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp at(int seconds) {
  return caf::timestamp{std::chrono::seconds{1'767'225'600 + seconds}};
}

/// Settings under which the first sample over a threshold raises its level (the tests
/// about thresholds, counters and snapshots, not about sustained evidence).
health_settings instant() {
  health_settings s;
  s.sustain_rounds = 1;
  return s;
}

/// Feeds `value` to `def` as its kind needs (a counter grows from a zero baseline).
health_step feed(health_policy& p, const indicator_def& def, double value, int t) {
  if (def.kind == indicator_kind::counter && t == 0)
    p.observe({{def.id, 0}}, at(-1));
  return p.observe({{def.id, value}}, at(t));
}

} // namespace

TEST_CASE("every failure mode of the registry has indicators, a mitigation and an action") {
  for (auto id : {"VAL-1", "VAL-2", "VAL-4", "VAL-5", "JOURNAL-SPACE", "BACKLOG", "PV-001",
                  "PV-002", "PV-003"}) {
    CAPTURE(id);
    auto m = find_mode(id);
    REQUIRE(m != nullptr);
    CHECK(!m->mitigation.empty());
    CHECK(!m->action.empty());
    int indicators = 0;
    for (auto& d : indicator_defs())
      indicators += d.mode == id;
    CHECK(indicators >= 1);
  }
  CHECK(find_mode("VAL-9") == nullptr);
  for (auto& d : indicator_defs()) {
    CAPTURE(d.id);
    CHECK(find_mode(d.mode) != nullptr);
    CHECK(d.limits.warning <= d.limits.critical);
  }
  auto& space = *std::find_if(indicator_defs().begin(), indicator_defs().end(),
                              [](auto& d) { return d.id == "journal_space_pct"; });
  CHECK(space.limits.warning == 80);
  CHECK(space.limits.critical == 90);
  auto& backlog = *std::find_if(indicator_defs().begin(), indicator_defs().end(),
                                [](auto& d) { return d.id == "backlog"; });
  CHECK(backlog.limits.warning == 100);
}

TEST_CASE("each indicator warns at its warning threshold and again at its critical one") {
  for (auto& def : indicator_defs()) {
    CAPTURE(def.id);
    auto below = def.limits.warning > 0 ? def.limits.warning * 0.5 : -1;
    {
      health_policy p;
      if (below >= 0) {
        auto quiet = feed(p, def, below, 0);
        CHECK(quiet.warnings.empty());
        CHECK(p.level() == degradation::normal);
      }
    }
    health_policy p{instant()};
    // Where warning and critical coincide (VAL-1) the first warning is already critical.
    auto w = feed(p, def, def.limits.warning, 0);
    REQUIRE(w.warnings.size() == 1);
    auto expect = def.limits.warning < def.limits.critical ? degradation::degraded
                                                           : degradation::critical;
    CHECK(w.warnings[0].mode == def.mode);
    CHECK(w.warnings[0].indicator == def.id);
    CHECK(w.warnings[0].level == expect);
    CHECK(w.warnings[0].value == doctest::Approx(def.limits.warning));
    CHECK(w.warnings[0].action == find_mode(def.mode)->action);
    REQUIRE(w.change);
    CHECK(w.change->to == expect);
    CHECK(w.change->cause == def.mode);
    CHECK(p.mode_level(def.mode) == expect);
    if (expect == degradation::degraded) {
      CHECK(w.warnings[0].threshold == def.limits.warning);
      // Staying above the warning raises nothing new.
      CHECK(feed(p, def, def.limits.warning, 1).warnings.empty());
      auto c = feed(p, def, def.limits.critical, 2);
      REQUIRE(c.warnings.size() == 1);
      CHECK(c.warnings[0].level == degradation::critical);
      CHECK(c.warnings[0].threshold == def.limits.critical);
      REQUIRE(c.change);
      CHECK(c.change->from == degradation::degraded);
      CHECK(c.change->to == degradation::critical);
    }
    CHECK(p.level() == degradation::critical);
  }
}

TEST_CASE("degradation returns to normal by itself when the indicators fall") {
  health_policy p{instant()};
  auto up = p.observe({{"backlog", 150}}, at(0));
  REQUIRE(up.change);
  CHECK(up.change->to == degradation::degraded);
  CHECK(up.change->cause == "BACKLOG");
  auto more = p.observe({{"backlog", 150}, {"journal_space_pct", 95}}, at(1));
  REQUIRE(more.change);
  CHECK(more.change->to == degradation::critical);
  CHECK(more.change->cause == "JOURNAL-SPACE");
  auto down = p.observe({{"backlog", 3}, {"journal_space_pct", 10}}, at(2));
  REQUIRE(down.change);
  CHECK(down.change->from == degradation::critical);
  CHECK(down.change->to == degradation::normal);
  CHECK(down.change->cause.empty());
  CHECK(down.warnings.empty());
  CHECK(p.level() == degradation::normal);
  CHECK(!p.find("backlog")->raised_at);
  // A second rise warns again.
  CHECK(p.observe({{"backlog", 101}}, at(3)).warnings.size() == 1);
}

TEST_CASE("trends follow the recent history: rising, steady, falling") {
  CHECK(trend_of({}, 1) == trend::steady);
  CHECK(trend_of({5}, 1) == trend::steady);
  CHECK(trend_of({1, 2, 3, 4}, 1) == trend::rising);
  CHECK(trend_of({4, 3, 2, 1}, 1) == trend::falling);
  CHECK(trend_of({50, 50.1, 49.9, 50}, 1) == trend::steady);
  CHECK(trend_of({0, 0, 0}, 100) == trend::steady);
  health_policy p{health_settings{1s, 10min, 1min, 3, {}}};
  for (int i = 0; i < 5; ++i)
    p.observe({{"journal_space_pct", 10.0 + 10 * i}}, at(i));
  auto st = p.find("journal_space_pct");
  CHECK(st->direction == trend::rising);
  CHECK(st->history == std::vector<double>{30, 40, 50}); // bounded by `history`
  for (int i = 0; i < 3; ++i)
    p.observe({{"journal_space_pct", 50}}, at(10 + i));
  CHECK(st->direction == trend::steady);
  p.observe({{"journal_space_pct", 20}}, at(20));
  p.observe({{"journal_space_pct", 5}}, at(21));
  CHECK(st->direction == trend::falling);
}

TEST_CASE("counter indicators count growth within the rate window only") {
  health_policy p{health_settings{1s, 10min, 60s, 10, {}, 1}};
  p.observe({{"restarts", 100}}, at(0)); // baseline: earlier restarts are not counted
  CHECK(p.find("restarts")->value == 0);
  p.observe({{"restarts", 104}}, at(10));
  CHECK(p.find("restarts")->value == 4);
  auto storm = p.observe({{"restarts", 111}}, at(20));
  CHECK(p.find("restarts")->value == 11);
  REQUIRE(storm.warnings.size() == 1);
  CHECK(storm.warnings[0].mode == "VAL-4");
  auto calm = p.observe({{"restarts", 111}}, at(75)); // growth before t=15 left the window
  CHECK(p.find("restarts")->value == 7);
  REQUIRE(calm.change);
  CHECK(calm.change->to == degradation::normal);
  p.observe({{"restarts", 111}}, at(90));
  CHECK(p.find("restarts")->value == 0);
}

TEST_CASE("unknown indicators and non-finite samples are ignored") {
  health_policy p;
  auto s = p.observe({{"nonsense", 1e9}, {"backlog", std::nan("")}}, at(0));
  CHECK(s.warnings.empty());
  CHECK(!p.find("backlog")->sampled);
  CHECK(p.find("nonsense") == nullptr);
}

TEST_CASE("invalid health settings are refused naming the key") {
  auto message = [](const health_settings& s) {
    auto err = check_health(s, "bulwark.toml");
    return err ? describe(err).message : std::string{};
  };
  CHECK(message(health_settings{}).empty());
  health_settings s;
  s.limits["backlog"] = thresholds{500, 200};
  CHECK(message(s) == "bulwark.toml: health.backlog_warning: must not be above backlog_critical");
  s = {};
  s.period = caf::timespan{0};
  CHECK(message(s).find("health.period_ms") != std::string::npos);
  s = {};
  s.rate_window = caf::timespan{0};
  CHECK(message(s).find("health.rate_window_ms") != std::string::npos);
  s = {};
  s.history = 0;
  CHECK(message(s).find("health.history") != std::string::npos);
  s = {};
  s.sustain_rounds = 0;
  CHECK(message(s) == "bulwark.toml: health.sustain_rounds: must be between 1 and 1000");
  s.sustain_rounds = 1001;
  CHECK(message(s) == "bulwark.toml: health.sustain_rounds: must be between 1 and 1000");
  s.sustain_rounds = 1000;
  CHECK(message(s).empty());
  s = {};
  s.limits["bogus"] = thresholds{1, 2};
  CHECK(message(s).find("health.bogus_warning: is not a health indicator") != std::string::npos);
  s = {};
  s.limits["backlog"] = thresholds{-1, 2};
  CHECK(message(s).find("health.backlog_warning") != std::string::npos);
}

TEST_CASE("the [health] table is read and checked at load") {
  test::temp_dir dir;
  auto load = [&](const std::string& text) {
    auto path = dir.sub("h.toml");
    std::ofstream{path} << text;
    return load_config(path);
  };
  auto ok = load("[health]\nperiod_ms = 250\nhistory = 5\nbacklog_warning = 20\n"
                 "backlog_critical = 40\njournal_space_pct_warning = 70.5\nsustain_rounds = 7\n");
  REQUIRE(ok);
  CHECK(ok->health.period == 250ms);
  CHECK(ok->health.history == 5);
  CHECK(ok->health.sustain_rounds == 7);
  auto defaults = load("[health]\nperiod_ms = 250\n");
  REQUIRE(defaults);
  CHECK(defaults->health.sustain_rounds == 3);
  auto never = load("[health]\nsustain_rounds = 0\n");
  REQUIRE(!never);
  CHECK(describe(never.error()).message.find("health.sustain_rounds: must be between 1 and 1000")
        != std::string::npos);
  auto huge = load("[health]\nsustain_rounds = 5000\n");
  REQUIRE(!huge);
  CHECK(describe(huge.error()).message.find("health.sustain_rounds") != std::string::npos);
  auto word = load("[health]\nsustain_rounds = \"many\"\n");
  REQUIRE(!word);
  CHECK(describe(word.error()).message.find("health.sustain_rounds") != std::string::npos);
  CHECK(ok->health.limits.at("backlog").warning == 20);
  CHECK(ok->health.limits.at("backlog").critical == 40);
  CHECK(ok->health.limits.at("journal_space_pct").warning == 70.5);
  CHECK(ok->health.limits.at("journal_space_pct").critical == 90);
  auto above = load("[health]\nbacklog_warning = 2000\n");
  REQUIRE(!above);
  CHECK(describe(above.error()).message.find("health.backlog_warning: must not be above")
        != std::string::npos);
  auto zero = load("[health]\nperiod_ms = 0\n");
  REQUIRE(!zero);
  CHECK(describe(zero.error()).message.find("health.period_ms") != std::string::npos);
  auto window = load("[health]\nrate_window_ms = 0\n");
  REQUIRE(!window);
  CHECK(describe(window.error()).message.find("health.rate_window_ms") != std::string::npos);
  auto unknown = load("[health]\nbacklg_warning = 5\n");
  REQUIRE(!unknown);
  CHECK(describe(unknown.error()).message.find("health.backlg_warning") != std::string::npos);
  auto text = load("[health]\nbacklog_warning = \"high\"\n");
  REQUIRE(!text);
  CHECK(describe(text.error()).message.find("health.backlog_warning: must be a number")
        != std::string::npos);
}

TEST_CASE("approval readings: count and age of pending approvals against their timeout") {
  std::vector<pending_approval> xs(3);
  xs[0].expires = at(100); // timeout 60 s: created at 40
  xs[1].expires = at(70);  // created at 10: the oldest
  xs[2].awaiting = false;  // running, not waiting
  auto r = approval_readings(xs, 60s, at(55));
  REQUIRE(r.size() == 3);
  CHECK(r[0].indicator == "pending_approvals");
  CHECK(r[0].sample == 2);
  CHECK(r[1].indicator == "approval_age_pct");
  CHECK(r[1].sample == doctest::Approx(75.0));
  CHECK(r[2].indicator == "backlog");
  CHECK(r[2].sample == 3);
  auto none = approval_readings({}, 60s, at(0));
  CHECK(none[0].sample == 0);
  CHECK(none[1].sample == 0);
  // A proposal's own window of 20 s, 15 s spent: 75 % of its window, not 25 % of 60 s.
  std::vector<pending_approval> own(1);
  own[0].expires = at(60);
  own[0].approval_window = 20s;
  CHECK(approval_readings(own, 60s, at(55))[1].sample == doctest::Approx(75.0));
}

TEST_CASE("published warnings stay active while their indicator stays at their level") {
  health_policy p{instant()};
  health_snapshot snap;
  auto s1 = p.observe({{"backlog", 120}}, at(0));
  snap = make_snapshot(p, snap, s1.warnings, at(0));
  REQUIRE(snap.warnings.size() == 1);
  CHECK(snap.warnings[0].active);
  CHECK(snap.level == degradation::degraded);
  CHECK(snap.rounds == 1);
  auto s2 = p.observe({{"backlog", 10}}, at(1));
  snap = make_snapshot(p, snap, s2.warnings, at(1));
  REQUIRE(snap.warnings.size() == 1);
  CHECK(!snap.warnings[0].active);
  CHECK(snap.level == degradation::normal);
  // Bounded: the oldest inactive warnings go first.
  for (int i = 0; i < 5; ++i) {
    auto up = p.observe({{"backlog", 200}}, at(2 + 2 * i));
    snap = make_snapshot(p, snap, up.warnings, at(2 + 2 * i), 3);
    auto down = p.observe({{"backlog", 0}}, at(3 + 2 * i));
    snap = make_snapshot(p, snap, down.warnings, at(3 + 2 * i), 3);
  }
  CHECK(snap.warnings.size() == 3);
  health_board board;
  board.publish(snap);
  CHECK(board.level() == degradation::normal);
  CHECK(!board.space_critical());
  auto crit = p.observe({{"journal_space_pct", 91}}, at(50));
  board.publish(make_snapshot(p, board.get(), crit.warnings, at(50)));
  CHECK(board.space_critical());
  CHECK(board.level() == degradation::critical);
}
