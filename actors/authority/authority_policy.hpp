#pragma once

/// The pure core of the authority: gates of the five levels, grants, rate limits.
///
/// No clock, no randomness, no I/O: time arrives as an argument, so evaluating the same
/// inputs always gives the same verdict (and a replay the same bytes).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "actors/authority/approval_policy.hpp"
#include "messages/commands.hpp"
#include "messages/enums.hpp"
#include "messages/scope.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// Settings of the authority (`[authority]` in bulwark.toml).
struct authority_config {
  bool enforce_enabled = false;                       ///< allow level 4 at all
  std::map<std::string, authority_level> grants;      ///< configured principals
  double rate_per_second = 100.0;                     ///< token refill per principal
  double burst = 200.0;                               ///< bucket size per principal
  caf::timespan approval_timeout = std::chrono::minutes{5};
  caf::timespan observation_window = std::chrono::seconds{5};
  uint32_t max_mutations = 1000;                      ///< larger proposals are invalid
  /// Level 2: the most actions a batch may hold, all started in one transaction.
  uint32_t max_batch = 100;
  /// Level 4 is refused while this many changes await their audit (AuditOnly).
  uint32_t audit_backlog = 1000;
};

/// The gates a level applies, in the order they are reported.
const std::vector<gate>& gates_of(authority_level level);

/// Returns the principal's grant in force at `now`: a journaled change that has not
/// expired wins over the configured grant; none for an unknown principal.
caf::optional<authority_level> effective_grant(const std::string& principal,
                                               const authority_config& cfg,
                                               const std::map<std::string, grant_state>& journaled,
                                               caf::timestamp now);

/// Evaluates halt and grant: may this principal ask for this level now? The level's
/// gates are evaluated where the fleet as journaled is at hand (`evaluate_gates`).
/// @pre the proposal passed input validation.
authority_verdict evaluate(const proposal& p, const authority_config& cfg,
                           const std::map<std::string, grant_state>& journaled, bool halted,
                           caf::timestamp now);

/// What the gates read besides the proposal: the settings, who may approve, the fleet as
/// journaled (a read-only view at its `seq`) and the time.
struct gate_inputs {
  const authority_config* config = nullptr;
  const approval_policy* approvals = nullptr;
  const fleet_state* fleet = nullptr;
  caf::timestamp now;
  caf::timespan observation_window{0}; ///< level 3: the window after each step
  size_t audit_pending = 0; ///< level 4: proposals awaiting their audit or running
};

/// Evaluates every gate of the proposal's level from its inputs, in the order of
/// `gates_of`; each result names its evidence (passed) or why it refuses (failed):
///
/// - TransactionReadOnly: the read is served from the journaled view at its seq; every
///   declared service has resources there (a read of nothing is refused);
/// - NoStateMutation: the proposal names no mutation;
/// - HumanApproval (1), HumanReview (2): some principal other than the proposer (unless
///   self-approval is allowed) holds the role the level asks for, so an approval can come;
/// - PerAction (1): exactly one action;
/// - ExplicitConfirmation (1): the action changes its key (its value differs from the
///   journaled one), so the approver confirms a real change, named with both values;
/// - AtomicBatch (2): the batch's starts fit one transaction (`max_batch` actions);
/// - AllOrNothing (2), RollbackOnInterrupt (3): no resource the proposal changes is held
///   by another running proposal's execution, so compensation undoes only its own change;
/// - InterruptibleExecution (3): the deadline leaves room for every step's window;
/// - HumanObservation (3): a window (longer than zero) follows each step, the last too;
/// - NoHumanIntervention (4): level 4 is enabled (`enforce_enabled`);
/// - AuditOnly (4): the audit-review queue has room (`audit_backlog`) for the level-4
///   proposals awaiting their audit and those running.
/// @pre the proposal passed input validation (its resources are in `fleet`).
std::vector<gate_result> evaluate_gates(const proposal& p, const gate_inputs& in);

/// True when a level-0 read of `p` reads `r`: an active resource of a declared service,
/// in a declared region when `p` names any (the resources TransactionReadOnly counts).
bool is_read_by(const proposal& p, const resource_state& r);

/// The most resources a level-0 read returns; more are counted, not returned.
inline constexpr size_t max_read_resources = 1000;

/// Returns what a level-0 read of `p` reads in `fleet` (the view the gates evaluated, at
/// its seq): the resources `is_read_by` takes, in resource-id order, at most `limit` of
/// them (`truncated` when more matched; `total` counts them all).
fleet_read read_of(const proposal& p, const fleet_state& fleet,
                   size_t limit = max_read_resources);

/// The adaptive rate limit: the share of the configured token rate and burst a principal
/// gets at a degradation level (0 normal: all of it, 1 degraded: half, 2 critical: a
/// quarter), so automation slows down while the node is under strain and recovers with it.
double adaptive_share(uint8_t degradation_level) noexcept;

/// A token bucket; time comes in as an argument.
class token_bucket {
public:
  /// Takes one token if available; otherwise returns the wait until one is.
  caf::optional<caf::timespan> take(caf::timestamp now, double rate, double burst);

  /// The tokens left after the last call.
  double tokens() const noexcept {
    return tokens_;
  }

private:
  double tokens_ = -1; // negative: not started, starts full
  caf::timestamp last_;
};

} // namespace bulwark
