#pragma once

/// The attempt keeper: prunes the attempts store on a timer (at its start, then every
/// `attempt_prune_interval`), deleting what the retention of attempt_policy no longer
/// keeps. The detector writes the attempts; the keeper only deletes old ones.

#include <memory>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

namespace bulwark {

class attempt_store;

/// State of the attempt keeper.
struct attempt_keeper_state {
  std::shared_ptr<attempt_store> store;
  caf::timespan retention{};
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  uint64_t pruned = 0; ///< attempts deleted since it started
  static inline const char* name = "attempt_keeper";
};

/// Runs the keeper of `store` under `retention`; `epoch` is the engine's time at spawn.
caf::behavior attempt_keeper(caf::stateful_actor<attempt_keeper_state>* self,
                             std::shared_ptr<attempt_store> store, caf::timespan retention,
                             caf::timestamp epoch);

} // namespace bulwark
