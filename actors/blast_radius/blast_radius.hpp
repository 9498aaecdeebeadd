#pragma once

/// The blast-radius actor: the shell around `blast_radius_policy`.

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"

#include "actors/blast_radius/blast_radius_policy.hpp"
#include "messages/interfaces.hpp"

namespace bulwark {

/// State of the blast-radius actor.
struct blast_radius_state {
  blast_radius_policy policy;
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  static inline const char* name = "blast_radius";
};

/// Checks scopes; `epoch` maps the actor clock to wall time.
blast_radius_actor::behavior_type
blast_radius(blast_radius_actor::stateful_pointer<blast_radius_state> self, blast_limits limits,
             caf::timestamp epoch);

} // namespace bulwark
