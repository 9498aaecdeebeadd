// The console's commands: each reads its arguments, asks the actor that owns the answer,
// and writes the response (or an error with code, message, trace and retry_after).

#include <functional>
#include <filesystem>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/command_table.hpp"
#include "actors/console/console_impl.hpp"
#include "actors/console/health_json.hpp"
#include "actors/console/notify_json.hpp"
#include "actors/pipeline/recovery.hpp"
#include "messages/cluster.hpp"
#include "persistence/event_json.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

constexpr uint32_t max_report_threads = 4; ///< `report` batches fed at once

/// The retry_after of a `verify` refused while another runs.
constexpr int64_t verify_retry_ms = 1000;

bool digest_arg(const console_request& req, digest& out, console_refusal& why) {
  std::string hex;
  if (!string_arg(req, "proposal", hex, why))
    return false;
  if (!parse_digest(hex, out)) {
    why = console_refusal{ec::invalid_input, "args.proposal must be 64 hex characters", req.id};
    return false;
  }
  return true;
}

/// Seconds since `bulwark backup` last wrote its note beside the journal, or null.
json backup_age(broker_ptr self) {
  std::error_code ec;
  auto note = std::filesystem::path{self->state.deps.store->dir()} / "last-verified-backup.json";
  auto written = std::filesystem::last_write_time(note, ec);
  if (ec)
    return nullptr;
  auto age = std::filesystem::file_time_type::clock::now() - written;
  return std::chrono::duration_cast<std::chrono::seconds>(age).count();
}

json status_json(broker_ptr self) {
  auto& st = self->state;
  auto space = st.deps.store->space();
  // Member by member: an initializer list builds and copies a pair array per member.
  json out = json::object();
  out["node"] = st.settings.node_id;
  out["cluster"] = cluster_brief(self);
  out["head"] = st.deps.store->head().value;
  out["chain"] = to_hex(st.deps.store->head_chain());
  out["degradation"] = st.deps.health ? to_string(st.deps.health->level()) : "unknown";
  out["journal_used_bytes"] = space.used_bytes;
  out["journal_map_bytes"] = space.map_bytes;
  out["connections"] = st.conns.size() - st.http_in_flight;
  out["requests"] = st.requests;
  out["last_verified_backup_age_s"] = backup_age(self);
  auto version = st.deps.policy_version ? st.deps.policy_version() : st.settings.policy_version;
  out["policy_version"] = version.empty() ? json(nullptr) : json(version);
  if (st.deps.notifications)
    out["notifications"] = notify_json(st.deps.notifications());
  if (st.deps.signals) // per series: "ok", or "no_data" with the reason (never "healthy")
    out["signals"] = st.deps.signals();
  return out;
}

void cmd_help(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto role = self->state.conns.at(hdl).role;
  json out = json::array();
  for (auto& c : command_table()) {
    if (c.role > role || c.name == "auth")
      continue;
    json args = json::array();
    for (auto& a : c.args)
      args.push_back({{"name", a.name}, {"required", a.required}, {"type", to_string(a.type)},
                      {"example", a.example}});
    out.push_back({{"cmd", c.name}, {"role", to_string(c.role)}, {"help", c.help},
                   {"usage", usage_of(c)}, {"example", c.example}, {"args", args}});
  }
  send_line(self, hdl, ok_response(req.id, out));
}

void cmd_proposals(broker_ptr self, hdl_t hdl, const console_request& req) {
  ask<std::vector<pending_approval>>(self, hdl, req.id, self->state.deps.pipeline,
    [](std::vector<pending_approval>& xs) {
      json out = json::array();
      for (auto& p : xs) {
        json muts = json::array();
        for (auto& m : p.mutations)
          muts.push_back({{"resource", m.resource.value}, {"key", m.key}, {"value", m.value}});
        json window = nullptr;
        if (p.window.count() > 0)
          window = {{"service", p.window_service}, {"from", format_time(p.window_from)},
                    {"until", format_time(p.window_from + p.window)},
                    {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(p.window).count()}};
        out.push_back({{"proposal", to_hex(p.proposal)}, {"principal", p.principal.value},
                       {"level", static_cast<int>(p.level)}, {"awaiting_approval", p.awaiting},
                       {"mutations", muts}, {"phase", p.phase}, {"applied", p.applied},
                       {"expires", p.awaiting ? json(format_time(p.expires)) : json(nullptr)},
                       {"window", std::move(window)}});
      }
      return out;
    },
    atom::pending_v);
}

