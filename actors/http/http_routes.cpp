#include "actors/http/http_routes.hpp"

namespace bulwark {

using nlohmann::json;

const std::vector<http_route>& http_routes() {
  using b = http_builtin;
  static const std::vector<http_route> table = [] {
    std::vector<http_route> t = {
    {"GET", "/healthz", "", "", false, "", "", b::healthz, "the process serves HTTP"},
    {"GET", "/readyz", "", "", false, "", "", b::readyz,
     "journal writable, governance up, a leader known"},
    {"GET", "/metrics", "", "", false, "", "", b::metrics, "Prometheus text exposition"},
    {"GET", "/", "", "", false, "", "", b::web, "redirects to the web dashboard"},
    {"GET", "/ui/", "", "", false, "", "", b::web, "the web dashboard (docs/dashboard.md)"},
    {"GET", "/ui/{file}", "", "", false, "", "", b::web, "one of the dashboard's files"},
    {"GET", "/v1/status", "status", "", false, "", "", b::none, "node status"},
    {"GET", "/v1/health", "health", "", false, "", "", b::none, "failure modes and indicators"},
    {"GET", "/v1/warnings", "warnings", "", false, "", "", b::none, "early warnings"},
    {"GET", "/v1/cluster", "cluster", "", false, "", "", b::none, "cluster role and peers"},
    {"GET", "/v1/proposals", "proposals", "", false, "", "", b::none,
     "proposals waiting for approval, and running ones"},
    {"POST", "/v1/proposals", "propose", "", false, "", "", b::none,
     "submit a proposal; answers when it finished"},
    {"GET", "/v1/proposals/{id}", "proposals", "", false, "", "proposal", b::none,
     "one waiting or running proposal"},
    {"POST", "/v1/proposals/{id}/approve", "approve", "proposal", false, "", "", b::none,
     "approve a pending proposal or rollback"},
    {"POST", "/v1/proposals/{id}/deny", "deny", "proposal", false, "", "", b::none,
     "deny a pending proposal or rollback"},
    {"POST", "/v1/proposals/{id}/interrupt", "interrupt", "proposal", false, "", "", b::none,
     "interrupt a running level-3 proposal"},
    {"GET", "/v1/incidents", "incidents", "", false, "", "", b::none,
     "incidents, candidates and rollbacks awaiting approval"},
    {"GET", "/v1/incidents/{id}", "incidents", "", false, "incidents", "incident", b::none,
     "one incident"},
    {"POST", "/v1/incidents/{id}/rollback", "rollback", "incident", false, "", "", b::none,
     "roll back an incident's culprits"},
    {"POST", "/v1/incidents/{id}/acknowledge", "incident-acknowledge", "incident", false, "", "",
     b::none, "acknowledge an open incident (owner, note)"},
    {"POST", "/v1/incidents/{id}/notes", "incident-note", "incident", false, "", "", b::none,
     "add a note to an incident"},
    {"POST", "/v1/incidents/{id}/severity", "incident-severity", "incident", false, "", "",
     b::none, "change an incident's severity with a reason"},
    {"POST", "/v1/incidents/{id}/resolve", "incident-resolve", "incident", false, "", "", b::none,
     "resolve an acknowledged incident with a resolution"},
    {"POST", "/v1/incidents/{id}/close", "incident-close", "incident", false, "", "", b::none,
     "close an incident"},
    {"POST", "/v1/incidents/{id}/reopen", "incident-reopen", "incident", false, "", "", b::none,
     "reopen a resolved or closed incident with a reason"},
    {"GET", "/v1/incidents/{id}/report", "incident-report", "incident", false, "", "", b::none,
     "an incident's postmortem report (Markdown and JSON)"},
    {"POST", "/v1/rollbacks", "rollback", "", false, "", "", b::none,
     "roll back journaled seqs: {\"seqs\": [n, ...]}"},
    {"GET", "/v1/candidates", "incidents", "", false, "", "", b::none,
     "candidates, with incidents and rollbacks awaiting approval"},
    {"GET", "/v1/candidates/{id}", "incidents", "", false, "candidates", "candidate", b::none,
     "one candidate"},
    {"GET", "/v1/attempts", "attempts", "", false, "", "", b::none,
     "orchestration attempts, newest first (candidate, service, region, status, limit)"},
    {"POST", "/v1/candidates/{id}/promote", "promote", "candidate", false, "", "", b::none,
     "promote a deferred candidate"},
    {"GET", "/v1/breakers", "breakers", "", false, "", "", b::none, "every service's breaker"},
    {"POST", "/v1/breakers/{id}/force", "breaker-force", "service", false, "", "", b::none,
     "force a breaker open or closed"},
    {"POST", "/v1/breakers/{id}/release", "breaker-release", "service", false, "", "", b::none,
     "release a forced breaker"},
    {"GET", "/v1/grants", "grants", "", false, "", "", b::none,
     "configured and journaled grants, halt state"},
    {"POST", "/v1/grants", "grant", "", false, "", "", b::none, "set a grant"},
    {"POST", "/v1/halt", "halt", "", false, "", "", b::none, "engage the halt"},
    {"POST", "/v1/release", "release", "", false, "", "", b::none, "release the halt"},
    {"GET", "/v1/in-doubt", "in-doubt", "", false, "", "", b::none,
     "actions whose start is journaled and whose outcome is not"},
    {"POST", "/v1/proposals/{id}/resolve", "resolve", "proposal", false, "", "", b::none,
     "settle a proposal's actions in doubt as applied or not"},
    {"POST", "/v1/in-doubt/reconcile", "reconcile", "", false, "", "", b::none,
     "read the actions in doubt back through their probes and settle what agrees"},
    {"GET", "/v1/audit", "audit-pending", "", false, "", "", b::none,
     "level-4 changes waiting for an operator's review"},
    {"POST", "/v1/audit/{id}/ack", "audit-ack", "proposal", false, "", "", b::none,
     "acknowledge the review of a level-4 proposal in the audit queue"},
    {"GET", "/v1/dead-letters", "dead-letters", "", false, "", "", b::none,
     "dead letters waiting for an operator"},
    {"POST", "/v1/dead-letters/{id}/requeue", "requeue", "letter", true, "", "", b::none,
     "run a dead letter's action again"},
    {"POST", "/v1/dead-letters/{id}/discard", "discard", "letter", true, "", "", b::none,
     "discard a dead letter"},
    {"GET", "/v1/events", "log", "", false, "", "", b::none,
     "history: journaled events filtered by seq, time, type and subject, one page"},
    {"GET", "/v1/events/stream", "subscribe", "", false, "", "", b::stream,
     "every committed event from now on, as Server-Sent Events"},
    {"POST", "/v1/metrics", "report", "", false, "", "", b::none,
     "feed metric samples to the incident detector"},
    };
    for (auto& r : t)
      r.immediate = r.command == "status" || r.command == "health" || r.command == "warnings"
                    || r.command == "cluster";
    return t;
  }();
  return table;
}

namespace {

bool parse_seq(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoull(text);
  return true;
}

bool is_history_param(const std::string& name) {
  static const char* const names[] = {"from",      "to",       "since",   "until",
                                      "type",      "principal", "resource", "service",
                                      "incident",  "proposal",  "limit"};
  for (auto* n : names)
    if (name == n)
      return true;
  return false;
}

} // namespace

bool http_request(const http_route& r, const std::string& param,
                  const std::map<std::string, std::string>& query, std::string_view body,
                  console_request& out, console_refusal& why) {
  why = console_refusal{};
  out = console_request{};
  out.cmd = r.command;
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    auto doc = json::parse(body.begin(), body.end(), nullptr, false);
    if (doc.is_discarded()) {
      why.message = "request body is not valid JSON";
      return false;
    }
    if (!doc.is_object()) {
      why.message = "request body must be a JSON object";
      return false;
    }
    out.args = std::move(doc);
  }
  if (!r.param.empty()) {
    if (r.param_is_seq) {
      uint64_t seq = 0;
      if (!parse_seq(param, seq)) {
        why.message = "the path's " + r.param + " must be a seq number";
        return false;
      }
      out.args[r.param] = seq;
    } else {
      out.args[r.param] = param;
    }
  }
  if (r.command == "attempts") {
    // The query's filters become the arguments (checked by the command); `limit` a number.
    for (auto& [key, value] : query) {
      if (key != "limit") {
        out.args[key] = value;
        continue;
      }
      uint64_t n = 0;
      if (!parse_seq(value, n)) {
        why.message = "limit must be a whole number";
        return false;
      }
      out.args[key] = n;
    }
  }
  if (r.command == "log") {
    // The query's parameters become `log`'s arguments as text; the console checks them
    // (the same checks as `bulwark log`), so an unknown one is refused here by name.
    json args = json::object();
    for (auto& [name, value] : query) {
      if (!is_history_param(name)) {
        why.message = "unknown query parameter '" + name.substr(0, 64) + "'";
        return false;
      }
      // Counts go as numbers, as the console takes them; what is not a count stays text
      // and is refused by name.
      uint64_t n = 0;
      if ((name == "from" || name == "to" || name == "limit") && parse_seq(value, n))
        args[name] = n;
      else
        args[name] = value;
    }
    if (!args.contains("limit"))
      args["limit"] = http_events_page;
    out.args = std::move(args);
  }
  return true;
}

