#pragma once

/// Renders journal entries and payloads as JSON for `bulwark log`, the console and tools.

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "messages/events.hpp"

namespace bulwark {

/// Returns {"seq", "chain", "type", "at", "trace", "payload": {...named fields...}}.
/// A payload that does not decode is rendered as {"undecodable": "<hex>"}.
nlohmann::json to_json(const journal_entry& entry);

/// Returns the payload's named fields, or {"undecodable": "<hex>"}.
nlohmann::json payload_to_json(const event& ev);

/// Renders a timestamp as ISO 8601 UTC with milliseconds.
std::string format_time(caf::timestamp at);

/// Returns a one-line human summary of an entry's payload.
std::string summarize(const journal_entry& entry);

} // namespace bulwark
