#pragma once

/// The notifier's pure core: which journaled events are notified as which kind, how long
/// to wait before a retry, and whether an answer delivered the notification.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/events.hpp"

namespace bulwark {

/// What a webhook can be told about.
enum class notify_kind : uint8_t {
  incident_opened = 0,
  incident_escalated,
  incident_acknowledged,
  incident_closed,
  approval_waiting,
  approval_expired,
  halt_engaged,
  halt_released,
  breaker_opened,
  policy_changed,
  dead_letter,
};

/// Every kind, in the order above.
const std::vector<notify_kind>& all_notify_kinds();

/// Returns the kind's configuration name, e.g. "halt_engaged".
const char* to_string(notify_kind kind) noexcept;

/// Parses a configuration name; false for any other text.
bool parse(std::string_view name, notify_kind& out) noexcept;

/// The kind an event is notified as, or none. Most event types map one to one (a table);
/// a `breaker_transition` counts only when it opens the breaker, a `proposal_decided` only
/// when it allows a proposal that now waits for an approval (levels 1 and 2), a
/// `rollback_requested` only when its plan waits for one (below level 4, something to
/// revert). `notification_sent` is never notified.
std::optional<notify_kind> notify_kind_of(const event& ev);

/// The wait before attempt `failed + 1` after `failed` failed attempts: `backoff` doubled
/// per failed attempt after the first, capped at `max_retry_delay`, plus `jitter` (0 to 1)
/// times half of it.
std::chrono::milliseconds retry_delay(std::chrono::milliseconds backoff, uint32_t failed,
                                      double jitter);

/// The cap of `retry_delay` before its jitter.
inline constexpr std::chrono::milliseconds max_retry_delay{600000};

/// How one HTTP attempt ended, as the notifier judges it.
struct attempt_verdict {
  bool delivered = false;
  std::string reason; ///< when not delivered: "HTTP 500", "timed out", the transport error
};

/// Judges an attempt: `answered` with `status` 200-299 delivers; anything else is retried.
/// `transport_error` is the client's description when there was no answer.
attempt_verdict judge_attempt(bool answered, long status, const std::string& transport_error);

} // namespace bulwark