/// `in-doubt`: every action whose start is journaled without its outcome, with what the
/// journal knows of it (read off the store, at the journal's committed state).
void cmd_in_doubt(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto id = req.id;
  self->request(self->state.deps.journal, caf::infinite, atom::state_v)
    .then(
      [self, hdl, id](fleet_state& st) {
        auto actions = doubtful_actions(*self->state.deps.store, st);
        if (!actions)
          return send_line(self, hdl, error_response(id, actions.error()));
        json out = json::array();
        for (auto& a : *actions)
          out.push_back({{"proposal", to_hex(a.proposal)}, {"principal", a.principal.value},
                         {"level", static_cast<int>(a.level)},
                         {"decided_seq", a.decided.value}, {"step", a.step},
                         {"resource", a.change.resource.value}, {"key", a.change.key},
                         {"value", a.change.value}, {"started_seq", a.started.value},
                         {"started_at", format_time(a.started_at)},
                         {"journaled_value", a.journaled_value ? json(*a.journaled_value)
                                                               : json(nullptr)}});
        send_line(self, hdl, ok_response(id, out));
      },
      [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

/// `resolve`: settles a proposal's actions in doubt (operator_calls.cpp in the pipeline).
void cmd_resolve(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  digest id;
  std::string outcome, reason;
  if (!digest_arg(req, id, why) || !string_arg(req, "outcome", outcome, why)
      || !string_arg(req, "reason", reason, why))
    return refuse_args(self, hdl, why);
  if (outcome != "applied" && outcome != "not-applied")
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "outcome must be applied or not-applied, not '"
                                                 + outcome + "'"));
  auto r = doubt_resolution{self->state.conns.at(hdl).principal, id, outcome == "applied",
                            reason};
  auto render = [id, outcome](seq_no& s) {
    return json{{"proposal", to_hex(id)}, {"outcome", outcome}, {"seq", s.value}};
  };
  // Clustered, the cluster actor routes it to the leader's pipeline or refuses it.
  if (self->state.deps.cluster)
    return ask<seq_no>(self, hdl, req.id, self->state.deps.cluster, render, atom::resolve_v, r);
  ask<seq_no>(self, hdl, req.id, self->state.deps.pipeline, render, atom::resolve_v, r);
}

/// Runs `job` on a thread of its own, off the broker's (it blocks: probes, the journal, the
/// detector), at most `max_report_threads` at once, and sends the line it returns to `hdl`.
/// Over the bound, the request is answered `OVERLOADED` with `retry_after` 100 ms.
void off_broker(broker_ptr self, hdl_t hdl, const json& id, std::function<std::string()> job) {
  auto running = self->state.reports;
  if (running->fetch_add(1) >= max_report_threads) {
    --*running;
    return send_line(self, hdl, error_response(id, ec::overloaded,
                                               "too many reports being fed; retry", 0, 100));
  }
  auto me = caf::actor_cast<caf::actor>(self);
  std::thread([job = std::move(job), me, hdl, running] {
    auto line = job();
    --*running;
    caf::anon_send(me, atom::verify_v, hdl, std::move(line));
  }).detach();
}

/// An answer of an engine hook as JSON (`ok`, else `code` and `message`): `result` when
/// it is ok, else the error.
std::string hook_answer(const json& id, const json& r, json result) {
  if (r.value("ok", false))
    return ok_response(id, std::move(result));
  auto code = ec::unavailable;
  parse(r.value("code", std::string{"UNAVAILABLE"}), code);
  return error_response(id, code, r.value("message", ""));
}

/// Reloads the governance policy off the broker's thread (it reads the file and waits for
/// the journal) and answers what changed.
void cmd_reload(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto fn = self->state.deps.reload;
  if (!fn)
    return send_line(self, hdl, error_response(req.id, ec::unavailable,
                                               "this node has no policy file to reload"));
  auto by = self->state.conns.at(hdl).principal.value;
  off_broker(self, hdl, req.id, [fn, id = req.id, by] {
    auto r = fn(by);
    return hook_answer(id, r, json{{"changed", r["changed"]}, {"version", r["version"]},
                                   {"previous", r["previous"]}, {"changes", r["changes"]}});
  });
}

/// The verify worker's job: the whole chain, progress for large journals, then the
/// answer tagged `done` so the broker frees the worker.
void verify_job(const std::shared_ptr<journal_store>& store, const caf::actor& me, hdl_t hdl,
                const json& id) {
  auto report = store->verify(seq_no{1}, seq_no{UINT64_MAX}, 2, [&](uint64_t done, uint64_t total) {
    if (total >= 100000)
      caf::anon_send(me, atom::verify_v, hdl,
                     push_message("progress", {{"id", id}, {"done", done}, {"total", total}}));
  });
  json r{{"ok", report.ok}, {"checked", report.checked}};
  if (report.ok) {
    r["head"] = report.head.value;
    r["chain"] = to_hex(report.head_chain);
  } else {
    r["first_bad"] = report.first_bad.value;
    r["reason"] = report.reason;
  }
  caf::anon_send(me, atom::verify_v, atom::done_v, hdl, ok_response(id, r));
}

void cmd_verify(broker_ptr self, hdl_t hdl, const console_request& req) {
  // One verify at a time per node: each reads the whole journal with two threads, so
  // concurrent ones would only slow each other and the writer down.
  if (self->state.verify_running)
    return send_line(self, hdl, error_response(req.id, ec::overloaded,
                                               "a verify is already running on this node",
                                               0, verify_retry_ms));
  // Verification reads LMDB concurrently with the writer; run it off the broker's thread.
  try {
    std::thread(verify_job, self->state.deps.store, caf::actor_cast<caf::actor>(self), hdl,
                req.id).detach();
    self->state.verify_running = true;
  } catch (const std::system_error& e) {
    send_line(self, hdl, error_response(req.id, ec::unavailable,
                                        std::string{"cannot start the verify worker: "} + e.what(),
                                        0, verify_retry_ms));
  }
}

void cmd_subscribe(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto& st = self->state;
  st.conns.at(hdl).subscribed = true;
  follow_journal(self);
  send_line(self, hdl, ok_response(req.id, {{"subscribed", true}, {"from", st.deps.store->head().value + 1}}));
}

void cmd_approve(broker_ptr self, hdl_t hdl, const console_request& req, bool yes) {
  console_refusal why;
  digest id;
  if (!digest_arg(req, id, why))
    return refuse_args(self, hdl, why);
  std::string note;
  if (auto n = req.args.find("note"); n != req.args.end() && n->is_string())
    note = n->get<std::string>();
  // A rollback awaiting approval is approved here too; anything else goes to the pipeline.
  approve_any(self, hdl, req, approval{self->state.conns.at(hdl).principal, id, yes, note});
}

void cmd_interrupt(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  digest id;
  if (!digest_arg(req, id, why))
    return refuse_args(self, hdl, why);
  auto render = [](seq_no&) { return json{{"interrupted", true}}; };
  auto i = interrupt{self->state.conns.at(hdl).principal, id};
  // Clustered, the cluster actor routes it to the leader's pipeline or refuses it.
  if (self->state.deps.cluster)
    return ask<seq_no>(self, hdl, req.id, self->state.deps.cluster, render, atom::interrupt_v, i);
  ask<seq_no>(self, hdl, req.id, self->state.deps.pipeline, render, atom::interrupt_v, i);
}

/// Feeds samples to the detector off the broker's thread (each sample waits for the
/// detector's answer, as the engine's `feed_metric` does).
void cmd_metric_report(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  std::vector<metric_in> samples;
  if (!parse_samples(req, now(self), samples, why))
    return refuse_args(self, hdl, why);
  auto feed = self->state.deps.feed_metric;
  if (!feed)
    return send_line(self, hdl, error_response(req.id, ec::unavailable,
                                               "this node takes no metric samples"));
  off_broker(self, hdl, req.id, [feed, id = req.id, samples = std::move(samples)] {
    uint64_t accepted = 0;
    for (auto& m : samples)
      accepted += feed(m) ? 1 : 0;
    return ok_response(id, json{{"accepted", accepted}, {"refused", samples.size() - accepted}});
  });
}

/// Reads the actions in doubt back through their probes off the broker's thread (each
/// probe may take its timeout) and answers what was settled.
void cmd_reconcile(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto fn = self->state.deps.reconcile;
  if (!fn)
    return send_line(self, hdl, error_response(req.id, ec::unavailable,
                                               "this node reads no probes back"));
  auto timeout = std::chrono::milliseconds{2000};
  if (auto t = req.args.find("timeout_ms"); t != req.args.end()) {
    if (!t->is_number_unsigned() || t->get<uint64_t>() == 0 || t->get<uint64_t>() > 600000)
      return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                                 "args.timeout_ms must be 1 to 600000"));
    timeout = std::chrono::milliseconds{t->get<uint64_t>()};
  }
  auto by = self->state.conns.at(hdl).principal.value;
  off_broker(self, hdl, req.id, [fn, id = req.id, by, timeout] {
    auto r = fn(by, timeout);
    return hook_answer(id, r, json{{"proposals", r["proposals"]}});
  });
}

