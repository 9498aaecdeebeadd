#pragma once

/// An engine on the virtual clock with a small theme-park fleet and scripted effectors.

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "bulwark/engine.hpp"
#include "support/temp_dir.hpp"

namespace bulwark::test {

struct engine_fixture {
  temp_dir dir;
  std::unique_ptr<engine> eng;
  std::map<std::string, std::string> world;   ///< resource/key -> value, as effectors set it
  std::vector<effect_request> calls;          ///< every effector call, in order
  std::set<std::string> failing;              ///< resource/key whose forward calls fail
  std::vector<committed_event> events;
  std::string config_toml; ///< written to bulwark.toml and used when not empty
  std::optional<int64_t> epoch_ms; ///< the virtual clock's start (none: the default)

  explicit engine_fixture(std::string toml = {}) : config_toml(std::move(toml)) {
    start();
    // 80 coaster resources: 0-19 and 40-59 in the north, 20-39 and 60-79 in the south,
    // so 5 % is 4 of the service and 2 of each region; 10 gates in north.
    for (int i = 0; i < 80; ++i) {
      auto id = "coaster-" + std::to_string(i);
      REQUIRE(eng->register_resource(id, "coaster", i % 40 < 20 ? "north" : "south",
                                     {{"mode", "normal"}}).ok);
    }
    for (int i = 0; i < 10; ++i)
      REQUIRE(eng->register_resource("gate-" + std::to_string(i), "gates", "north").ok);
  }

  void start() {
    engine_options opts;
    opts.data_dir = dir.sub("journal");
    opts.virtual_clock = true;
    opts.admins = {"admin"};
    opts.operators = {"ops", "ops-alice"};
    opts.grants = {{"agent", 4}, {"low", 1}, {"ops", 4}};
    opts.enforce_enabled = true;
    opts.observation_window = std::chrono::seconds{5};
    opts.approval_timeout = std::chrono::seconds{60};
    opts.epoch_ms = epoch_ms;
    if (!config_toml.empty()) {
      opts.config_file = dir.sub("bulwark.toml");
      std::ofstream{opts.config_file} << config_toml;
    }
    std::string err;
    eng = engine::start(opts, &err);
    REQUIRE_MESSAGE(eng, err);
    for (auto* service : {"coaster", "gates"})
      eng->register_effector(service, [this](const effect_request& r) { return effect(r); });
    eng->subscribe([this](const committed_event& e) { events.push_back(e); });
  }

  void restart() {
    eng->stop();
    eng.reset();
    start();
  }

  effect_result effect(const effect_request& r) {
    calls.push_back(r);
    auto k = r.resource + "/" + r.key;
    if (!r.compensation && failing.count(k) != 0)
      return effect_result{false, "simulated failure", false};
    if (r.compensation) {
      if (r.restore)
        world[k] = *r.restore;
      else
        world.erase(k);
    } else {
      world[k] = r.value;
    }
    return {};
  }

  static proposal_request make(int level, std::vector<change> changes,
                               std::vector<std::string> services = {"coaster"},
                               std::vector<std::string> regions = {"north"},
                               std::string key = {}, std::string principal = "agent") {
    static int counter = 0;
    proposal_request p;
    p.idempotency_key = key.empty() ? "k" + std::to_string(++counter) : key;
    p.principal = principal;
    p.level = level;
    p.services = std::move(services);
    p.regions = std::move(regions);
    p.changes = std::move(changes);
    p.justification = "test";
    p.timeout = std::chrono::minutes{10};
    return p;
  }

  /// Submits and returns the result if it is ready after the engine ran.
  result submit_now(const proposal_request& p) {
    auto f = eng->submit(p);
    eng->run();
    REQUIRE(f.wait_for(std::chrono::seconds{0}) == std::future_status::ready);
    return f.get();
  }

  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (auto& e : events)
      out.push_back(e.type);
    return out;
  }
};

/// The proposal digest of the newest `proposal_decided` among `events`.
inline std::string decided_digest(const std::vector<committed_event>& events) {
  std::string id;
  for (auto& e : events)
    if (e.type == "proposal_decided") {
      auto pos = e.json.find("\"proposal\":\"");
      id = e.json.substr(pos + 12, 64);
    }
  return id;
}

/// Chaos enabled and a blast radius wide enough for any test's changes.
inline constexpr const char* chaos_wide =
  "[chaos]\nenabled = true\n[blast_radius]\nmax_percent = 100.0\n";

/// An engine with chaos enabled and a wide blast radius (`chaos_wide`).
struct chaos_engine_fixture : engine_fixture {
  chaos_engine_fixture() : engine_fixture(chaos_wide) {
  }
};

/// The journaled restarts (`actor_restarted`) of `child` among `events`.
inline int restarts_of(const std::vector<committed_event>& events, const std::string& child) {
  int n = 0;
  for (auto& e : events)
    n += e.type == "actor_restarted"
         && e.json.find("\"child\":\"" + child + "\"") != std::string::npos;
  return n;
}

inline change set(int coaster, const std::string& value, const std::string& key = "mode") {
  return change{"coaster-" + std::to_string(coaster), key, value};
}

} // namespace bulwark::test
