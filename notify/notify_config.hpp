#pragma once

/// The `[[notifications]]` tables and the `[notify]` section of bulwark.toml: which
/// webhooks hear of which kinds of event, in which format, retried how often.

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "effectors/effector_config.hpp"
#include "notify/notify_policy.hpp"

namespace bulwark {

/// The body a webhook receives.
enum class notify_format : uint8_t {
  json = 1, ///< {"kind", "seq", "event", "node"}
  slack = 2 ///< {"text": "<one readable line>"} (Slack's incoming webhooks)
};

/// Returns "json" or "slack".
const char* to_string(notify_format f) noexcept;

/// One `[[notifications]]` table.
struct webhook_spec {
  std::string name;                       ///< unique among the tables
  http_spec http;                         ///< url, ca_file, token (from token_file)
  notify_format format = notify_format::json;
  std::set<notify_kind> kinds;            ///< default: every kind
  std::chrono::milliseconds timeout{2000}; ///< per attempt
  uint32_t max_attempts = 5;
  std::chrono::milliseconds backoff{200}; ///< the first retry's delay; doubles after
};

/// Every webhook and the node's bounded queue.
struct notify_settings {
  size_t queue = 1024; ///< notifications waiting, all webhooks together; beyond: dropped
  std::vector<webhook_spec> webhooks;
};

/// Reads `[notify]` and the `[[notifications]]` tables of `path` (none: no webhook). Every
/// error is INVALID_INPUT naming the file and the key: an unknown key, a missing or second
/// name, a URL that is not http(s), an unknown event kind or format, a value out of range,
/// an unreadable CA or token file.
caf::expected<notify_settings> load_notifications(const std::string& path);

} // namespace bulwark
