#pragma once

/// Rollback planning, pure: from the journal records of the actions to revert and of
/// everything after them, the compensating steps (newest first), or a clear refusal.
///
/// Rules (README "Incidents"):
/// - every seq must exist and be an `action_applied` record, else `INVALID_INPUT`;
/// - a seq that a rollback already reverted is `INVALID_INPUT` naming that rollback
///   (an incident's second rollback is answered as a no-op before planning);
/// - conflict: if an applied action that is not in the set (and not itself reverted)
///   changed the same resource key after a reverted one, the plan stops with
///   `INVALID_INPUT` naming those later seqs; it never silently overwrites them. The
///   caller may include them and ask again.
/// - each step restores the value the action replaced (none: the key is removed), newest
///   first, so several reverted changes of one key end at the oldest one's old value.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/optional.hpp"

#include "messages/events.hpp"
#include "messages/incidents.hpp"
#include "messages/ids.hpp"

#include "actors/flight/rollback_index.hpp"

namespace bulwark {

/// One record as the planner sees it.
struct planned_record {
  seq_no seq;
  event_type type = event_type::resource_registered;
  caf::optional<action_applied> applied; ///< decoded when type is action_applied
};

/// One compensating step.
struct rollback_step {
  seq_no reverts;
  std::string service;
  resource_id resource;
  std::string key;
  std::string current;               ///< the value the reverted action set
  caf::optional<std::string> restore; ///< the value it replaced (none: remove the key)
};

/// A step of a running rollback whose compensation failed.
struct rollback_failure {
  size_t index = 0;    ///< its place in the plan's steps
  ec code = ec::none;
  std::string message;
};

/// A rollback's final transaction and its answer.
struct rollback_outcome {
  /// A `rollback_applied` for each step undone and, for each failed one, the records of
  /// a failed compensation (persistence/compensation_policy.hpp), in the plan's order;
  /// then the `rollback_finished`.
  std::vector<event> records;
  std::string status;  ///< "succeeded", "failed" or "compensation_failed"
  ec code = ec::none;
  std::string message;
  uint32_t reverted = 0;
};

/// Returns the outcome of the rollback `plan` whose steps [0, ran) ran, `failed` of them
/// (ascending by index) failing, ended with `code` and `message` (none: it ran to its
/// end). A failed step does not stop the others: they undo independent changes. Any
/// failed step makes the rollback `compensation_failed` (not succeeded), and its code is
/// the first failure's unless `code` names another reason. `region_of` names a
/// resource's region ("" when unknown).
rollback_outcome rollback_outcome_of(const rollback_requested& plan,
                                     const std::vector<rollback_step>& steps, size_t ran,
                                     const std::vector<rollback_failure>& failed, ec code,
                                     std::string message,
                                     const std::function<std::string(const std::string&)>& region_of,
                                     caf::timestamp at);

/// Looks up the service of a resource; null when it is not registered.
using service_lookup = std::function<const std::string*(const std::string& resource)>;

/// Plans the rollback of `targets` from `records`, which hold (at least) every target
/// record that exists, ascending; `index` must cover [smallest target, head] (the
/// conflict check reads the later changes of each reverted key from it, never the
/// records in between); `reverted` is the projection's applied seq -> rollback map.
caf::expected<std::vector<rollback_step>>
plan_rollback(const std::vector<seq_no>& targets, const std::vector<planned_record>& records,
              const rollback_index& index, const service_lookup& service_of,
              const std::map<uint64_t, digest>& reverted, seq_no head);

} // namespace bulwark
