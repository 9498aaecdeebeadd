#pragma once

/// The pipeline actor: a proposal's way from submission to its journaled outcome,
/// through admission, governance, the journal and the effectors.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"
#include "caf/typed_response_promise.hpp"

#include "actors/authority/authority_policy.hpp"
#include "actors/circuit_breaker/effectors.hpp"
#include "actors/pipeline/validation.hpp"
#include "messages/interfaces.hpp"
#include "supervision/halt_guard.hpp"
#include "supervision/supervisor.hpp"
#include "persistence/projection.hpp"

namespace bulwark {

class mailbox_gauge; // supervision/mailbox_gauge.hpp

/// Settings of the pipeline.
struct pipeline_settings {
  input_limits limits;
  caf::timespan approval_timeout = std::chrono::minutes{5};
  caf::timespan observation_window = std::chrono::seconds{5};
  caf::timespan effector_timeout = std::chrono::seconds{10}; ///< per call, within the deadline
  caf::timespan governance_timeout = std::chrono::seconds{2}; ///< waiting on authority
  /// Exact replies kept for repeated idempotency keys; an older repeat is answered from
  /// the projection (the journaled status and code), so memory stays bounded.
  uint64_t kept_outcomes = 10000;
};

/// The answer a flight waits for from another actor, watched for its deadline.
enum class awaiting : uint8_t { none, authority, scope, effector };

/// Where one proposal is on its way.
enum class flight_phase : uint8_t { admitting, awaiting_approval, running, observing, compensating };

/// One applied step, kept so it can be compensated.
struct done_step {
  mutation change;
  std::optional<std::string> old_value;
  seq_no applied_seq; ///< 0 while its event is not journaled yet (level 2)
};

/// A proposal in progress.
struct flight {
  proposal p;
  digest id;
  trace_id trace;
  std::string key; ///< principal/idempotency key
  std::vector<caf::typed_response_promise<outcome>> waiters;
  flight_phase phase = flight_phase::admitting;
  caf::timestamp expires;          ///< when an awaited approval expires
  seq_no decided;
  uint32_t next = 0;               ///< the next step to run
  std::vector<done_step> done;     ///< steps applied, in order
  size_t undo = 0;                 ///< compensation: steps still to undo (from the back)
  std::vector<event> pending;      ///< events for the final transaction
  uint64_t token = 0;              ///< the effector call awaited (0: none)
  uint64_t watched = 0;            ///< the watched answer's token (0: none)
  awaiting waits = awaiting::none; ///< whose answer that is
  caf::actor_clock::time_point watched_until; ///< when it is given up
  bool interrupted = false;
  bool first_started = false;      ///< step 0's start was journaled with the decision
  std::vector<event> with_decision; ///< journaled with an allowed decision (a requeue's resolution)
  uint64_t requeue_of = 0;         ///< the dead letter this flight requeues (0: none)
  proposal_status final_status = proposal_status::succeeded;
  ec final_code = ec::none;
  std::string final_message;
  caf::optional<caf::timespan> final_retry_after;
  uint32_t compensated = 0;
};

/// State of the pipeline actor.
struct pipeline_state {
  pipeline_settings settings;
  journal_actor journal;
  std::shared_ptr<handle_slot<authority_actor>> authority; ///< changes on restart
  blast_radius_actor blast;
  std::shared_ptr<breaker_directory> breakers;
  halt_guard guard;                         ///< every admission goes through it (PV-003)
  projection proj;                          ///< follows the journal (subscription)
  std::map<std::string, uint32_t> sizes;    ///< active resources per service
  std::map<digest, flight> flights;
  // Looked up by key only, never iterated (order cannot leak into behaviour): hashed.
  std::unordered_map<std::string, digest> keys; ///< principal/key -> proposal in flight or done
  std::unordered_map<digest, outcome, digest_hash> outcomes; ///< the newest finished replies
  std::deque<std::pair<digest, std::string>> outcome_order; ///< oldest first, with its key
  std::set<uint64_t> resolving;             ///< dead letters with a resolution under way
  uint64_t next_token = 1;
  /// Answers awaited from authority, blast radius and the breakers, by the time each is
  /// given up. One timer runs for the earliest (a `deadline` with no proposal), where a
  /// timed request each cost CAF's clock thread two events (set and cancel) and its
  /// wake-ups, three times per proposal.
  std::multimap<caf::actor_clock::time_point, std::pair<digest, uint64_t>> watched;
  caf::actor_clock::time_point armed = caf::actor_clock::time_point::max(); ///< that timer
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  static inline const char* name = "pipeline";
};

/// The handles and shared objects the pipeline works with.
struct pipeline_deps {
  journal_actor journal;
  std::shared_ptr<handle_slot<authority_actor>> authority; ///< changes on restart
  blast_radius_actor blast;
  std::shared_ptr<breaker_directory> breakers; ///< each service's breaker and its state
  std::shared_ptr<const node_conditions> conditions; ///< for the halt guard (none: not checked)
  std::shared_ptr<mailbox_gauge> mailbox{}; ///< its mailbox depth, for BACKLOG (none: not sampled)
};

/// Runs the pipeline from `proj`, the journal's state at spawn; it subscribes to the
/// journal to follow every later commit. `epoch` maps the actor clock to wall time.
pipeline_actor::behavior_type pipeline(pipeline_actor::stateful_pointer<pipeline_state> self,
                                       pipeline_settings settings, pipeline_deps deps,
                                       fleet_state proj, caf::timestamp epoch);

} // namespace bulwark
