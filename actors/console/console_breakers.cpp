// The console's breaker commands: `breakers` (each service's breaker state) and the
// admin overrides `breaker-force` and `breaker-release` (run on the leader when clustered).

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/console_impl.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

void cmd_breakers(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto services = self->state.deps.breakers->services();
  auto out = std::make_shared<json>(json::array());
  auto left = std::make_shared<size_t>(services.size());
  if (services.empty())
    return send_line(self, hdl, ok_response(req.id, *out));
  for (auto& s : services) {
    breaker_directory::entry e;
    if (!self->state.deps.breakers->find(s, e))
      continue;
    self->request(e.handle, std::chrono::seconds{5}, atom::state_v)
      .then(
        [self, hdl, id = req.id, out, left](breaker_status& b) {
          out->push_back({{"service", b.service}, {"state", to_string(b.state)},
                          {"window_calls", b.window_calls}, {"window_failures", b.window_failures},
                          {"consecutive_failures", b.consecutive_failures},
                          {"in_flight", b.in_flight}, {"queued", b.queued},
                          {"refused", b.refused}, {"retries", b.retries}});
          if (--*left == 0)
            send_line(self, hdl, ok_response(id, *out));
        },
        [self, hdl, id = req.id, left](caf::error& err) {
          if (--*left == 0)
            send_line(self, hdl, error_response(id, err));
        });
  }
}

void cmd_breaker_override(broker_ptr self, hdl_t hdl, const console_request& req, bool release) {
  console_refusal why;
  std::string service, state;
  if (!string_arg(req, "service", service, why))
    return refuse_args(self, hdl, why);
  auto bad_state = [&] {
    return !string_arg(req, "state", state, why) || (state != "open" && state != "closed");
  };
  if (self->state.deps.cluster) { // the leader's breakers guard the effectors that run
    if (!release && bad_state())
      return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                                 "args.state must be open or closed"));
    auto cmd = connection_command(self, hdl, release ? command_kind::breaker_release
                                                     : command_kind::breaker_force);
    cmd.target = service;
    cmd.flag = state == "open";
    return forward_command(self, hdl, req, std::move(cmd));
  }
  breaker_directory::entry e;
  if (!self->state.deps.breakers->find(service, e))
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "no breaker for service '" + service + "'"));
  auto by = self->state.conns.at(hdl).principal;
  auto render = [](breaker_status& b) {
    return json{{"service", b.service}, {"state", to_string(b.state)}};
  };
  if (release)
    return ask<breaker_status>(self, hdl, req.id, e.handle, render, atom::release_v, by);
  if (bad_state())
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "args.state must be open or closed"));
  ask<breaker_status>(self, hdl, req.id, e.handle, render, atom::force_v, by, state == "open");
}

} // namespace

bool run_breaker_command(broker_ptr self, hdl_t hdl, const console_request& req) {
  if (req.cmd == "breakers")
    cmd_breakers(self, hdl, req);
  else if (req.cmd == "breaker-force" || req.cmd == "breaker-release")
    cmd_breaker_override(self, hdl, req, req.cmd == "breaker-release");
  else
    return false;
  return true;
}

} // namespace bulwark::console_detail
