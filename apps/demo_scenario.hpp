#pragma once

/// The scripted theme-park scenario of `bulwark demo`.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/demo_world.hpp"
#include "bulwark/engine.hpp"
#include "messages/commands.hpp"

namespace bulwark::cli {

/// Options of `bulwark demo`.
struct demo_args {
  std::string data;
  std::string fleet;
  uint64_t seed = 1;
  bool json = false;
  bool autonomous = false; ///< the rollback runs at level 4 instead of asking the operator
  bool chaos = false;      ///< the chaos drill instead (demo_chaos.hpp)
};

/// Runs the scenario step by step and keeps its timeline and checks.
class demo_scenario {
public:
  demo_scenario(demo_args args, std::string dir, std::vector<registration> fleet);

  /// Runs everything; returns the summary (also kept for `print`).
  nlohmann::json run();

  /// Prints the timeline and the summary for people.
  void print(std::ostream& out) const;

private:
  bool start(bool enforce);
  void note(const std::string& what);
  result submit_now(const proposal_request& p);
  proposal_request make(const std::string& principal, int level, const std::string& service,
                        const std::string& region, std::vector<change> changes);
  std::string pick(const std::string& service, const std::string& region);
  void expect(bool ok, const std::string& what);
  void expect_refusal(const result& r, const std::string& code, const std::string& what);

  void act_levels();
  void act_refusals();
  void act_breaker();
  std::string breaker_state(const std::string& service);
  void act_restart();
  void act_incident();
  void tick();
  nlohmann::json incident_summary_;
  void finish();

  demo_args args_;
  std::string dir_;
  std::vector<registration> fleet_;
  demo_world world_;
  std::unique_ptr<engine> eng_;
  std::vector<std::string> timeline_;
  std::vector<std::string> violations_;
  std::vector<std::string> refusals_seen_;
  nlohmann::json summary_;
  uint64_t events_ = 0;
  int counter_ = 0;
};

} // namespace bulwark::cli