/// Chaos hooks from the console: refused unless the node's configuration allows it.
void cmd_chaos(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto& chaos = self->state.deps.chaos;
  auto text = [&](const char* key) {
    auto i = req.args.find(key);
    return i != req.args.end() && i->is_string() ? i->get<std::string>() : std::string{};
  };
  auto amount_at = req.args.find("amount");
  uint64_t amount = 0;
  if (amount_at != req.args.end() && !amount_at->is_number_unsigned())
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "args.amount must be a non-negative integer"));
  if (amount_at != req.args.end())
    amount = amount_at->get<uint64_t>();
  auto err = chaos ? chaos->console_command(text("fault"), text("target"), amount)
                   : refuse(ec::authority_denied, "this node has no chaos hooks");
  if (err) {
    auto info = describe(err);
    return send_line(self, hdl, error_response(req.id, info.code, info.message));
  }
  spdlog::warn("console: chaos {} {} {} by {}", text("fault"), text("target"), amount,
               self->state.conns.at(hdl).principal.value);
  send_line(self, hdl, ok_response(req.id, json{{"fault", text("fault")},
                                                {"target", text("target")}, {"amount", amount}}));
}

} // namespace

void refuse_args(broker_ptr self, hdl_t hdl, const console_refusal& why) {
  send_line(self, hdl, error_response(why.id, why.code, why.message));
}

