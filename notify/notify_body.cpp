// Renders a notification's body: the generic JSON document or a Slack-compatible line.

#include "notify/notify_body.hpp"

#include <nlohmann/json.hpp>

#include "persistence/event_json.hpp"

namespace bulwark {

std::string notify_body(notify_format format, notify_kind kind, const journal_entry& entry,
                        const std::string& node) {
  using nlohmann::json;
  json body;
  if (format == notify_format::slack) {
    std::string kind_text = to_string(kind);
    for (auto& c : kind_text)
      if (c == '_')
        c = ' ';
    body = {{"text", "bulwark " + node + ": " + kind_text + " (seq "
                       + std::to_string(entry.seq.value) + "): " + summarize(entry)}};
  } else {
    body = {{"kind", to_string(kind)}, {"seq", entry.seq.value}, {"event", to_json(entry)},
            {"node", node}};
  }
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace bulwark
