#pragma once

/// The pipeline actor: a proposal's way from submission to its journaled outcome
/// (docs/architecture.md).

#include <cstdint>
#include <deque>
#include <functional>
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
#include "actors/flight/flight_machine.hpp"
#include "actors/pipeline/flight_registry.hpp"
#include "actors/pipeline/validation.hpp"
#include "messages/interfaces.hpp"
#include "supervision/halt_guard.hpp"
#include "supervision/live_settings.hpp"
#include "supervision/supervisor.hpp"
#include "around_caf/committed_view.hpp"

namespace bulwark {

struct blast_window; // actors/blast_radius/blast_radius.hpp

class mailbox_gauge; // supervision/mailbox_gauge.hpp
class journal_store; // persistence/journal_store.hpp

/// Settings of the pipeline.
struct pipeline_settings {
  input_limits limits;
  caf::timespan approval_timeout = std::chrono::minutes{5};
  caf::timespan observation_window = std::chrono::seconds{5};
  caf::timespan effector_timeout = std::chrono::seconds{10}; ///< per call, within the deadline
  uint32_t analysis_failure_limit = 0; ///< level 3: breaching samples a window tolerates
  bool analysis_requires_data = false; ///< level 3: a window with no samples fails
  caf::timespan analysis_timeout = std::chrono::seconds{2}; ///< waiting on the detector
  caf::timespan governance_timeout = std::chrono::seconds{2}; ///< waiting on authority
  /// Exact replies kept for repeated idempotency keys; an older repeat is answered from
  /// the projection (the journaled status and code), so memory stays bounded.
  uint64_t kept_outcomes = 10000;
  approval_policy approvals; ///< who may approve or deny (the engine sets its admins)
  caf::timespan budget_window = std::chrono::hours{1}; ///< the blast budget's (the engine sets it)
  authority_config authority; ///< the configured grants, re-checked at each step
  std::string policy_version; ///< the policy in force, named by every decision ("" none)
  /// The newest settings after a policy reload (none: these stay).
  std::shared_ptr<live_settings<pipeline_settings>> live{};
};

/// The answer a flight waits for from another actor, watched for its deadline.
enum class awaiting : uint8_t { none, authority, scope, effector };

/// A proposal in progress: the flight machine's state (actors/flight/flight_machine.hpp)
/// and what the actor that runs it keeps beside it (who waits for the answer, the watched
/// request, what rides the decision).
struct in_flight {
  flight::state m;
  std::string key; ///< principal/idempotency key
  std::vector<caf::typed_response_promise<outcome>> waiters;
  std::vector<caf::typed_response_promise<seq_no>> approvers; ///< answered on the approval's commit
  uint64_t watched = 0;            ///< the watched answer's token (0: none)
  awaiting waits = awaiting::none; ///< whose answer that is
  caf::actor_clock::time_point watched_until; ///< when it is given up
  uint32_t allowed_count = 0;      ///< blast radius's count, for the decision
  std::vector<event> with_decision; ///< journaled with an allowed decision (a requeue's resolution)
  uint64_t requeue_of = 0;         ///< the dead letter this flight requeues (0: none)
  bool reserved = false;           ///< blast radius holds a budget reservation for it
};

/// State of the pipeline actor.
struct pipeline_state {
  pipeline_settings settings;
  journal_actor journal;
  std::shared_ptr<handle_slot<caf::actor>> journal_behind; ///< pipeline_deps::journal_behind
  std::shared_ptr<handle_slot<authority_actor>> authority; ///< changes on restart
  blast_radius_actor blast;
  std::shared_ptr<blast_window> window; ///< blast radius's (pipeline_deps::window)
  std::shared_ptr<breaker_directory> breakers;
  std::shared_ptr<handle_slot<detector_actor>> detector; ///< level-3 window analysis
  caf::timespan analysis_timeout{};
  halt_guard guard;                         ///< every admission goes through it (PV-003)
  /// The journal's committed projection, read under its lock (`fleet_of`).
  std::shared_ptr<const committed_view> view;
  /// While flights rebuilt at its start wait for their approval, it subscribes to the
  /// journal (a late commit of its predecessor settles them): the newest seq it followed.
  uint64_t followed = 0;
  std::map<std::string, uint32_t> sizes;    ///< active resources (`active_sizes`: `sizes_of`)
  uint64_t sizes_at = UINT64_MAX;           ///< the view's `fleet_changes` they were counted at
  flight::settings machine;                 ///< the flight machine's settings
  uint64_t settings_seen = 0;               ///< the generation of `settings.live` copied
  std::map<digest, in_flight> flights;
  flight_family family = flight_family::read; ///< the levels this actor runs
  /// principal/key -> proposal in flight or done lately, and who runs each flight: shared
  /// by the families (looked up by key only, never iterated).
  std::shared_ptr<flight_registry> registry;
  std::unordered_map<digest, outcome, digest_hash> outcomes; ///< the newest finished replies
  std::deque<std::pair<digest, std::string>> outcome_order; ///< oldest first, with its key
  std::set<uint64_t> resolving;             ///< dead letters with a resolution under way
  std::set<digest> settling;                ///< proposals in doubt with a resolution under way
  std::set<digest> reviewing;               ///< level-4 proposals with an acknowledgement under way
  std::shared_ptr<journal_store> store;     ///< read for the actions in doubt
  /// Flights rebuilt from the journal waiting for their approval that have journaled
  /// nothing since: a late commit of the pipeline before the restart (its outcome, a
  /// start) settles them (rebuilt.cpp).
  std::set<digest> rebuilt;
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
  bool stopping = false; ///< told to stop (not killed): the engine answers its callers
  pipeline_state() = default;
  pipeline_state(const pipeline_state&) = delete;
  pipeline_state& operator=(const pipeline_state&) = delete;
  /// A pipeline that dies (killed, not told to stop) answers everyone still waiting on a
  /// flight with `UNAVAILABLE`: nobody waits for it forever. What the flight did is in the
  /// journal (a started action without an outcome is in doubt: `in_doubt()`).
  ~pipeline_state();
};

/// The handles and shared objects the pipeline works with.
struct pipeline_deps {
  journal_actor journal; ///< the journal's door
  std::shared_ptr<handle_slot<authority_actor>> authority; ///< changes on restart
  blast_radius_actor blast;
  std::shared_ptr<breaker_directory> breakers; ///< each service's breaker and its state
  std::shared_ptr<const node_conditions> conditions; ///< for the halt guard (none: not checked)
  std::shared_ptr<mailbox_gauge> mailbox{}; ///< its mailbox depth, for BACKLOG (none: not sampled)
  /// The detector, asked for the analysis of level-3 observation windows (changes on
  /// restart; none or empty: every level-3 window fails closed as unavailable).
  std::shared_ptr<handle_slot<detector_actor>> detector{};
  /// The journal's store, read at start to rebuild the flights a restart interrupted
  /// (actors/pipeline/recovery.hpp; none: nothing is rebuilt).
  std::shared_ptr<journal_store> store{};
  /// Whether this node writes its journal when the pipeline starts (none: it does). A
  /// follower rebuilds nothing: its leader runs the flights.
  std::function<bool()> writes{};
  /// Blast radius's window (the object its actor checks against): a reservation whose
  /// answer arrived is settled in it directly, with no message (none: sent to `blast`).
  std::shared_ptr<blast_window> window{};
  /// The journal's committed projection (journal_settings::view): the fleet the pipeline
  /// decides on.
  std::shared_ptr<const committed_view> view{};
  /// The family of levels this actor runs (it rebuilds only their flights).
  flight_family family = flight_family::read;
  /// The registry the families share (none: one of its own).
  std::shared_ptr<flight_registry> registry{};
  /// The journal actor behind its door (the slot its supervisor fills at each start): a
  /// flight's appends go straight to it, one mailbox delivery fewer than through the door
  /// (none or empty: through the door).
  std::shared_ptr<handle_slot<caf::actor>> journal_behind{};
};

/// Runs the pipeline on the journal's committed projection (`deps.view`); it subscribes
/// to the journal to hear of every later commit. `epoch` maps the actor clock to wall time.
pipeline_actor::behavior_type pipeline(pipeline_actor::stateful_pointer<pipeline_state> self,
                                       pipeline_settings settings, pipeline_deps deps,
                                       caf::timestamp epoch);

} // namespace bulwark
