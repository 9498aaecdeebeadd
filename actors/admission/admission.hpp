#pragma once

/// The admission actor: bounded priority queues in front of the pipeline (load
/// shedding). It asks `admission_policy` whether a proposal may wait, refuses at once
/// with OVERLOADED and a retry_after beyond the bound, hands the waiting proposals to the
/// pipeline in priority and turn order as in-flight slots free up, and quarantines
/// principals that keep failing.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "caf/fwd.hpp"
#include "caf/typed_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "actors/admission/admission_policy.hpp"
#include "messages/interfaces.hpp"
#include "supervision/halt_guard.hpp"

namespace bulwark {

/// ADMISSION: the bounded way into the pipeline.
// TODO(#7): move to messages/interfaces.hpp with a type id when it is sent across nodes.
using admission_actor = caf::typed_actor<
  // Submits a proposal of a class (admission_class as u8); answered when it finished.
  caf::replies_to<atom::submit, proposal, uint8_t>::with<outcome>,
  // An operator releases a quarantined principal; true if it was quarantined.
  caf::replies_to<atom::release, principal_id>::with<bool>,
  // Returns waiting, in flight, refused so far and quarantined principals (comma list).
  caf::replies_to<atom::state>::with<uint64_t, uint64_t, uint64_t, std::string>>;

/// One proposal waiting in (or dispatched from) the admission queues.
struct admission_entry {
  proposal p;
  caf::typed_response_promise<outcome> reply;
};

/// State of the admission actor.
struct admission_state {
  admission_policy policy;
  pipeline_actor pipeline;
  std::shared_ptr<const node_conditions> conditions; ///< degradation level (may be null)
  std::map<uint64_t, admission_entry> entries;
  std::shared_ptr<std::atomic<uint64_t>> depth; ///< waiting proposals, for BACKLOG (may be null)
  uint64_t next_ticket = 0;
  static inline const char* name = "admission";
};

/// Admits proposals into `pipeline` under `limits`; publishes its queue depth in `depth`.
admission_actor::behavior_type admission(admission_actor::stateful_pointer<admission_state> self,
                                         admission_limits limits, pipeline_actor pipeline,
                                         std::shared_ptr<const node_conditions> conditions,
                                         std::shared_ptr<std::atomic<uint64_t>> depth);

} // namespace bulwark
