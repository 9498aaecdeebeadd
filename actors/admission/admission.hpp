#pragma once

#include <functional>

/// The admission actor: bounded priority queues in front of the pipeline (load
/// shedding). Callers reserve a waiting place at its `admission_gate` on their own thread
/// (a flood is refused there, before any message); the actor asks `admission_policy`
/// whether a proposal may wait, hands the waiting proposals to the pipeline in priority
/// and turn order as in-flight slots free up, gives each place back at the gate when its
/// proposal leaves the queue, and quarantines principals that keep failing. It runs under
/// a supervisor: when it dies, every proposal still waiting is answered UNAVAILABLE with
/// a retry_after (it never ran), every proposal in flight is handed to the pipeline again
/// with its reply going straight to its caller (the same idempotency key joins the running
/// flight), and the restarted actor takes over the quarantine from the gate.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "caf/typed_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "actors/admission/admission_gate.hpp"
#include "actors/admission/admission_policy.hpp"
#include "messages/interfaces.hpp"
#include "supervision/halt_guard.hpp"
#include "supervision/mailbox_gauge.hpp"

namespace bulwark {

/// ADMISSION: the bounded way into the pipeline.
// Local to a node (no type id): it would need one in messages/ to cross nodes.
using admission_actor = caf::typed_actor<
  // Submits a proposal of a class (admission_class as u8); answered when it finished.
  caf::replies_to<atom::submit, proposal, uint8_t>::with<outcome>,
  // The same, for a caller that reserved its place at the gate (`true`) first.
  caf::replies_to<atom::submit, proposal, uint8_t, bool>::with<outcome>,
  // An admin (the second principal) releases a quarantined principal (the first); true
  // if it was quarantined. Journaled (`quarantine_changed`) before it takes effect.
  caf::replies_to<atom::release, principal_id, principal_id>::with<bool>,
  // Returns waiting, in flight, refused so far and quarantined principals (comma list).
  caf::replies_to<atom::state>::with<uint64_t, uint64_t, uint64_t, std::string>>;

/// One proposal waiting in (or dispatched from) the admission queues.
struct admission_entry {
  proposal p;
  caf::typed_response_promise<outcome> reply;
  bool running = false; ///< dispatched to the pipeline
};

/// What the admission actor works with.
struct admission_deps {
  pipeline_actor pipeline;
  std::shared_ptr<const node_conditions> conditions; ///< degradation level (may be null)
  std::shared_ptr<admission_gate> gate;              ///< callers' places (required)
  std::shared_ptr<mailbox_gauge> mailbox{};          ///< its mailbox depth (may be null)
  /// Where quarantines and releases are journaled (none: not journaled, e.g. in tests).
  journal_actor journal{};
  std::function<caf::timestamp()> now{}; ///< the engine's time, for those records
  /// The running actor that takes proposal `p` behind the pipeline's door (its flight
  /// family): a proposal goes straight to it, one mailbox delivery fewer than through the
  /// door (none, or an empty handle: through `pipeline`).
  std::function<caf::actor(const proposal&)> straight{};
};

/// State of the admission actor.
struct admission_state {
  admission_policy policy;
  admission_deps deps;
  std::map<uint64_t, admission_entry> entries;
  uint64_t next_ticket = 0;
  static inline const char* name = "admission";

  /// Answers what the actor still holds (it is going down): see the file's brief.
  ~admission_state();
};

/// Admits proposals into the pipeline under `limits`.
admission_actor::behavior_type admission(admission_actor::stateful_pointer<admission_state> self,
                                         admission_limits limits, admission_deps deps);

} // namespace bulwark
