#pragma once

/// A flight rebuilt from the journal after its pipeline restarted (or the process did):
/// what the journal holds of it, how it starts again, and the machine's input that puts
/// it back. Pure, like the machine: the journal's records and the time are inputs.
///
/// - levels 1 and 2 with no approval journaled wait again until the approval's deadline
///   (the decision's time plus the approval timeout, or plus the proposal's own window
///   when an `approval_window` record follows the decision): the timer is armed for the time
///   left, and a deadline that passed while the pipeline was down expires the flight at
///   once, with the machine's own expiry (`approval_expired` and the outcome);
/// - levels 1 and 2 with an approval journaled and no start run as after the approval's
///   commit;
/// - level 3 between steps (each started step has its effect journaled, no outcome): the
///   window's analysis and anything not journaled (an interrupt, a compensation under way)
///   died with the pipeline, so it fails closed: every applied step is compensated, newest
///   first, and the outcome is `interrupted` with code `UNAVAILABLE`;
/// - anything else is not rebuilt: a refused or finished proposal, a level-0 read, and a
///   flight with a start and no outcome (in doubt, as `in_doubt()` reports).

#include <optional>
#include <utility>
#include <vector>

#include "actors/flight/flight_machine.hpp"

namespace bulwark::flight {

/// What the journal holds of one flight: its decision and every later record naming it.
struct journaled_flight {
  seq_no decided;
  caf::timestamp decided_at; ///< the decision record's time
  proposal_decided decision;
  std::vector<std::pair<seq_no, event>> later; ///< in journal order
};

/// How a rebuilt flight starts again.
struct recovery {
  seq_no decided;
  caf::timestamp expires;         ///< levels 1, 2: when the approval expires
  caf::optional<caf::timespan> window; ///< levels 1, 2: the proposal's own approval window
  bool approved = false;          ///< levels 1, 2: an approval is journaled
  std::vector<applied_step> done; ///< level 3: the steps applied, from their effect records
  /// Every declared service and region, from the decision's `decision_basis` (none: a
  /// journal from before it; the decision's first service and region stand).
  std::optional<decision_basis> basis;
};

/// Returns how `j` starts again, or none when it is not rebuilt (see the file comment).
std::optional<recovery> recovery_of(const journaled_flight& j, const settings& config);

/// Returns the proposal of decision `d` (its first service and region; the deadline is
/// set by `recovered`).
proposal proposal_of(const proposal_decided& d);

/// Puts the deciding flight `s` (from `start`, with the decision's proposal and digest)
/// back where `r` says. Its deadline (not journaled) becomes the later of now and the
/// approval's deadline, plus one effector timeout per change. Refused unless `s` is
/// deciding with nothing awaited and its level is 1, 2 (waiting) or 3 (between steps).
refusal recovered(state& s, const recovery& r, const context& cx, std::vector<command>& out);

} // namespace bulwark::flight
