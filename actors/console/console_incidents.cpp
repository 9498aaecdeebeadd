// The console's incident commands: `incidents` (with candidates and rollbacks awaiting
// approval), `promote` (a deferred candidate) and `rollback` (an incident's culprits or
// seqs; the operator's request is also its approval), approvals of rollbacks, the
// lifecycle steps (`incident-acknowledge` ... `incident-reopen`) and `incident-report`.

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/console_impl.hpp"
#include "actors/incident/lifecycle_policy.hpp"
#include "actors/incident/postmortem_render.hpp"
#include "persistence/event_json.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

json seqs_json(const std::vector<seq_no>& xs) {
  json out = json::array();
  for (auto& x : xs)
    out.push_back(x.value);
  return out;
}

json incidents_json(const fleet_state& st, const std::vector<digest>& pending) {
  json incidents = json::array(), candidates = json::array(), waiting = json::array();
  for (auto& [id, n] : st.incidents)
    incidents.push_back({{"incident", to_hex(id)}, {"service", n.service}, {"region", n.region},
                         {"severity", to_string(n.level)},
                         {"status", status_name(n.status)},
                         {"acknowledged", n.acknowledged},
                         {"owner", n.owner.empty() ? json(nullptr) : json(n.owner)},
                         {"resolution", n.resolution.empty() ? json(nullptr) : json(n.resolution)},
                         {"notes", n.notes},
                         {"onset", format_time(n.onset)}, {"respond_by", format_time(n.respond_by)},
                         {"culprits", seqs_json(n.culprits)},
                         {"rollback", n.rollback.is_zero() ? json(nullptr) : json(to_hex(n.rollback))},
                         {"mttr_ms", std::chrono::duration_cast<std::chrono::milliseconds>(n.mttr).count()}});
  for (auto& [id, c] : st.candidates)
    candidates.push_back({{"candidate", to_hex(id)}, {"service", c.service}, {"region", c.region},
                          {"policy", c.policy},
                          {"verdict", c.verdict == 0 ? json(nullptr)
                                                     : json(to_string(static_cast<policy_verdict>(c.verdict)))},
                          {"error_ppm", c.error_ppm}, {"culprits", seqs_json(c.culprits)}});
  for (auto& id : pending)
    waiting.push_back(to_hex(id));
  return {{"incidents", incidents}, {"candidates", candidates}, {"rollbacks_awaiting_approval", waiting}};
}

json status_json(const rollback_status& s) {
  return rollback_json(s);
}

