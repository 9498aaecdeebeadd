#pragma once

/// One seeded run of the whole-system simulation (docs/simulation.md): an engine on the
/// virtual clock, a random workload and random faults drawn from one PRNG in a fixed
/// order, and every invariant checked after every step.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/sim_checker.hpp"

namespace bulwark::sim {

/// What to run.
struct sim_options {
  uint64_t seed = 0;
  int steps = 300;         ///< workload and fault steps before the drain
  std::string dir;         ///< scratch directory; the seed's journal goes in a subdirectory
  /// Breaks one thing on purpose so that its invariant must report it (the simulator's
  /// own test): write-ahead, decided-once, replay, rollback-restores,
  /// no-duplicate-incident, blast-radius or bad-input (the chain is damaged through
  /// `while_stopped`). Empty: nothing is broken.
  std::string sabotage;
  bool keep = false;       ///< keep the seed's journal directory
  bool dump = false;       ///< print every journal record (JSON) and answer to stderr
  /// Called at each restart while the engine is stopped, with the journal directory and
  /// its head (the simulator's own test damages the journal here).
  std::function<void(const std::string&, uint64_t)> while_stopped;
};

/// What a run exercised.
struct sim_coverage {
  uint64_t seeds = 0;
  uint64_t steps = 0;
  uint64_t records = 0;            ///< journal records checked
  uint64_t replays = 0;            ///< stop, verify, replay, compare, restart, compare
  uint64_t rollback_mutations = 0; ///< rollback_applied records checked
  uint64_t budget_charges = 0;     ///< budget_charged records checked
  uint64_t effects = 0;            ///< effector calls checked against their write-ahead
  uint64_t answers = 0;            ///< acknowledged proposals checked
  uint64_t incidents = 0;
  std::map<std::string, uint64_t> actions; ///< workload actions by kind
  std::map<std::string, uint64_t> faults;  ///< faults by kind
  std::map<std::string, uint64_t> answers_by; ///< answers to submissions by status/code
  std::set<std::string> blast_configs;     ///< distinct [blast_radius] configurations

  void add(const sim_coverage& o);
  void print(std::ostream& out) const;
};

/// A broken invariant with where it broke.
struct sim_failure {
  uint64_t seed = 0;
  int step = 0; ///< -1: in the drain at the end
  violation what;
};

/// The result of one seed.
struct sim_report {
  sim_coverage cov;
  std::vector<sim_failure> failures; ///< the first step's violations (the run stops there)
  uint64_t head = 0;
  std::string chain;        ///< the journal's chain at its head (hex)
  std::string state_digest; ///< the projection's digest at the end (hex)
};

/// Runs one seed; equal options give equal reports.
sim_report run_seed(const sim_options& o);

} // namespace bulwark::sim
