#pragma once

/// The pure core of a supervisor: which children a failure restarts (by strategy), the
/// restart intensity limit (at most R restarts in T, else escalate) and the backoff
/// before each restart. Time arrives as an argument.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

namespace bulwark {

/// How a supervisor answers one child's failure (Erlang/OTP's strategies).
enum class restart_strategy : uint8_t { one_for_one, one_for_all, rest_for_one };

/// When a child is restarted.
enum class restart_kind : uint8_t {
  permanent, ///< always
  transient, ///< only after an abnormal exit
  temporary, ///< never
};

/// Settings of one supervisor.
struct supervisor_limits {
  restart_strategy strategy = restart_strategy::one_for_one;
  uint32_t max_restarts = 5;                          ///< R
  caf::timespan window = std::chrono::seconds{10};    ///< T
  caf::timespan backoff_base = std::chrono::milliseconds{50};
  caf::timespan backoff_cap = std::chrono::seconds{5};
};

/// The decision on one child's exit.
struct restart_decision {
  bool escalate = false;          ///< over the intensity limit: the supervisor exits
  std::vector<size_t> restart;    ///< children to (stop and) restart, in start order
  caf::timespan delay{0};         ///< wait before restarting
};

/// Tracks restarts of one supervisor.
class restart_policy {
public:
  explicit restart_policy(supervisor_limits limits = {}) : limits_(limits) {
  }

  /// Decides what child `index` of `count` (with `kind`) exiting (`abnormal` or not) at
  /// `now` leads to.
  restart_decision on_exit(size_t index, size_t count, restart_kind kind, bool abnormal,
                           caf::timestamp now);

  /// Restarts counted within the window at `now`.
  size_t recent(caf::timestamp now);

private:
  supervisor_limits limits_;
  std::deque<caf::timestamp> restarts_;
};

} // namespace bulwark
