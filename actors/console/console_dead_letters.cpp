// The console's dead-letter commands: `dead-letters` (the list), `requeue` and `discard`
// (an operator resolves one; both journaled).

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/console_impl.hpp"
#include "persistence/compensation_letters.hpp"
#include "persistence/event_json.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

json letters_json(const fleet_state& st, journal_store* store) {
  json out = json::array();
  for (auto& [seq, x] : st.dead_letters) {
    // A failed compensation's letter: `value` is the value to restore (null `restore`:
    // the key is to be removed).
    json restore = nullptr;
    bool compensation = false;
    if (store)
      if (auto comp = compensation_of(*store, seq, x); comp && *comp) {
        compensation = true;
        if ((*comp)->restore)
          restore = *(*comp)->restore;
      }
    out.push_back({{"seq", seq}, {"proposal", to_hex(x.proposal)}, {"step", x.step},
                   {"principal", x.principal.value}, {"level", static_cast<int>(x.level)},
                   {"service", x.service}, {"resource", x.change.resource.value},
                   {"key", x.change.key}, {"value", x.change.value},
                   {"code", to_string(x.code)}, {"message", x.message},
                   {"failed_at", format_time(x.failed_at)}, {"compensation", compensation},
                   {"restore", restore}});
  }
  return out;
}

void cmd_list(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto id = req.id;
  self->request(self->state.deps.journal, caf::infinite, atom::state_v)
    .then([self, hdl, id](fleet_state& st) {
            send_line(self, hdl, ok_response(id, {{"dead_letters",
                                                   letters_json(st, self->state.deps.store.get())}}));
          },
          [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

/// Reads `letter` (required) and `reason` (optional) into a command from this connection.
bool read_command(broker_ptr self, hdl_t hdl, const console_request& req,
                  dead_letter_command& cmd) {
  console_refusal why;
  uint64_t letter = 0, timeout_ms = 30000;
  if (req.args.count("letter") == 0 || !uint_arg(req, "letter", letter, why) || letter == 0
      || !uint_arg(req, "timeout_ms", timeout_ms, why)) {
    send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                        "args.letter must be the seq of a dead letter (see "
                                        "dead-letters); args.timeout_ms, if given, a number"));
    return false;
  }
  cmd.letter = letter;
  cmd.by = self->state.conns.at(hdl).principal;
  if (auto r = req.args.find("reason"); r != req.args.end() && r->is_string())
    cmd.reason = r->get<std::string>();
  cmd.deadline = now(self) + std::chrono::milliseconds{std::min<uint64_t>(timeout_ms, 86400000)};
  return true;
}

/// Clustered: the leader's pipeline holds the dead letters (console_cluster.cpp).
void forward(broker_ptr self, hdl_t hdl, const console_request& req, command_kind kind,
             const dead_letter_command& x) {
  auto cmd = connection_command(self, hdl, kind);
  cmd.letter = x.letter;
  cmd.text = x.reason;
  cmd.deadline = x.deadline;
  forward_command(self, hdl, req, std::move(cmd));
}

void cmd_requeue(broker_ptr self, hdl_t hdl, const console_request& req) {
  dead_letter_command cmd;
  if (!read_command(self, hdl, req, cmd))
    return;
  if (self->state.deps.cluster)
    return forward(self, hdl, req, command_kind::requeue, cmd);
  auto id = req.id;
  self->request(self->state.deps.pipeline, caf::infinite, atom::requeue_v, std::move(cmd))
    .then(
      [self, hdl, id](outcome& o) {
        send_line(self, hdl,
                  ok_response(id, {{"proposal", to_hex(o.proposal)},
                                   {"status", to_string(o.status)},
                                   {"code", o.code == ec::none ? json(nullptr)
                                                               : json(to_string(o.code))},
                                   {"message", o.message}, {"decided_seq", o.decided_seq.value},
                                   {"applied", o.applied}}));
      },
      [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

void cmd_discard(broker_ptr self, hdl_t hdl, const console_request& req) {
  dead_letter_command cmd;
  if (!read_command(self, hdl, req, cmd))
    return;
  if (self->state.deps.cluster)
    return forward(self, hdl, req, command_kind::discard, cmd);
  auto id = req.id;
  self->request(self->state.deps.pipeline, caf::infinite, atom::discard_v, std::move(cmd))
    .then([self, hdl, id](seq_no& s) { send_line(self, hdl, ok_response(id, {{"seq", s.value}})); },
          [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

} // namespace

bool run_dead_letter_command(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto& cmd = req.cmd;
  if (cmd == "dead-letters")
    cmd_list(self, hdl, req);
  else if (cmd == "requeue")
    cmd_requeue(self, hdl, req);
  else if (cmd == "discard")
    cmd_discard(self, hdl, req);
  else
    return false;
  return true;
}

} // namespace bulwark::console_detail
