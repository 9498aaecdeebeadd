#pragma once

/// The bodies a webhook receives for one journaled event.

#include <string>

#include "messages/events.hpp"
#include "notify/notify_config.hpp"

namespace bulwark {

/// json: {"kind", "seq", "event": <the entry as the HTTP API renders events>, "node"};
/// slack: {"text": "<node>: <kind> (seq N): <the entry's one-line summary>"}.
std::string notify_body(notify_format format, notify_kind kind, const journal_entry& entry,
                        const std::string& node);

} // namespace bulwark
