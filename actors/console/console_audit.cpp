// The console's audit commands: `audit-pending` (the level-4 changes waiting for a
// review, from the journal's state) and `audit-ack` (an operator's review, journaled by the
// pipeline of the node that writes the journal; actors/pipeline/audit_policy.hpp).

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/console_impl.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

/// The queue, oldest finish first.
json queue_json(const fleet_state& st) {
  std::vector<std::pair<digest, const audit_entry*>> entries;
  for (auto& [id, e] : st.audit.pending)
    entries.emplace_back(id, &e);
  std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) {
    return x.second->finished_seq < y.second->finished_seq;
  });
  json out = json::array();
  for (auto& [id, e] : entries)
    out.push_back({{"proposal", to_hex(id)}, {"principal", e->principal.value},
                   {"decided_seq", e->decided_seq}, {"finished_seq", e->finished_seq},
                   {"steps", e->steps}, {"applied", e->applied},
                   {"status", e->succeeded ? "succeeded" : "failed"},
                   {"code", e->code == ec::none ? json(nullptr) : json(to_string(e->code))}});
  return out;
}

void cmd_pending(broker_ptr self, hdl_t hdl, const console_request& req) {
  ask<fleet_state>(self, hdl, req.id, self->state.deps.journal,
                   [](fleet_state& st) { return queue_json(st); }, atom::state_v);
}

void cmd_ack(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  std::string hex;
  digest id;
  if (!string_arg(req, "proposal", hex, why))
    return refuse_args(self, hdl, why);
  if (!parse_digest(hex, id))
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "args.proposal must be 64 hex characters"));
  std::string note;
  if (auto n = req.args.find("note"); n != req.args.end() && n->is_string())
    note = n->get<std::string>();
  auto ack = audit_acknowledged{id, self->state.conns.at(hdl).principal, note};
  auto render = [id, by = ack.by.value](seq_no& s) {
    return json{{"proposal", to_hex(id)}, {"by", by}, {"seq", s.value}};
  };
  // Clustered, the cluster actor routes it to the leader's pipeline or refuses it.
  if (self->state.deps.cluster)
    return ask<seq_no>(self, hdl, req.id, self->state.deps.cluster, render, atom::audit_ack_v,
                       ack);
  ask<seq_no>(self, hdl, req.id, self->state.deps.pipeline, render, atom::audit_ack_v, ack);
}

} // namespace

bool run_audit_command(broker_ptr self, hdl_t hdl, const console_request& req) {
  if (req.cmd == "audit-pending")
    cmd_pending(self, hdl, req);
  else if (req.cmd == "audit-ack")
    cmd_ack(self, hdl, req);
  else
    return false;
  return true;
}

} // namespace bulwark::console_detail
