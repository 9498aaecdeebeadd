#pragma once

/// The health actor: samples the failure-mode indicators every period, feeds them to
/// `health_policy`, journals early warnings and degradation changes, publishes the view
/// on a `health_board`, and runs the full background verification (VAL-1, VAL-5).

#include <functional>
#include <memory>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"

#include "actors/health/health_board.hpp"
#include "actors/health/health_policy.hpp"
#include "messages/interfaces.hpp"
#include "messages/state.hpp"
#include "supervision/halt_guard.hpp"

namespace bulwark {

/// What the health actor works with (given by the engine).
struct health_deps {
  journal_actor journal;
  pipeline_actor pipeline; ///< pending approvals (VAL-2) and proposals in flight (BACKLOG)
  /// Samples the indicators the engine owns (journal space, restarts, PV counters) at a time.
  std::function<std::vector<reading>(caf::timestamp)> sample;
  /// Runs a full verification of the journal (blocking: spawn the actor detached).
  std::function<verify_report()> verify;
  std::shared_ptr<health_board> board;
  std::shared_ptr<node_conditions> conditions; ///< what the halt guard checks (may be null)
  caf::timespan approval_timeout = std::chrono::minutes{5};
  caf::timestamp epoch;
};

/// State of the health actor.
struct health_state {
  health_policy policy;
  health_deps deps;
  caf::actor_clock::time_point start;
  static inline const char* name = "health";
};

/// Samples indicators every `s.period` and verifies the journal every `s.verify_interval`.
health_actor::behavior_type health(health_actor::stateful_pointer<health_state> self,
                                   health_settings s, health_deps deps);

/// Returns the VAL-2 and BACKLOG readings from the pipeline's pending and running list.
std::vector<reading> approval_readings(const std::vector<pending_approval>& xs,
                                       caf::timespan approval_timeout, caf::timestamp now);

} // namespace bulwark
