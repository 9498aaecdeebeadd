// Maps journaled events to notification kinds; retry delays; the verdict on an answer.

#include "notify/notify_policy.hpp"

#include <algorithm>
#include <utility>

#include "messages/incidents.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

/// The event types notified whatever their payload. A new kind that follows one event
/// type is one line here.
const std::pair<event_type, notify_kind> direct_kinds[] = {
  {event_type::incident_opened, notify_kind::incident_opened},
  {event_type::incident_escalated, notify_kind::incident_escalated},
  {event_type::incident_closed, notify_kind::incident_closed},
  {event_type::incident_acknowledged, notify_kind::incident_acknowledged},
  {event_type::incident_closed_by_operator, notify_kind::incident_closed},
  {event_type::approval_expired, notify_kind::approval_expired},
  {event_type::halt_engaged, notify_kind::halt_engaged},
  {event_type::halt_released, notify_kind::halt_released},
  {event_type::grant_changed, notify_kind::policy_changed},
  {event_type::dead_lettered, notify_kind::dead_letter},
};

} // namespace

const std::vector<notify_kind>& all_notify_kinds() {
  static const std::vector<notify_kind> kinds = {
    notify_kind::incident_opened,  notify_kind::incident_escalated,
    notify_kind::incident_acknowledged, notify_kind::incident_closed,
    notify_kind::approval_waiting, notify_kind::approval_expired,
    notify_kind::halt_engaged,     notify_kind::halt_released,
    notify_kind::breaker_opened,   notify_kind::policy_changed,
    notify_kind::dead_letter,
  };
  return kinds;
}

const char* to_string(notify_kind kind) noexcept {
  switch (kind) {
    case notify_kind::incident_opened:
      return "incident_opened";
    case notify_kind::incident_escalated:
      return "incident_escalated";
    case notify_kind::incident_acknowledged:
      return "incident_acknowledged";
    case notify_kind::incident_closed:
      return "incident_closed";
    case notify_kind::approval_waiting:
      return "approval_waiting";
    case notify_kind::approval_expired:
      return "approval_expired";
    case notify_kind::halt_engaged:
      return "halt_engaged";
    case notify_kind::halt_released:
      return "halt_released";
    case notify_kind::breaker_opened:
      return "breaker_opened";
    case notify_kind::policy_changed:
      return "policy_changed";
    case notify_kind::dead_letter:
      return "dead_letter";
  }
  return "unknown";
}

bool parse(std::string_view name, notify_kind& out) noexcept {
  for (auto k : all_notify_kinds())
    if (name == to_string(k)) {
      out = k;
      return true;
    }
  return false;
}

std::optional<notify_kind> notify_kind_of(const event& ev) {
  for (auto& [type, kind] : direct_kinds)
    if (ev.type == type)
      return kind;
  if (ev.type == event_type::breaker_transition) {
    breaker_transition x;
    if (!payload_of(ev, x) && x.to == breaker_state::open && x.from != breaker_state::open)
      return notify_kind::breaker_opened;
    return std::nullopt;
  }
  if (ev.type == event_type::proposal_decided) {
    proposal_decided x;
    if (!payload_of(ev, x) && x.allowed
        && (x.level == authority_level::assist || x.level == authority_level::recommend))
      return notify_kind::approval_waiting;
    return std::nullopt;
  }
  if (ev.type == event_type::rollback_requested) {
    // Below level 4 a rollback's plan waits for an operator's approval.
    rollback_requested x;
    if (!payload_of(ev, x) && x.level != authority_level::enforce && !x.reverts.empty())
      return notify_kind::approval_waiting;
    return std::nullopt;
  }
  return std::nullopt; // notification_sent included: the notifier never reports itself
}

std::chrono::milliseconds retry_delay(std::chrono::milliseconds backoff, uint32_t failed,
                                      double jitter) {
  auto base = std::max<int64_t>(0, backoff.count());
  for (uint32_t i = 1; i < failed && base < max_retry_delay.count(); ++i)
    base *= 2;
  base = std::min<int64_t>(base, max_retry_delay.count());
  jitter = std::clamp(jitter, 0.0, 1.0);
  return std::chrono::milliseconds{base + static_cast<int64_t>(static_cast<double>(base) * 0.5 * jitter)};
}

attempt_verdict judge_attempt(bool answered, long status, const std::string& transport_error) {
  if (answered && status >= 200 && status < 300)
    return {true, {}};
  if (answered)
    return {false, "HTTP " + std::to_string(status)};
  return {false, transport_error.empty() ? std::string{"no answer"} : transport_error};
}

} // namespace bulwark