/// Calls `done` with the `status` answer: the node's figures and, from the journal's
/// state, the failed compensations journaled (null when the journal does not answer).
template <class Done>
void with_status(broker_ptr self, Done done) {
  auto journal = self->state.deps.journal;
  if (!journal) {
    auto out = status_json(self);
    out["compensations_failed"] = nullptr;
    return done(std::move(out));
  }
  self->request(journal, caf::infinite, atom::state_v)
    .then(
      [self, done](fleet_state& st) mutable {
        auto out = status_json(self);
        auto n = st.counts.find(static_cast<uint8_t>(event_type::compensation_failed));
        out["compensations_failed"] = n == st.counts.end() ? 0 : n->second;
        done(std::move(out));
      },
      [self, done](caf::error&) mutable {
        auto out = status_json(self);
        out["compensations_failed"] = nullptr;
        done(std::move(out));
      });
}

void run_command(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto& cmd = req.cmd;
  if (cmd == "help")
    return cmd_help(self, hdl, req);
  if (cmd == "status")
    return with_status(self, [self, hdl, id = req.id](json out) {
      send_line(self, hdl, ok_response(id, out));
    });
  if (cmd == "health" || cmd == "warnings") {
    auto& board = self->state.deps.health;
    if (!board)
      return send_line(self, hdl, error_response(req.id, ec::unavailable,
                                                 "this node reports no health"));
    auto snap = board->get();
    auto out = cmd == "health" ? health_json(snap) : warnings_json(snap);
    if (cmd != "health")
      return send_line(self, hdl, ok_response(req.id, out));
    return with_status(self, [self, hdl, id = req.id, out](json status) mutable {
      out["status"] = std::move(status);
      send_line(self, hdl, ok_response(id, out));
    });
  }
  if (cmd == "chaos")
    return cmd_chaos(self, hdl, req);
  if (cmd == "report")
    return cmd_metric_report(self, hdl, req);
  if (cmd == "proposals")
    return cmd_proposals(self, hdl, req);
  if (cmd == "in-doubt")
    return cmd_in_doubt(self, hdl, req);
  if (cmd == "resolve")
    return cmd_resolve(self, hdl, req);
  if (cmd == "reconcile")
    return cmd_reconcile(self, hdl, req);
  if (cmd == "reload")
    return cmd_reload(self, hdl, req);
  if (cmd == "verify")
    return cmd_verify(self, hdl, req);
  if (cmd == "log")
    return cmd_log(self, hdl, req);
  if (cmd == "subscribe")
    return cmd_subscribe(self, hdl, req);
  if (cmd == "propose")
    return cmd_propose(self, hdl, req);
  if (cmd == "approve" || cmd == "deny")
    return cmd_approve(self, hdl, req, cmd == "approve");
  if (cmd == "interrupt")
    return cmd_interrupt(self, hdl, req);
  if (run_governance_command(self, hdl, req))
    return;
  if (run_dead_letter_command(self, hdl, req))
    return;
  if (run_audit_command(self, hdl, req))
    return;
  if (run_incident_command(self, hdl, req))
    return;
  if (run_attempt_command(self, hdl, req))
    return;
  if (run_cluster_command(self, hdl, req))
    return;
  if (run_breaker_command(self, hdl, req))
    return;
  send_line(self, hdl, error_response(req.id, ec::invalid_input, "unknown command " + cmd));
}

} // namespace bulwark::console_detail
