#pragma once

/// Internal to the simulator: the state of one seed's run, split between sim_run.cpp
/// (the engine's life, the checks, replays) and sim_workload.cpp (actions and faults).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bulwark/engine.hpp"
#include "messages/events.hpp"
#include "sim/sim_checker.hpp"
#include "sim/sim_run.hpp"
#include "sim/sim_world.hpp"

namespace bulwark::sim {

/// One series of the simulated fleet.
struct series {
  std::string service;
  std::string region;
  std::vector<std::string> resources;
};

class driver {
public:
  explicit driver(const sim_options& o);
  ~driver();

  sim_report run();

  // -- sim_workload.cpp --
  void step();                  ///< one random action or fault, then time passes
  void drain(int seconds = 120); ///< faults off, halt released, flights finish

private:
  // -- sim_run.cpp --
  std::string config_toml();
  void start_engine();
  void register_fleet();
  void restart();               ///< the replay sequence (stop, verify, replay, restart)
  void sabotage_stopped();      ///< appends or tampers while stopped (sabotage only)
  void pull_journal();
  void check();                 ///< every invariant; violations end the run
  void settled();               ///< drained: flight-ends and rollback-ends
  void violate(const std::string& invariant, const std::string& detail);

  // -- sim_workload.cpp --
  void propose();
  void answer_approval();
  void interrupt();
  void halt_or_release();
  void change_grant();
  void inject_anomaly();
  void fault();
  void tick();                  ///< one simulated second: time, metrics, approvals due
  void clock_jump();
  /// Counts an action or fault (and prints it with --dump).
  void noted(std::map<std::string, uint64_t>& counts, const std::string& what);
  void sabotage_running();      ///< appends a duplicate record (sabotage only)
  proposal_request random_proposal();
  uint64_t pick(uint64_t n) {
    return rng_() % n;
  }
  bool chance(unsigned percent) {
    return pick(100) < percent;
  }

  sim_options opts_;
  std::mt19937_64 rng_;
  std::string data_dir_;
  std::unique_ptr<sim_world> world_;
  std::unique_ptr<engine> eng_;
  sim_checker checker_;
  sim_coverage cov_;
  std::vector<sim_failure> failures_;
  std::vector<series> fleet_;
  std::vector<proposal_request> sent_;   ///< for repeated idempotency keys
  std::string blast_;                    ///< this seed's [blast_radius] table
  int rollback_level_ = 4;
  int64_t now_ms_ = 0;                   ///< the virtual time carried over restarts
  int step_ = 0;
  uint64_t round_ = 0;                   ///< metric rounds fed
  int journal_failing_ = 0;              ///< steps left with journal writes failing
  int64_t last_kill_ms_ = 0;
  int counter_ = 0;                      ///< idempotency keys
  uint64_t verified_ = 0;                ///< the chain is verified up to here
  bool sabotaged_ = false;
  bool halted_ = false;
  int halt_left_ = 0;                    ///< steps until the halt is released
  std::optional<event> last_decided_;    ///< copies for the decided-once sabotage
  std::optional<event> last_incident_;   ///< and for the no-duplicate-incident one
};

} // namespace bulwark::sim
