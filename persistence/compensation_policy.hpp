#pragma once

/// What the journal says of a compensation that failed, pure: the records that leave no
/// silent half state (docs/journal-format.md, type 53).
///
/// A compensation undoes one applied change: a level-2 or level-3 flight's step, or one
/// step of a rollback. When it fails, the change stays applied, and records say so in the
/// transaction that journals the failure: a `dead_lettered` letter an operator can work
/// from (its change is the value to restore) and a `compensation_failed` record (what
/// stays, what would restore it, and the incident) for each failed compensation, and one
/// P1 `incident_opened` per flight or rollback, after the letter of its first failed
/// compensation (one incident for one half state, however many steps it left). The
/// incident's id derives from the proposal (or rollback) and that step, so a replay or a
/// repeated run gives the same bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/timestamp.hpp"

#include "messages/events.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// One compensation that failed.
struct failed_compensation {
  digest proposal;                    ///< the proposal, or the rollback
  uint32_t step = 0;                  ///< its step (a rollback's: the plan's order)
  principal_id principal;             ///< who asked for it; a requeue of the letter runs as them
  authority_level level = authority_level::assist; ///< the level it ran at
  std::string service;                ///< the service of the resource
  std::string region;                 ///< the region of the resource
  mutation change;                    ///< what stays applied (its value: the value held now)
  std::optional<std::string> restore; ///< the value to restore (none: remove the key)
  ec code = ec::none;                 ///< why the compensation failed
  std::string message;
};

/// Returns the id of the P1 incident raised for `proposal` (or a rollback) whose first
/// failed compensation is that of `step`: SHA-256 of "bulwark.compensation", the digest's
/// 32 bytes and the step as a big-endian u32.
digest compensation_incident_id(const digest& proposal, uint32_t step);

/// Returns what an operator must do to undo `f`'s change, e.g.
/// "restore gate-1.mode to 'normal' (it holds 'closed')" or "remove gate-1.mode (it holds
/// 'closed')".
std::string restore_note(const failed_compensation& f);

/// Returns the records of `f` at `at`, in their order: `dead_lettered`,
/// `compensation_failed` naming `incident` and, when `first` (the first failed
/// compensation of its flight or rollback), the `incident_opened` of `incident`
/// (severity P1), whose id is `compensation_incident_id(f.proposal, f.step)`.
std::vector<event> compensation_failure_records(const failed_compensation& f,
                                                const digest& incident, bool first,
                                                caf::timestamp at, trace_id trace = {});

} // namespace bulwark
