#pragma once

/// Builds journal events from typed payloads.

#include "caf/timestamp.hpp"

#include "messages/events.hpp"
#include "persistence/codec.hpp"

namespace bulwark {

/// Returns an event of `type` at `at` whose payload is the canonical encoding of `x`.
template <class Payload>
event make_event(event_type type, caf::timestamp at, const Payload& x,
                 trace_id trace = {}) {
  event ev;
  ev.type = type;
  ev.at = at;
  ev.trace = trace;
  ev.payload.reserve(encoded_size(x)); // one allocation
  canonical_writer w{ev.payload};
  w(x);
  return ev;
}

/// Decodes the payload of `ev` as `Payload`.
template <class Payload>
caf::error payload_of(const event& ev, Payload& x) {
  return decode(ev.payload, x);
}

} // namespace bulwark
