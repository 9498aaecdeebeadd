#pragma once

/// The rollback executor: plans the compensation of applied actions (rollback_policy),
/// then runs each rollback as a compensation flight of the flight machine
/// (actors/flight/rollback_flight.hpp): the plan journaled before anything runs, an
/// operator's approval below level 4, the services' effectors called through their
/// breakers (newest first), every compensation journaled with the finish in ONE
/// transaction. The executor carries out the machine's commands; the rules are there.

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"
#include "caf/typed_response_promise.hpp"

#include "actors/circuit_breaker/effectors.hpp"
#include "actors/authority/approval_policy.hpp"
#include "actors/flight/rollback_flight.hpp"
#include "messages/incidents.hpp"
#include "messages/interfaces.hpp"
#include "around_caf/committed_view.hpp"
#include "supervision/halt_guard.hpp"
#include "supervision/live_settings.hpp"
#include "supervision/supervisor.hpp"

namespace bulwark {

class journal_store;

/// Settings of the rollback executor.
struct rollback_settings {
  bool enforce_enabled = false;          ///< level 4 runs without a person; else level 1
  caf::timespan approval_timeout = std::chrono::minutes{5};
  caf::timespan effector_timeout = std::chrono::seconds{10};
  approval_policy approvals; ///< who may approve or deny a rollback
  /// The configured grants, for the approver's grant its answer is journaled with
  /// (journaled grant changes win).
  std::map<std::string, authority_level> grants;
  /// The newest settings after a policy reload (none: these stay).
  std::shared_ptr<live_settings<rollback_settings>> live{};
};

/// One rollback in progress: its flight (the machine's state, actors/flight/
/// rollback_flight.hpp) and whoever waits on its answer.
struct rollback_run {
  flight::compensation c;
  std::vector<caf::typed_response_promise<rollback_status>> waiters;
};

/// State of the rollback actor.
struct rollback_state {
  rollback_settings settings;
  uint64_t settings_seen = 0; ///< the generation of `settings.live` copied
  journal_actor journal;
  std::shared_ptr<journal_store> store;   ///< read-only use: the records to revert
  std::shared_ptr<handle_slot<authority_actor>> authority;
  std::shared_ptr<breaker_directory> breakers;
  halt_guard guard;                       ///< halt, governance and JOURNAL-SPACE, checked once
  /// The journal's committed projection, read under its lock (`fleet_of`).
  std::shared_ptr<const committed_view> view;
  uint64_t started_at = 0;                ///< the view's seq at spawn (subscribed from there)
  rollback_index index;                   ///< applied seqs per key, for conflicts
  std::map<digest, rollback_run> flights;
  flight::settings machine; ///< what the machine reads of `settings`, refreshed with them
  std::function<bool()> writes; ///< whether this node writes its journal (none: it does)
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  static inline const char* name = "rollback";
  bool stopping = false; ///< told to stop (not killed): the engine answers its callers
  rollback_state() = default;
  rollback_state(const rollback_state&) = delete;
  rollback_state& operator=(const rollback_state&) = delete;
  /// An executor that dies (killed, not told to stop) answers everyone still waiting on a
  /// rollback with `UNAVAILABLE`; the journal holds its plan and every compensation that
  /// finished.
  ~rollback_state();
};

/// The handles and shared objects the executor works with.
struct rollback_deps {
  journal_actor journal;
  std::shared_ptr<journal_store> store;
  std::shared_ptr<handle_slot<authority_actor>> authority;
  std::shared_ptr<breaker_directory> breakers;
  std::shared_ptr<const node_conditions> conditions; ///< for the halt guard (may be null)
  /// Whether this node writes its journal when the executor starts (none: it does); a
  /// follower closes no rollback (its leader does).
  std::function<bool()> writes{};
  /// The journal's committed projection (journal_settings::view).
  std::shared_ptr<const committed_view> view{};
};

/// Reads the journal's committed projection for the executor: the reader lock is held
/// while the result lives, for one step, never across a message.
committed_view::reader fleet_of(rollback_actor::stateful_pointer<rollback_state> self);

/// Reads the records of `seqs` that exist, ascending, for `plan_rollback`: nearby seqs
/// share one zero-copy scan; only the applied actions among them are decoded.
caf::expected<std::vector<planned_record>> load_records(journal_store& store,
                                                        const std::vector<seq_no>& seqs);

/// Brings `index` up to the store's head and back to `lo` (when it starts later),
/// reading only the records it lacks (rollback_reads.cpp).
caf::error cover(journal_store& store, rollback_index& index, uint64_t lo);

/// A rollback whose plan is journaled and whose `rollback_finished` is not.
struct unfinished_rollback {
  rollback_requested plan;
  seq_no requested;      ///< its (newest) `rollback_requested` record
  bool approved = false; ///< an approval of it is journaled
  caf::timestamp at;     ///< the time of that record
  bool answered = false; ///< a denial or an expiry of it is journaled
};

/// Reads the unfinished rollbacks in [1, `to`] from `store` (one zero-copy scan; only
/// rollback records and approvals are decoded), oldest request first
/// (rollback_recovery.cpp).
caf::expected<std::vector<unfinished_rollback>> unfinished_rollbacks(journal_store& store,
                                                                      seq_no to);

/// The executor's time: its epoch plus the time its clock moved since the spawn.
caf::timestamp rollback_now(rollback_actor::stateful_pointer<rollback_state> self);

/// Takes over every rollback the journal's state at spawn leaves unfinished
/// (rollback_recovery.cpp): one that waited for its approval (none journaled, no denial,
/// no expiry) is planned again and rebuilt, waiting for the rest of its window; every
/// other one (and one that cannot be planned again) is closed with a `rollback_finished`
/// (failed, `UNAVAILABLE`, the reason), then an open incident's rollback is asked for
/// again.
void recover_unfinished(rollback_actor::stateful_pointer<rollback_state> self);

/// Runs the executor on the journal's committed projection (`deps.view`; it hears of later
/// commits by subscription); it first takes over the rollbacks a restart interrupted
/// (`recover_unfinished`).
rollback_actor::behavior_type rollback(rollback_actor::stateful_pointer<rollback_state> self,
                                       rollback_settings settings, rollback_deps deps,
                                       caf::timestamp epoch);

} // namespace bulwark
