// The console's `attempts` command: this node's orchestration attempts from the attempts
// store, newest first, by the filters of attempt_policy (GET /v1/attempts serves it too).

#include "actors/console/console_impl.hpp"
#include "actors/incident/attempt_policy.hpp"
#include "persistence/attempt_store.hpp"
#include "persistence/event_json.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

json attempt_json(const attempt_record& x) {
  return {{"attempt_id", to_hex(x.id)},
          {"candidate", to_hex(x.candidate)},
          {"service", x.service},
          {"region", x.region},
          {"attempt", x.attempt},
          {"started", format_time(x.started)},
          {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(x.duration).count()},
          {"status", status_of(x)},
          {"code", x.succeeded ? json(nullptr) : json(to_string(x.code))},
          {"error", x.succeeded ? json(nullptr) : json(x.error)}};
}

void cmd_attempts(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto filter = parse_attempt_filter(req.args);
  if (!filter)
    return send_line(self, hdl, error_response(req.id, filter.error()));
  auto& store = self->state.deps.attempts;
  if (!store)
    return send_line(self, hdl, error_response(req.id, ec::unavailable,
                                               "this node keeps no attempts store"));
  auto f = *filter;
  auto found = store->list([&f](const attempt_record& x) { return matches(f, x); }, f.limit);
  if (!found)
    return send_line(self, hdl, error_response(req.id, found.error()));
  json list = json::array();
  for (auto& x : *found)
    list.push_back(attempt_json(x));
  send_line(self, hdl, ok_response(req.id, {{"attempts", list}, {"count", found->size()}}));
}

} // namespace

bool run_attempt_command(broker_ptr self, hdl_t hdl, const console_request& req) {
  if (req.cmd != "attempts")
    return false;
  cmd_attempts(self, hdl, req);
  return true;
}

} // namespace bulwark::console_detail
