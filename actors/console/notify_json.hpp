#pragma once

/// The notifier's figures in the console's `status` answer and in `/metrics`.

#include <string>

#include <nlohmann/json.hpp>

#include "messages/notifications.hpp"

namespace bulwark {

/// {"queue_depth", "queue_capacity", "journal_failures", "webhooks": [{"name",
/// "delivered", "failed", "dropped", "queued"}]}.
nlohmann::json notify_json(const notify_figures& f);

/// `bulwark_notifications_total{webhook,status}` and the queue gauges, Prometheus text.
std::string render_notify_metrics(const notify_figures& f);

} // namespace bulwark
