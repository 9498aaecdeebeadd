// The console's governance commands: `grants` and `policy` (read from the journal's
// state), `halt`, `release` and `grant` (journaled by the authority, or on the leader when
// clustered).

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/console_impl.hpp"
#include "persistence/event_json.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

void cmd_grants(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto configured = self->state.deps.configured_grants;
  ask<fleet_state>(self, hdl, req.id, self->state.deps.journal,
    [configured](fleet_state& st) {
      json conf = json::object(), journaled = json::object();
      // The configured grants of the policy in force, as journaled (a reload changes them).
      static const std::string prefix = "authority.grant.";
      if (!st.policy.empty()) {
        for (auto& e : st.policy)
          if (e.key.compare(0, prefix.size(), prefix) == 0)
            conf[e.key.substr(prefix.size())] = std::stoi(e.value);
      } else {
        for (auto& [p, l] : configured)
          conf[p] = static_cast<int>(l);
      }
      for (auto& [p, g] : st.grants)
        journaled[p] = {{"level", static_cast<int>(g.level)},
                        {"until", g.until ? json(format_time(*g.until)) : json(nullptr)}};
      return json{{"configured", conf}, {"journaled", journaled}, {"halted", st.halted},
                  {"head_seq", st.seq}};
    },
    atom::state_v);
}

/// The governance policy in force, as journaled (`policy_changed`).
void cmd_policy(broker_ptr self, hdl_t hdl, const console_request& req) {
  ask<fleet_state>(self, hdl, req.id, self->state.deps.journal,
    [](fleet_state& st) {
      json entries = json::object();
      for (auto& e : st.policy)
        entries[e.key] = e.value;
      return json{{"version", st.policy_version.empty() ? json(nullptr) : json(st.policy_version)},
                  {"entries", std::move(entries)}, {"head_seq", st.seq}};
    },
    atom::state_v);
}

void cmd_halt(broker_ptr self, hdl_t hdl, const console_request& req, bool engage) {
  console_refusal why;
  std::string reason;
  if (!string_arg(req, "reason", reason, why))
    return refuse_args(self, hdl, why);
  if (self->state.deps.cluster) { // clustered: runs on the leader (console_cluster.cpp)
    auto cmd = connection_command(self, hdl, engage ? command_kind::halt : command_kind::release);
    cmd.text = reason;
    return forward_command(self, hdl, req, std::move(cmd));
  }
  auto by = self->state.conns.at(hdl).principal;
  auto render = [](seq_no& s) { return json{{"seq", s.value}}; };
  if (engage)
    ask<seq_no>(self, hdl, req.id, self->state.deps.authority->get(), render, atom::halt_v, by, reason);
  else
    ask<seq_no>(self, hdl, req.id, self->state.deps.authority->get(), render, atom::release_v, by,
                reason);
}

void cmd_grant(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  std::string principal;
  uint64_t level = 99, until_ms = 0;
  if (!string_arg(req, "principal", principal, why) || !uint_arg(req, "level", level, why)
      || !uint_arg(req, "until_ms", until_ms, why))
    return refuse_args(self, hdl, why);
  if (level > 4)
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "args.level must be 0-4"));
  caf::optional<caf::timestamp> until;
  if (until_ms > 0)
    until = caf::timestamp{std::chrono::milliseconds{until_ms}};
  std::string reason;
  if (auto r = req.args.find("reason"); r != req.args.end() && r->is_string())
    reason = r->get<std::string>();
  if (self->state.deps.cluster) {
    auto cmd = connection_command(self, hdl, command_kind::grant);
    cmd.target = principal;
    cmd.level = static_cast<uint8_t>(level);
    cmd.until = until;
    cmd.text = reason;
    return forward_command(self, hdl, req, std::move(cmd));
  }
  ask<seq_no>(self, hdl, req.id, self->state.deps.authority->get(),
              [](seq_no& s) { return json{{"seq", s.value}}; }, atom::grant_v,
              self->state.conns.at(hdl).principal, principal_id{principal},
              static_cast<authority_level>(level), until, reason);
}

} // namespace

bool run_governance_command(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto& cmd = req.cmd;
  if (cmd == "grants")
    cmd_grants(self, hdl, req);
  else if (cmd == "policy")
    cmd_policy(self, hdl, req);
  else if (cmd == "halt" || cmd == "release")
    cmd_halt(self, hdl, req, cmd == "halt");
  else if (cmd == "grant")
    cmd_grant(self, hdl, req);
  else
    return false;
  return true;
}

} // namespace bulwark::console_detail
