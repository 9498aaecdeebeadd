#pragma once

/// An engine on the virtual clock whose coaster/north series breaks under a bad change:
/// the detector confirms it, hands a candidate over and an incident opens (the hand-over
/// tests and the attempts store's tests share it).

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/engine_fixture.hpp"

namespace bulwark::test {

/// Chaos on; coaster/north reports 30 % errors while one of its coasters runs mode=bad
/// (or while `outage` forces it), every other series 1 %.
struct handoff_fixture : engine_fixture {
  bool auto_approve = true;
  bool outage = false;

  /// `toml`: more of bulwark.toml (after `[chaos]`).
  explicit handoff_fixture(const std::string& toml = {})
    : engine_fixture("[chaos]\nenabled = true\n" + toml) {
  }

  double rate(const std::string& service, const std::string& region) {
    if (service != "coaster" || region != "north")
      return 0.01;
    if (outage)
      return 0.3;
    for (auto& [k, v] : world)
      if (v == "bad" && std::stoi(k.substr(8, k.find('/') - 8)) < 20)
        return 0.3;
    return 0.01;
  }

  /// Every series reports once, at the current time. Only coaster/north must be taken:
  /// the faults below may degrade the node, and then the other series' samples may be
  /// shed, but never those of the series with the change and the incident.
  void feed() {
    for (auto [s, r] : {std::pair{"coaster", "north"}, {"coaster", "south"}, {"gates", "north"}}) {
      bool taken = eng->feed_metric(metric_sample{s, r, rate(s, r), 12.0, eng->now()});
      if (s == std::string{"coaster"} && r == std::string{"north"})
        REQUIRE(taken);
    }
  }

  /// `n` simulated seconds: every series reports; pending rollbacks are approved.
  void tick(int n = 1) {
    for (int i = 0; i < n; ++i) {
      eng->advance(std::chrono::seconds{1});
      feed();
      if (auto_approve)
        for (auto& id : eng->pending_rollbacks())
          CHECK(eng->approve("ops", id).ok);
    }
  }

  std::vector<nlohmann::json> records(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (auto& e : events)
      if (e.type == type)
        out.push_back(nlohmann::json::parse(e.json));
    return out;
  }

  incident_info only_incident() {
    auto all = eng->incidents();
    REQUIRE(all.size() == 1);
    return all.front();
  }

  /// Warms the baselines up and applies a bad change to coaster/north: its first sample
  /// over the threshold comes with the next tick, and the confirmation window (30 s) is
  /// complete 30 samples later.
  void bad_change() {
    tick(20);
    REQUIRE(submit_now(make(4, {set(1, "bad")})).ok);
  }
};


} // namespace bulwark::test
