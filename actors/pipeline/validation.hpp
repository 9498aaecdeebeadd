#pragma once

/// The pure first step of a proposal's way: input validation and its digest.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/timestamp.hpp"

#include "messages/commands.hpp"
#include "messages/scope.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// Limits on proposal input.
struct input_limits {
  uint32_t max_mutations = 1000;
  size_t max_value_size = 4096;
  size_t max_justification = 4096;
  caf::timespan max_deadline = std::chrono::hours{24}; ///< outermost timeout of a proposal
  /// The node's approval window: a proposal's own may be shorter, never longer.
  caf::timespan approval_timeout = std::chrono::minutes{5};
};

/// The refusal of an idempotency key that is not 1-128 printable characters.
inline constexpr const char* bad_key_message =
  "idempotency key must be 1-128 printable characters without spaces";

/// Returns SHA-256 over the canonical encoding of the proposal with its deadline zeroed,
/// and without its approval window when it has none (the bytes before windows existed):
/// what approvals name. A repeat of a request with a later deadline is the same proposal.
digest proposal_digest(const proposal& p);

/// Checks a proposal against the fleet before anything else; `INVALID_INPUT` names the
/// first problem: ids, level, mutation count, unknown or retired resources, mutations
/// outside the declared targets, duplicate changes, missing effectors, past deadlines, an
/// own approval window that cannot be honoured (not level 1 or 2, not longer than zero,
/// longer than `limits.approval_timeout`, or with the execution time after it longer than
/// `limits.max_deadline`).
caf::error validate(const proposal& p, const fleet_state& fleet,
                    const std::function<bool(const std::string&)>& has_effector,
                    const input_limits& limits, caf::timestamp now);

/// Returns the service of each mutation's resource (parallel to `p.mutations`).
/// @pre `validate` accepted `p`.
std::vector<std::string> touched_services(const proposal& p, const fleet_state& fleet);

/// Counts active resources per service (key "service") and per service in a region (key
/// "service/region"; '/' is never part of a name).
std::map<std::string, uint32_t> active_sizes(const fleet_state& fleet);

/// Returns what blast radius needs to judge proposal `id`: the services and regions it
/// touches, their active sizes (from `sizes`, see `active_sizes`) and the journaled
/// budget charges on those services. `charge`: reserve the budget when allowed.
/// @pre `validate` accepted `p`.
scope_request scope_of(const proposal& p, const digest& id, const fleet_state& fleet,
                       const std::map<std::string, uint32_t>& sizes, bool charge);

} // namespace bulwark
