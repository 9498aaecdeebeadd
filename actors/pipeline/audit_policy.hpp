#pragma once

/// The review of level-4 changes (the gate AuditOnly): who may acknowledge a proposal in
/// the audit queue (`fleet_state::audit`), and why an acknowledgement is refused. A pure
/// rule; the pipeline applies it where the journal is written, so the embedding API, the
/// console and the HTTP API get the same answers.

#include <cstddef>
#include <cstdint>

#include "caf/error.hpp"
#include "caf/optional.hpp"

#include "actors/authority/approval_policy.hpp"
#include "messages/events.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// The longest note a reviewer may leave, in bytes.
inline constexpr size_t max_audit_note = 4096;

/// What the journal holds of a proposal that is not in the audit queue: read off the
/// store only to say why it cannot be acknowledged.
struct audit_trace {
  bool decided = false;   ///< a `proposal_decided` names it
  authority_level level = authority_level::read_only;
  bool allowed = false;
  bool finished = false;  ///< a `proposal_finished` names it
  uint32_t applied = 0;   ///< that record's `applied`
  caf::optional<principal_id> acknowledged_by; ///< the reviewer of an `audit_acknowledged`
  uint64_t acknowledged_seq = 0;               ///< that record's seq
};

/// Checks the reviewer and the note: `INVALID_INPUT` for a name that is not a valid id or
/// a note longer than `max_audit_note`; `AUTHORITY_DENIED` for a reviewer who holds no
/// approver role (`[authority] operators` or `admins`).
caf::error check_reviewer(const approval_policy& policy, const audit_acknowledged& ack);

/// Checks the proposal an acknowledgement names against the queue: `INVALID_INPUT` when
/// it is not waiting for a review; `AUTHORITY_DENIED` when the reviewer proposed it and
/// `allow_self_approval` is false. `trace`, read off the journal when the proposal is not
/// in the queue (none: the journal could not be read), says why not.
caf::error check_reviewed(const approval_policy& policy, const audit_queue& queue,
                          const audit_acknowledged& ack,
                          const caf::optional<audit_trace>& trace);

} // namespace bulwark