void cmd_incidents(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto& d = self->state.deps;
  auto id = req.id;
  if (d.view) { // the incidents read in place once the rollbacks answered
    auto answer = [self, hdl, id](const std::vector<digest>& pending) {
      auto fleet = self->state.deps.view->read();
      send_line(self, hdl, ok_response(id, incidents_json(fleet.state(), pending)));
    };
    self->request(d.rollbacks, caf::infinite, atom::pending_v)
      .then([answer](std::vector<digest>& pending) { answer(pending); },
            [answer](caf::error&) { answer({}); });
    return;
  }
  self->request(d.journal, caf::infinite, atom::state_v)
    .then(
      [self, hdl, id](fleet_state& st) {
        self->request(self->state.deps.rollbacks, caf::infinite, atom::pending_v)
          .then([self, hdl, id, st](std::vector<digest>& pending) {
                  send_line(self, hdl, ok_response(id, incidents_json(st, pending)));
                },
                [self, hdl, id, st](caf::error&) {
                  send_line(self, hdl, ok_response(id, incidents_json(st, {})));
                });
      },
      [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

bool digest_named(const console_request& req, const char* name, digest& out,
                  console_refusal& why) {
  std::string hex;
  if (!string_arg(req, name, hex, why))
    return false;
  if (!parse_digest(hex, out)) {
    why = console_refusal{ec::invalid_input, std::string{"args."} + name
                                               + " must be 64 hex characters", req.id};
    return false;
  }
  return true;
}

std::string optional_text(const console_request& req, const char* name, std::string fallback) {
  if (auto n = req.args.find(name); n != req.args.end() && n->is_string())
    return n->get<std::string>();
  return fallback;
}

void cmd_promote(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  digest cid;
  if (!digest_named(req, "candidate", cid, why))
    return send_line(self, hdl, error_response(why.id, why.code, why.message));
  if (self->state.deps.cluster) { // the leader's orchestrator holds the candidates
    auto cmd = connection_command(self, hdl, command_kind::promote);
    cmd.id = cid;
    cmd.text = optional_text(req, "justification", "promoted from the console");
    return forward_command(self, hdl, req, std::move(cmd));
  }
  auto id = req.id;
  auto orchestrator = self->state.deps.orchestrator ? self->state.deps.orchestrator->get()
                                                    : orchestrator_actor{};
  if (!orchestrator)
    return send_line(self, hdl, error_response(req.id, ec::unavailable,
                                               "the orchestrator is restarting; try again"));
  self->request(orchestrator, caf::infinite, atom::promote_v, cid,
                self->state.conns.at(hdl).principal,
                optional_text(req, "justification", "promoted from the console"))
    .then(
      [self, hdl, id](incident_decision& d) {
        send_line(self, hdl,
                  ok_response(id, {{"incident", d.incident ? json(to_hex(*d.incident)) : json(nullptr)},
                                   {"repeated", d.repeated}}));
      },
      [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

/// Answers a rollback's status; one awaiting approval is approved by the requester.
void on_rollback_status(broker_ptr self, hdl_t hdl, json id, const rollback_status& s,
                        principal_id by) {
  if (s.status != "awaiting-approval")
    return send_line(self, hdl, ok_response(id, status_json(s)));
  self->request(self->state.deps.rollbacks, caf::infinite, atom::approve_v,
                approval{by, s.rollback, true, "requested from the console"})
    .then([self, hdl, id](rollback_status& r) { send_line(self, hdl, ok_response(id, status_json(r))); },
          [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

void cmd_rollback(broker_ptr self, hdl_t hdl, const console_request& req) {
  rollback_order o;
  o.by = self->state.conns.at(hdl).principal;
  o.level = authority_level::assist;
  o.justification = optional_text(req, "justification", "operator rollback from the console");
  console_refusal why;
  if (req.args.count("incident") != 0) {
    if (!digest_named(req, "incident", o.incident, why))
      return send_line(self, hdl, error_response(why.id, why.code, why.message));
  } else {
    auto s = req.args.find("seqs");
    if (s == req.args.end() || !s->is_array() || s->empty() || s->size() > 100000)
      return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                                 "args: give \"incident\" (a digest) or \"seqs\" "
                                                 "(a list of 1 to 100000 seq numbers)"));
    for (auto& x : *s) {
      if (!x.is_number_unsigned())
        return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                                   "args.seqs must hold seq numbers"));
      o.seqs.push_back(seq_no{x.get<uint64_t>()});
    }
  }
  if (self->state.deps.cluster) { // the leader plans and runs it, with the requester's approval
    auto cmd = connection_command(self, hdl, command_kind::rollback);
    cmd.id = o.incident;
    cmd.seqs = std::move(o.seqs);
    cmd.text = std::move(o.justification);
    return forward_command(self, hdl, req, std::move(cmd));
  }
  auto id = req.id;
  auto by = o.by;
  self->request(self->state.deps.rollbacks, caf::infinite, atom::rollback_v, std::move(o))
    .then([self, hdl, id, by](rollback_status& s) { on_rollback_status(self, hdl, id, s, by); },
          [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

/// The text argument of a lifecycle step and whether it must be given.
struct step_text {
  const char* name;
  bool required;
};

step_text text_of(lifecycle_action a) {
  switch (a) {
    case lifecycle_action::acknowledge:
      return {"owner", false};
    case lifecycle_action::note:
      return {"text", true};
    case lifecycle_action::set_severity:
    case lifecycle_action::reopen:
      return {"reason", true};
    case lifecycle_action::resolve:
      return {"resolution", true};
    case lifecycle_action::close:
      return {"resolution", false};
  }
  return {"text", true};
}

/// `incident-acknowledge`, `-note`, `-severity`, `-resolve`, `-close`, `-reopen`: checked
/// and journaled by the orchestrator (lifecycle_policy); bad arguments change nothing.
void cmd_lifecycle(broker_ptr self, hdl_t hdl, const console_request& req, lifecycle_action a) {
  console_refusal why;
  lifecycle_command c;
  c.action = a;
  c.by = self->state.conns.at(hdl).principal;
  if (!digest_named(req, "incident", c.incident, why))
    return refuse_args(self, hdl, why);
  auto t = text_of(a);
  if (t.required || req.args.count(t.name) != 0) {
    if (!string_arg(req, t.name, c.text, why))
      return refuse_args(self, hdl, why);
  }
  if (a == lifecycle_action::acknowledge) {
    if (c.text.empty())
      c.text = c.by.value; // the one who acknowledges owns it unless another is named
    c.note = optional_text(req, "note", "");
  }
  if (a == lifecycle_action::set_severity) {
    std::string level;
    if (!string_arg(req, "severity", level, why))
      return refuse_args(self, hdl, why);
    if (!parse(level, c.level))
      return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                                 "args.severity must be P0, P1, P2 or P3"));
  }
  auto orchestrator = self->state.deps.orchestrator ? self->state.deps.orchestrator->get()
                                                    : orchestrator_actor{};
  if (!orchestrator)
    return send_line(self, hdl, error_response(req.id, ec::unavailable,
                                               "the orchestrator is restarting; try again"));
  auto id = req.id;
  auto incident = to_hex(c.incident);
  self->request(orchestrator, caf::infinite, atom::lifecycle_v, std::move(c))
    .then(
      [self, hdl, id, incident, a](seq_no& s) {
        send_line(self, hdl, ok_response(id, {{"incident", incident}, {"step", to_string(a)},
                                              {"seq", s.value}}));
      },
      [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

/// `incident-report`: the postmortem, read from the journal store (off the writer).
void cmd_incident_report(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  digest incident;
  if (!digest_named(req, "incident", incident, why))
    return refuse_args(self, hdl, why);
  auto r = read_postmortem(*self->state.deps.store, incident, self->state.deps.report_lookback);
  if (!r)
    return send_line(self, hdl, error_response(req.id, r.error()));
  send_line(self, hdl, ok_response(req.id, {{"incident", to_hex(incident)},
                                            {"markdown", to_markdown(*r)},
                                            {"report", to_json(*r)}}));
}

} // namespace

json rollback_json(const rollback_status& s) {
  return {{"rollback", to_hex(s.rollback)}, {"status", s.status},
          {"code", s.code == ec::none ? json(nullptr) : json(to_string(s.code))},
          {"message", s.message}, {"reverted", s.reverted}, {"seq", s.seq.value}};
}

json approval_json(const approval& a, seq_no s) {
  return {{"proposal", to_hex(a.proposal)}, {"decision", a.approve ? "approved" : "denied"},
          {"by", a.approver.value}, {"seq", s.value}};
}

void approve_any(broker_ptr self, hdl_t hdl, const console_request& req, approval a) {
  if (self->state.deps.cluster) { // the leader's rollback executor or pipeline holds it
    auto cmd = connection_command(self, hdl, command_kind::approve);
    cmd.id = a.proposal;
    cmd.flag = a.approve;
    cmd.text = a.note;
    return forward_command(self, hdl, req, std::move(cmd));
  }
  auto id = req.id;
  auto to_pipeline = [self, hdl, id, a] {
    auto done = [self, hdl, id, a](seq_no& s) {
      send_line(self, hdl, ok_response(id, approval_json(a, s)));
    };
    auto failed = [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); };
    // Clustered, the cluster actor routes it to the leader's pipeline or refuses it.
    if (self->state.deps.cluster)
      self->request(self->state.deps.cluster, caf::infinite, atom::approve_v, a).then(done, failed);
    else
      self->request(self->state.deps.pipeline, caf::infinite, atom::approve_v, a).then(done, failed);
  };
  if (!self->state.deps.rollbacks)
    return to_pipeline();
  self->request(self->state.deps.rollbacks, caf::infinite, atom::pending_v)
    .then(
      [self, hdl, id, a, to_pipeline](std::vector<digest>& pending) {
        if (std::find(pending.begin(), pending.end(), a.proposal) == pending.end())
          return to_pipeline();
        self->request(self->state.deps.rollbacks, caf::infinite, atom::approve_v, a)
          .then([self, hdl, id](rollback_status& s) { send_line(self, hdl, ok_response(id, status_json(s))); },
                [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
      },
      [to_pipeline](caf::error&) { to_pipeline(); });
}

bool run_incident_command(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto& cmd = req.cmd;
  if (cmd == "incidents")
    cmd_incidents(self, hdl, req);
  else if (cmd == "promote")
    cmd_promote(self, hdl, req);
  else if (cmd == "rollback")
    cmd_rollback(self, hdl, req);
  else if (cmd == "incident-acknowledge")
    cmd_lifecycle(self, hdl, req, lifecycle_action::acknowledge);
  else if (cmd == "incident-note")
    cmd_lifecycle(self, hdl, req, lifecycle_action::note);
  else if (cmd == "incident-severity")
    cmd_lifecycle(self, hdl, req, lifecycle_action::set_severity);
  else if (cmd == "incident-resolve")
    cmd_lifecycle(self, hdl, req, lifecycle_action::resolve);
  else if (cmd == "incident-close")
    cmd_lifecycle(self, hdl, req, lifecycle_action::close);
  else if (cmd == "incident-reopen")
    cmd_lifecycle(self, hdl, req, lifecycle_action::reopen);
  else if (cmd == "incident-report")
    cmd_incident_report(self, hdl, req);
  else
    return false;
  return true;
}

} // namespace bulwark::console_detail
