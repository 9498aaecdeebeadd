#pragma once

/// Webhook notifications: the journaled final status of one delivery (`notification_sent`,
/// 44) and the figures the console and the metrics report.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"

#include "messages/error.hpp"

namespace bulwark {

/// How one notification ended.
enum class delivery_status : uint8_t {
  delivered = 1, ///< the webhook answered 2xx
  failed = 2,    ///< every attempt failed (a non-2xx answer, a timeout, no connection)
  dropped = 3    ///< the node's notification queue was full: never sent
};

/// Returns "delivered", "failed" or "dropped".
inline const char* to_string(delivery_status x) noexcept {
  switch (x) {
    case delivery_status::delivered:
      return "delivered";
    case delivery_status::failed:
      return "failed";
    case delivery_status::dropped:
      return "dropped";
  }
  return "unknown";
}

/// True for the three defined statuses.
inline bool valid(delivery_status x) noexcept {
  return x == delivery_status::delivered || x == delivery_status::failed
         || x == delivery_status::dropped;
}

/// Payload of `notification_sent` (44): the final status of one webhook delivery.
struct notification_sent {
  std::string webhook;      ///< the `[[notifications]]` table's name
  std::string kind;         ///< the notification kind, e.g. "halt_engaged"
  uint64_t event_seq = 0;   ///< the seq of the journaled event it reports
  delivery_status status = delivery_status::delivered;
  uint32_t attempts = 0;    ///< HTTP requests made (0 when dropped)
  std::string reason;       ///< why it failed or was dropped ("" when delivered)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification_sent& x) {
  return f(caf::meta::type_name("notification_sent"), x.webhook, x.kind, x.event_seq, x.status,
           x.attempts, x.reason, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.status) ? caf::error{}
                                    : refuse(ec::invalid_input, "unknown delivery status");
           }));
}

/// One webhook's counts since the node started.
struct webhook_figures {
  std::string name;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  uint64_t dropped = 0;
  uint64_t queued = 0; ///< notifications waiting for it (the one being sent included)
};

/// The notifier's figures: per webhook, and the node's bounded queue.
struct notify_figures {
  std::vector<webhook_figures> webhooks;
  uint64_t queue_depth = 0;     ///< notifications waiting, all webhooks together
  uint64_t queue_capacity = 0;  ///< `[notify] queue`
  uint64_t journal_failures = 0; ///< `notification_sent` records the journal did not take
};

} // namespace bulwark
