#pragma once

/// The blast-radius actor: the shell around `blast_radius_policy`.

#include <memory>
#include <mutex>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"

#include "actors/blast_radius/blast_radius_policy.hpp"
#include "messages/interfaces.hpp"

namespace bulwark {

/// The budget's reservations, kept across the actor's restarts: the actor its supervisor
/// starts next checks against the same ones (a restart must not reopen spent room).
struct blast_window {
  explicit blast_window(blast_limits limits) : policy(limits) {
  }
  std::mutex mtx;
  blast_radius_policy policy;
};

/// State of the blast-radius actor.
struct blast_radius_state {
  std::shared_ptr<blast_window> window;
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  static inline const char* name = "blast_radius";
};

/// Checks scopes against `window`; `epoch` is the wall time of the actor's start.
blast_radius_actor::behavior_type
blast_radius(blast_radius_actor::stateful_pointer<blast_radius_state> self,
             std::shared_ptr<blast_window> window, caf::timestamp epoch);

} // namespace bulwark
