// Renders the notifier's figures for the console and the metrics endpoint.

#include "actors/console/notify_json.hpp"

#include <sstream>

namespace bulwark {

nlohmann::json notify_json(const notify_figures& f) {
  auto hooks = nlohmann::json::array();
  for (auto& w : f.webhooks)
    hooks.push_back({{"name", w.name}, {"delivered", w.delivered}, {"failed", w.failed},
                     {"dropped", w.dropped}, {"queued", w.queued}});
  return {{"queue_depth", f.queue_depth}, {"queue_capacity", f.queue_capacity},
          {"journal_failures", f.journal_failures}, {"webhooks", hooks}};
}

std::string render_notify_metrics(const notify_figures& f) {
  std::ostringstream out;
  out << "# HELP bulwark_notifications_total Webhook notifications by final status since "
         "start.\n# TYPE bulwark_notifications_total counter\n";
  for (auto& w : f.webhooks)
    for (auto [status, n] : {std::pair{"delivered", w.delivered}, std::pair{"failed", w.failed},
                             std::pair{"dropped", w.dropped}})
      out << "bulwark_notifications_total{webhook=\"" << w.name << "\",status=\"" << status
          << "\"} " << n << '\n';
  out << "# HELP bulwark_notifications_queued Notifications waiting per webhook (the one "
         "being sent included).\n# TYPE bulwark_notifications_queued gauge\n";
  for (auto& w : f.webhooks)
    out << "bulwark_notifications_queued{webhook=\"" << w.name << "\"} " << w.queued << '\n';
  out << "# HELP bulwark_notify_queue_depth Notifications waiting, all webhooks together.\n"
         "# TYPE bulwark_notify_queue_depth gauge\n"
      << "bulwark_notify_queue_depth " << f.queue_depth << '\n'
      << "# HELP bulwark_notify_queue_capacity The bound of the notification queue.\n"
         "# TYPE bulwark_notify_queue_capacity gauge\n"
      << "bulwark_notify_queue_capacity " << f.queue_capacity << '\n'
      << "# HELP bulwark_notify_journal_failures_total notification_sent records the journal "
         "did not take.\n# TYPE bulwark_notify_journal_failures_total counter\n"
      << "bulwark_notify_journal_failures_total " << f.journal_failures << '\n';
  return out.str();
}

} // namespace bulwark
