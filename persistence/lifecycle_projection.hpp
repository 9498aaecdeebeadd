#pragma once

/// The projection of the incident lifecycle records (event types 38-43), pure like the
/// rest of the projection: the state they build is a function of the records alone.

#include <cstddef>
#include <cstdint>

#include "caf/error.hpp"

#include "messages/events.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// Returns true for the lifecycle event types (38-43).
bool is_lifecycle(event_type type) noexcept;

/// Applies one lifecycle record to `st`; `INTEGRITY_VIOLATION` when it does not decode.
/// A record naming an unknown incident changes nothing (validation happens before append).
caf::error apply_lifecycle(fleet_state& st, seq_no seq, event_type type, const uint8_t* data,
                           size_t size);

/// Checks that a lifecycle record's payload decodes (`INVALID_INPUT` otherwise).
caf::error check_lifecycle_payload(const event& ev);

} // namespace bulwark
