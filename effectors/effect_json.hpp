#pragma once

/// The JSON documents configured effectors and probes exchange with the world.

#include <optional>
#include <string>

#include "bulwark/engine.hpp"

namespace bulwark {

/// Returns the effect request as one JSON object: service, resource, key, value,
/// compensation, restore (null: remove), idempotency_key, timeout_ms and deadline_ms
/// (milliseconds since 1970, UTC: `now_ms` plus the timeout).
std::string effect_json(const effect_request& r, int64_t timeout_ms, int64_t now_ms);

/// Returns the probe request as one JSON object: service, resource, key, timeout_ms and
/// deadline_ms.
std::string probe_json(const probe_request& r, int64_t timeout_ms, int64_t now_ms);

/// Reads a probe's answer, `{"value": "..."}` or `{"value": null}`; none (with `error`
/// set) when it is anything else.
std::optional<std::optional<std::string>> parse_probe_answer(const std::string& text,
                                                             std::string& error);

/// Returns at most the last `n` bytes of `text` with control and non-ASCII bytes
/// replaced (a line break becomes a space), trimmed: safe to journal as a reason.
std::string printable_tail(const std::string& text, size_t n);

} // namespace bulwark
