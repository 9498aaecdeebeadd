#pragma once

/// The breaker actor of one service: the slow paths around the service's gate (see
/// breaker_runtime.hpp). It journals every transition, takes an admin's force and
/// release, reports state, and fires the attempt timeouts and retry backoffs. Effector
/// calls do not pass through it: they go through the entry (breaker_entry.hpp).

#include <memory>
#include <set>
#include <string>

#include "caf/fwd.hpp"

#include "actors/circuit_breaker/breaker_runtime.hpp"
#include "messages/interfaces.hpp"
#include "supervision/live_settings.hpp"

namespace bulwark {

/// What a breaker works with.
struct breaker_deps {
  std::shared_ptr<breaker_runtime> runtime; ///< gate and pool; outlives a restart
  journal_actor journal;
  std::shared_ptr<const admin_list> admins; ///< who may override a breaker
};

/// State of a breaker actor.
struct breaker_state_data {
  breaker_deps deps;
  static inline const char* name = "breaker";
};

/// Guards the service of `deps.runtime`; binds itself to the runtime (a restarted breaker
/// takes over its predecessor's gate, timers included).
breaker_actor::behavior_type breaker(breaker_actor::stateful_pointer<breaker_state_data> self,
                                     breaker_deps deps);

} // namespace bulwark
