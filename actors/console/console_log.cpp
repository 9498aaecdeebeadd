// The console's `log`: a history query (persistence/history_query.hpp) run on the
// history readers, with progress events while it reads and one page as its answer.

#include <chrono>
#include <string>

#include <spdlog/spdlog.h>

#include "caf/send.hpp"

#include "actors/console/console_impl.hpp"
#include "actors/console/history_pool.hpp"
#include "persistence/event_json.hpp"
#include "persistence/history_query.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

/// Every argument `log` takes (the same names as `bulwark log` and GET /v1/events).
const char* const log_arg_names[11] = {"from",     "to",       "since",    "until",
                                     "type",     "principal", "resource", "service",
                                     "incident", "proposal",  "limit"};

namespace {

/// Records read between two progress events.
constexpr uint64_t log_progress_every = 50000;

/// The retry_after of a query refused because every reader is busy.
constexpr int64_t log_retry_ms = 1000;

bool known_arg(const std::string& name) {
  for (auto* n : log_arg_names)
    if (name == n)
      return true;
  return false;
}

/// An argument's text: a string as it is, a number in decimal, `type` also as a list.
bool arg_text(const std::string& name, const json& v, std::string& out) {
  if (v.is_string()) {
    out = v.get<std::string>();
    return true;
  }
  if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
    out = std::to_string(v.get<uint64_t>());
    return true;
  }
  if (name == "type" && v.is_array() && !v.empty()) {
    out.clear();
    for (auto& t : v) {
      if (!t.is_string())
        return false;
      out += (out.empty() ? "" : ",") + t.get<std::string>();
    }
    return true;
  }
  return false;
}

json page_json(const history_page& p) {
  json events = json::array();
  for (auto& e : p.events)
    events.push_back(to_json(e));
  json out = json::object();
  out["head"] = p.head;
  out["events"] = std::move(events);
  out["next"] = p.next == 0 ? json(nullptr) : json(p.next);
  out["scanned"] = p.scanned;
  out["total"] = p.total;
  return out;
}

/// Who asked, for the operational event of a query that timed out or was cancelled.
struct asker {
  std::string principal;
  std::string remote;
};

void log_job(history_ticket& t, const std::shared_ptr<journal_store>& store,
             const history_filter& f, const caf::actor& me, hdl_t hdl, const json& id,
             const asker& who, std::chrono::milliseconds timeout) {
  history_control ctl;
  ctl.stop = [&t] { return t.stop_reason() != 0; };
  ctl.progress_every = log_progress_every;
  ctl.progress = [&](uint64_t done, uint64_t total, uint64_t matched) {
    caf::anon_send(me, atom::verify_v, hdl,
                   push_message("progress", {{"id", id}, {"done", done}, {"total", total},
                                             {"matched", matched}}));
  };
  auto page = read_history(*store, f, ctl);
  auto answer = log_answer(id, f, page, t.stop_reason(), timeout);
  if (!answer.stop_detail.empty()) {
    spdlog::warn("console: {} for {}", answer.stop_detail, who.principal);
    caf::anon_send(me, atom::read_v, atom::access_v, who.principal, who.remote,
                   answer.stop_detail);
  }
  caf::anon_send(me, atom::verify_v, hdl, answer.line);
}

} // namespace

log_outcome log_answer(const json& id, const history_filter& f,
                       const caf::expected<history_page>& page, int stop_reason,
                       std::chrono::milliseconds timeout) {
  if (!page)
    return {error_response(id, page.error()), ""};
  if (!page->stopped)
    return {ok_response(id, page_json(*page)), ""};
  bool cancelled = stop_reason == 2;
  auto where = "after " + std::to_string(page->scanned) + " of " + std::to_string(page->total)
               + " records from seq " + std::to_string(f.from);
  auto detail = cancelled ? "history query cancelled " + where
                          : "history query timed out (" + std::to_string(timeout.count())
                              + " ms) " + where;
  return {error_response(id, cancelled ? ec::unavailable : ec::timeout,
                         detail + "; narrow the range or the filter", 0,
                         cancelled ? -1 : log_retry_ms),
          detail};
}

bool parse_log_args(const console_request& req, history_filter& out, console_refusal& why) {
  why = console_refusal{ec::invalid_input, "", req.id};
  history_filter f;
  if (!req.args.is_null() && !req.args.is_object()) {
    why.message = "args must be an object";
    return false;
  }
  if (req.args.is_object())
    for (auto& [name, value] : req.args.items()) {
      if (!known_arg(name)) {
        why.message = "log: unknown argument '" + name.substr(0, 64) + "'";
        return false;
      }
      std::string text;
      if (!arg_text(name, value, text)) {
        why.message = "args." + name + " must be a string or a number";
        return false;
      }
      if (!set_history_arg(f, name, text, why.message))
        return false;
    }
  if (!check_history_filter(f, why.message))
    return false;
  out = std::move(f);
  return true;
}

void cmd_log(broker_ptr self, hdl_t hdl, const console_request& req) {
  history_filter f;
  console_refusal why;
  if (!parse_log_args(req, f, why))
    return refuse_args(self, hdl, why);
  auto& st = self->state;
  auto& c = st.conns.at(hdl);
  c.queries.prune();
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(st.settings.history_timeout);
  auto job = [store = st.deps.store, f = std::move(f), me = caf::actor_cast<caf::actor>(self),
              hdl, id = req.id, who = asker{c.principal.value, c.remote},
              timeout](history_ticket& t) { log_job(t, store, f, me, hdl, id, who, timeout); };
  auto ticket = st.history->submit(std::move(job), timeout);
  if (!ticket)
    return send_line(self, hdl,
                     error_response(req.id, ec::overloaded,
                                    "every history reader is busy and "
                                      + std::to_string(st.settings.history_queue)
                                      + " queries wait; retry later",
                                    0, log_retry_ms));
  c.queries.add(std::move(ticket));
}

void record_history_stop(broker_ptr self, const std::string& principal,
                         const std::string& remote, const std::string& detail) {
  console_conn c;
  c.principal = principal_id{principal};
  c.remote = remote;
  record_access(self, c, "log", true, detail);
}

} // namespace bulwark::console_detail
