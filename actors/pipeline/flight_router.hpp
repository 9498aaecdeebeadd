#pragma once

/// The pipeline's door: one address in front of the flight families' actors. It routes
/// each message to the family that takes it (`route_flight`) and answers `pending` itself
/// from every family (`gather_pending`). Callers hold this door's handle: a family's
/// restart does not change it.

#include <cstddef>

#include "caf/fwd.hpp"

#include "actors/pipeline/flight_registry.hpp"
#include "around_caf/committed_view.hpp"
#include "around_caf/door.hpp"

namespace bulwark {

/// The family (its slot behind the door) that takes `msg`:
/// - `submit`: the family of the proposal's level;
/// - `approve`, `interrupt`, `resolve`, `audit_ack`: the family that runs the proposal's
///   flight (`flights`); when none does, the one that would answer it (approvals: the
///   approved family; interrupts: observed; resolutions and acknowledgements: autonomous),
///   which refuses what names no flight of its own;
/// - `requeue`, `discard`: the family of the dead letter's level (`fleet`), so a letter's
///   requeue and discard meet in one actor;
/// - everything else (`enroll`, `in_doubt`): the read family.
size_t route_flight(const caf::message& msg, const flight_registry& flights,
                    const committed_view& fleet);

/// The door's own `pending` handler: asks each family's actor that is up and answers the
/// lists merged, ordered by proposal digest; `when_down` when none is up.
caf::message_handler gather_pending(door_ptr self);

} // namespace bulwark
