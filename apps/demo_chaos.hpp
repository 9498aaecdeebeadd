#pragma once

/// `bulwark demo --chaos`: the theme park under injected faults. Every actor of the
/// supervision tree is killed once while proposals are in flight, journal writes fail for
/// a while, effectors fail and time out, submissions are delayed. The drill prints each
/// fault and how the engine held, then invariants it computes from the journal, the
/// world's effector calls and a replay; it exits 0 only if every one held.

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/demo_scenario.hpp"
#include "apps/demo_world.hpp"
#include "bulwark/engine.hpp"

namespace bulwark::cli {

/// The actors `--chaos` kills, one per kind: every child of the supervision tree.
extern const std::vector<std::string> chaos_targets;

/// Runs the chaos drill and keeps what it saw.
class chaos_drill {
public:
  chaos_drill(demo_args args, std::string dir, std::vector<registration> fleet);

  /// Runs every fault; returns the summary (also kept for `print`).
  nlohmann::json run();

  /// Prints the faults, how the engine held, and the invariants.
  void print(std::ostream& out) const;

private:
  /// One proposal submitted during the drill, and its answer.
  struct sent {
    std::string key;
    proposal_request p;
    std::future<result> answer;
    result r;
    bool answered = false;
  };

  bool start();
  void note(const std::string& what);
  void fault(const std::string& injected, const std::string& held);
  proposal_request make(const std::string& service, const std::string& resource,
                        const std::string& key, const std::string& value);
  size_t send(const proposal_request& p);
  /// Collects every answer that is ready; returns how many are still open.
  size_t collect();
  /// Counts the answers of submissions [from, to) (to 0: all after from) by code.
  std::string tally(size_t from, size_t to = 0) const;
  std::string next_resource(const std::string& service);

  void kill_under_load(const std::string& target);
  void journal_outage();
  void effector_faults();
  void delayed_messages();
  void rollback_after_restart();
  void finish();
  void check(const std::string& name, bool held, const std::string& detail);

  demo_args args_;
  std::string dir_;
  std::vector<registration> fleet_;
  demo_world world_;
  std::unique_ptr<engine> eng_;
  std::vector<committed_event> events_;
  std::vector<sent> sent_;
  std::map<std::string, size_t> used_; ///< resources used per service
  std::vector<std::string> timeline_;
  nlohmann::json faults_ = nlohmann::json::array();
  nlohmann::json invariants_ = nlohmann::json::array();
  nlohmann::json summary_;
  bool held_ = true;
  std::string armed_;         ///< the actor to kill during the next effect on `armed_service_`
  std::string armed_service_;
  std::string killed_during_; ///< the idempotency key of the effect it was killed during
  bool kill_sent_ = false;
  int counter_ = 0;
};

/// `bulwark demo --chaos`: runs the drill in `dir`; the exit code (0: every invariant held).
int run_chaos_demo(const demo_args& args, const std::string& dir,
                   std::vector<registration> fleet);

} // namespace bulwark::cli
