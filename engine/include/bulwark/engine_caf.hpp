#pragma once

/// For hosts that use CAF themselves: the engine's actor system and typed actor handles
/// (messages/interfaces.hpp documents every handler).

#include "bulwark/engine.hpp"
#include "messages/interfaces.hpp"

namespace bulwark {

class journal_store;
class breaker_directory;

/// The actors of a running engine.
struct engine_handles {
  caf::actor_system* system = nullptr;
  journal_actor journal;
  authority_actor authority;
  blast_radius_actor blast_radius;
  pipeline_actor pipeline;
  std::shared_ptr<journal_store> store;          ///< for reads beside the writer
  std::shared_ptr<breaker_directory> breakers;   ///< each service's breaker
};

/// Returns the handles of `eng`'s actors (valid until `eng.stop()`). Release every copy
/// before calling `stop()`: the journal runs on its own thread, which ends only when no
/// handle to it is left.
engine_handles handles_of(engine& eng);

} // namespace bulwark
