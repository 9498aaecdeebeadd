#pragma once

/// The breaker actor of one service: admission through `breaker_fsm`, a bulkhead (calls
/// in flight and a bounded queue), retries with seeded exponential backoff, and every
/// state change journaled.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"
#include "caf/typed_response_promise.hpp"

#include "actors/circuit_breaker/breaker_fsm.hpp"
#include "actors/circuit_breaker/effectors.hpp"
#include "messages/interfaces.hpp"

namespace bulwark {

/// What a breaker works with.
struct breaker_deps {
  std::string service;
  breaker_limits limits;
  journal_actor journal;
  std::shared_ptr<effector_registry> effectors;
  std::shared_ptr<effector_pool> pool; ///< this service's own threads (bulkhead)
  std::shared_ptr<breaker_directory> directory;
  std::set<std::string> admins;
  uint64_t seed = 0;           ///< jitter source
  caf::timestamp epoch;
};

/// One call in the breaker's hands.
struct breaker_job {
  effector_request req;
  caf::typed_response_promise<effector_result> promise;
  uint32_t attempt = 0;          ///< attempts dispatched so far
  bool running = false;          ///< an attempt is out (its answer not yet taken)
  caf::actor_clock::time_point started;
};

/// State of a breaker actor.
struct breaker_state_data {
  breaker_deps deps;
  breaker_fsm fsm;
  std::map<uint64_t, breaker_job> jobs;
  std::deque<uint64_t> queue;
  uint32_t in_flight = 0;
  uint64_t next_token = 1;
  uint64_t refused = 0;
  uint64_t retries = 0;
  std::mt19937_64 rng;
  caf::actor_clock::time_point start;
  static inline const char* name = "breaker";
};

/// Guards `deps.service`'s effector.
breaker_actor::behavior_type breaker(breaker_actor::stateful_pointer<breaker_state_data> self,
                                     breaker_deps deps);

/// Returns the backoff before retry `attempt` (1-based): base * 2^(attempt-1), capped,
/// times a jitter factor in [0.5, 1) drawn from `rng`.
caf::timespan backoff(const breaker_limits& limits, uint32_t attempt, std::mt19937_64& rng);

} // namespace bulwark
