// The console's side of forwarded commands (#9): on a clustered node every mutating
// command goes to the cluster actor with the connection's principal and role, and the
// leader's answer is rendered exactly as the command renders it on the leader.

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/console_impl.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

json answer_json(const operator_answer& a) {
  if (a.rollback)
    return rollback_json(*a.rollback);
  if (a.breaker)
    return {{"service", a.breaker->service}, {"state", to_string(a.breaker->state)}};
  if (a.promoted)
    return {{"incident", a.promoted->incident ? json(to_hex(*a.promoted->incident)) : json(nullptr)},
            {"repeated", a.promoted->repeated}};
  if (a.run) {
    auto& o = *a.run;
    return {{"proposal", to_hex(o.proposal)}, {"status", to_string(o.status)},
            {"code", o.code == ec::none ? json(nullptr) : json(to_string(o.code))},
            {"message", o.message}, {"decided_seq", o.decided_seq.value}, {"applied", o.applied}};
  }
  return {{"seq", a.seq.value}};
}

} // namespace

operator_command connection_command(broker_ptr self, hdl_t hdl, command_kind kind) {
  auto& c = self->state.conns.at(hdl);
  operator_command cmd;
  cmd.kind = kind;
  cmd.by = c.principal;
  cmd.role = static_cast<uint8_t>(c.role);
  return cmd;
}

void forward_command(broker_ptr self, hdl_t hdl, const console_request& req,
                     operator_command cmd) {
  auto id = req.id;
  self->request(self->state.deps.cluster, caf::infinite, atom::command_v, std::move(cmd))
    .then([self, hdl, id](operator_answer& a) { send_line(self, hdl, ok_response(id, answer_json(a))); },
          [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

} // namespace bulwark::console_detail
