#pragma once

/// `bulwark node --fleet` on a cluster node whose leader does not take writes yet (a
/// follower's unreachable leader, or a leader short of its sync followers): the fleet's
/// resources wait here and are registered once the leader takes them.

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "messages/commands.hpp"

namespace bulwark {
class engine;
}

namespace bulwark::cli {

/// Registers resources through the engine in the background, retrying every second
/// while the answer is UNAVAILABLE (the leader unreachable), until each is registered
/// or the node stops. Any other refusal drops that resource with an error in the log.
class fleet_registrar {
public:
  fleet_registrar() = default;
  ~fleet_registrar();
  fleet_registrar(const fleet_registrar&) = delete;
  fleet_registrar& operator=(const fleet_registrar&) = delete;

  /// Starts retrying `pending` (read from `file`) through `eng`, which must outlive this.
  void start(engine& eng, std::vector<registration> pending, std::string file);

  /// Stops retrying (the rest stays unregistered) and joins; idempotent.
  void stop();

private:
  void run(engine& eng, std::vector<registration> pending, const std::string& file);
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Registers `r` through `eng`: "ok" when registered (now or before), "wait" when the
/// leader did not answer (UNAVAILABLE), otherwise the refusal as "CODE: message".
std::string register_one(engine& eng, const registration& r);

} // namespace bulwark::cli