json http_select(const http_route& r, const json& result, const std::string& id) {
  const json* list = &result;
  if (!r.list.empty()) {
    auto i = result.find(r.list);
    if (i == result.end())
      return nullptr;
    list = &*i;
  }
  if (!list->is_array())
    return nullptr;
  for (auto& x : *list)
    if (x.is_object() && x.contains(r.key) && x[r.key] == id)
      return x;
  return nullptr;
}

int http_status(ec code, bool authenticated) {
  switch (code) {
    case ec::none:
      return 200;
    case ec::invalid_input:
      return 400;
    case ec::authority_denied:
      return authenticated ? 403 : 401;
    case ec::approval_required:
    case ec::approval_expired:
    case ec::blast_radius_exceeded:
    case ec::halted:
      return 409;
    case ec::rate_limited:
      return 429;
    case ec::circuit_open:
    case ec::overloaded:
    case ec::governance_failure:
    case ec::audit_unavailable:
    case ec::unavailable:
      return 503;
    case ec::timeout:
      return 504;
    case ec::effector_failed:
      return 502;
    case ec::integrity_violation:
      return 500;
  }
  return 500;
}

bool http_response(std::string_view line, bool authenticated, int& status, json& body) {
  auto doc = json::parse(line.begin(), line.end(), nullptr, false);
  if (!doc.is_object() || !doc.contains("ok") || !doc["ok"].is_boolean())
    return false;
  if (doc["ok"] == true) {
    body = doc.contains("result") ? std::move(doc["result"]) : json(nullptr);
    status = 200;
    ec code = ec::none;
    // A proposal refused by governance: its code says why.
    if (body.is_object() && body.contains("status") && body["status"] == "refused"
        && body.contains("code") && body["code"].is_string()
        && parse(body["code"].get<std::string>(), code))
      status = http_status(code, authenticated);
    return true;
  }
  if (!doc.contains("error") || !doc["error"].is_object())
    return false;
  ec code = ec::unavailable;
  auto& err = doc["error"];
  if (!err.contains("code") || !err["code"].is_string()
      || !parse(err["code"].get<std::string>(), code))
    code = ec::unavailable;
  status = http_status(code, authenticated);
  body = json{{"error", std::move(err)}};
  return true;
}

std::string_view http_ok_result(std::string_view line) {
  // ok_response's layout: {"id":ID,"ok":true,"result":RESULT}, then a newline.
  static constexpr std::string_view head = R"({"id":null,"ok":true,"result":)";
  if (!line.empty() && line.back() == '\n')
    line.remove_suffix(1);
  if (line.size() <= head.size() + 1 || line.compare(0, head.size(), head) != 0
      || line.back() != '}')
    return {};
  return line.substr(head.size(), line.size() - head.size() - 1);
}

} // namespace bulwark
