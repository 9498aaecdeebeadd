#pragma once

/// The incident lifecycle rules, pure: which step an operator may take on an incident in
/// which state (docs/incidents.md, "The lifecycle"), the record each step journals, and
/// when an incident nobody acknowledged is overdue. The time is an input; nothing here
/// reads a clock.

#include <string>

#include "caf/expected.hpp"
#include "caf/optional.hpp"
#include "caf/timestamp.hpp"

#include "messages/events.hpp"
#include "messages/lifecycle.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// The statuses of `incident_state::status`.
namespace incident_status {
inline constexpr uint8_t open = 1;
inline constexpr uint8_t recovered = 2; ///< closed: recovery verified by the detector
inline constexpr uint8_t escalated = 3; ///< open, flagged
inline constexpr uint8_t resolved = 4;  ///< an operator gave a resolution; not closed yet
inline constexpr uint8_t closed = 5;    ///< closed by an operator
} // namespace incident_status

/// The name of a status: open, recovered, escalated, resolved, closed ("unknown" else).
const char* status_name(uint8_t status) noexcept;

/// True for the closed statuses (recovered, closed).
bool is_closed(uint8_t status) noexcept;

/// The longest owner, note, reason or resolution taken, in bytes.
inline constexpr size_t max_lifecycle_text = 4096;

/// Checks `c` against the incident's state in `st` and returns the record to journal at
/// `at`. Refusals are `INVALID_INPUT` with the reason: an unknown incident, a closed one
/// (only `reopen` takes it), a step out of order (resolve before acknowledge; close
/// before acknowledge without a reason), a missing text, a repeated step.
caf::expected<event> lifecycle_event(const fleet_state& st, const lifecycle_command& c,
                                     caf::timestamp at);

/// True when the incident waits for an acknowledgement: open, not escalated, nobody
/// acknowledged it (its respond_by timer runs).
bool awaits_acknowledgement(const incident_state& n) noexcept;

/// The escalation of an incident nobody acknowledged by its respond_by, if `now` is at
/// or past it and it still awaits an acknowledgement (`incident_escalated`'s payload).
caf::optional<incident_outcome> overdue(const digest& id, const incident_state& n,
                                        caf::timestamp now);

} // namespace bulwark
