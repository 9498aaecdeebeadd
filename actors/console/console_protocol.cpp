#include "actors/console/console_protocol.hpp"

#include <cmath>

#include "persistence/sha256.hpp"

namespace bulwark {

using nlohmann::json;

const char* to_string(console_role x) noexcept {
  switch (x) {
    case console_role::none:
      return "none";
    case console_role::viewer:
      return "viewer";
    case console_role::operator_:
      return "operator";
    case console_role::admin:
      return "admin";
  }
  return "none";
}

bool parse(std::string_view name, console_role& out) noexcept {
  for (auto r : {console_role::viewer, console_role::operator_, console_role::admin})
    if (name == to_string(r)) {
      out = r;
      return true;
    }
  return false;
}

const std::vector<std::tuple<std::string, console_role, std::string>>& console_commands() {
  static const std::vector<std::tuple<std::string, console_role, std::string>> table = {
    {"auth", console_role::none, "authenticate: {\"token\": \"...\"} (must come first)"},
    {"help", console_role::viewer, "list the commands you may use"},
    {"status", console_role::viewer, "node, head seq and chain, degradation level, backup age"},
    {"proposals", console_role::viewer, "proposals waiting for approval, and running ones"},
    {"grants", console_role::viewer, "configured and journaled grants, halt state"},
    {"breakers", console_role::viewer, "every service's circuit breaker"},
    {"health", console_role::viewer,
     "degradation level, every failure mode and indicator (value, thresholds, trend, history)"},
    {"warnings", console_role::viewer, "early warnings raised (newest last; active or not)"},
    {"verify", console_role::viewer, "verify the whole chain (progress events)"},
    {"log", console_role::viewer, "events by seq range: {\"from\", \"to\"} (progress events)"},
    {"subscribe", console_role::viewer, "push every committed event from now on"},
    {"propose", console_role::operator_,
     "submit a proposal as yourself: {\"idempotency_key\", \"level\", \"services\", "
     "\"regions\", \"changes\": [{\"resource\", \"key\", \"value\"}], \"timeout_ms\"?}"},
    {"approve", console_role::operator_,
     "approve a pending proposal or rollback: {\"proposal\": digest}"},
    {"deny", console_role::operator_, "deny a pending proposal: {\"proposal\": digest}"},
    {"interrupt", console_role::operator_, "interrupt a running level-3 proposal"},
    {"incidents", console_role::viewer, "incidents, candidates and rollbacks awaiting approval"},
    {"attempts", console_role::viewer,
     "orchestration attempts, newest first: {\"candidate\"?: digest, \"service\"?, "
     "\"region\"?, \"status\"?: succeeded|failed, \"limit\"?: 1..1000 (100)}"},
    {"promote", console_role::operator_,
     "promote a deferred candidate: {\"candidate\": digest, \"justification\"?}"},
    {"rollback", console_role::operator_,
     "roll back an incident's culprits or seqs (your request is its approval): "
     "{\"incident\": digest} or {\"seqs\": [n, ...]}"},
    {"incident-acknowledge", console_role::operator_,
     "take an open incident: {\"incident\": digest, \"owner\"?: you, \"note\"?}"},
    {"incident-note", console_role::operator_,
     "add a note to an incident: {\"incident\": digest, \"text\"}"},
    {"incident-severity", console_role::operator_,
     "change an incident's severity: {\"incident\": digest, \"severity\": P0..P3, \"reason\"}"},
    {"incident-resolve", console_role::operator_,
     "resolve an acknowledged incident: {\"incident\": digest, \"resolution\"}"},
    {"incident-close", console_role::operator_,
     "close an incident: {\"incident\": digest, \"resolution\"? (needed unless resolved; "
     "the reason when never acknowledged)}"},
    {"incident-reopen", console_role::operator_,
     "reopen a resolved or closed incident: {\"incident\": digest, \"reason\"}"},
    {"incident-report", console_role::viewer,
     "an incident's postmortem from the journal: {\"incident\": digest} (Markdown and JSON)"},
    {"dead-letters", console_role::viewer,
     "actions whose retries were exhausted, waiting for an operator (by seq)"},
    {"requeue", console_role::operator_,
     "run a dead letter's action again as a new proposal of its principal: {\"letter\": seq, "
     "\"reason\"?, \"timeout_ms\"?}"},
    {"discard", console_role::operator_, "discard a dead letter: {\"letter\": seq, \"reason\"?}"},
    {"report", console_role::operator_,
     "feed metric samples to the incident detector: {\"samples\": [{\"service\", "
     "\"region\", \"error_rate\", \"latency_ms\", \"at_ms\"?}]} (at most 1000)"},
    {"halt", console_role::admin, "engage the halt: {\"reason\"}"},
    {"chaos", console_role::admin,
     "inject a fault (only where [chaos] enabled and console are set): {\"fault\": "
     "fail-effector|delay-effector|fail-journal|kill|delay-messages|off, \"target\", "
     "\"amount\"}"},
    {"release", console_role::admin, "release the halt: {\"reason\"}"},
    {"grant", console_role::admin, "set a grant: {\"principal\", \"level\", \"until_ms\"?}"},
    {"breaker-force", console_role::admin, "force a breaker: {\"service\", \"state\": open|closed}"},
    {"breaker-release", console_role::admin, "release a forced breaker: {\"service\"}"},
    {"cluster", console_role::viewer, "role, term, leader, head, peers with heads and lag"},
    {"cluster-promote", console_role::admin, "make this follower the leader: {\"term\"}"},
  };
  return table;
}

console_role required_role(const std::string& cmd) {
  for (auto& [name, role, text] : console_commands())
    if (name == cmd)
      return name == "auth" ? console_role::viewer : role;
  return console_role::none;
}

bool parse_request(std::string_view line, console_request& out, console_refusal& why) {
  why = console_refusal{};
  auto doc = json::parse(line.begin(), line.end(), nullptr, false);
  if (doc.is_discarded()) {
    why.message = "request is not valid JSON";
    return false;
  }
  if (!doc.is_object()) {
    why.message = "request must be a JSON object";
    return false;
  }
  if (auto id = doc.find("id"); id != doc.end()) {
    if (!id->is_number_integer() && !id->is_number_unsigned() && !id->is_string()
        && !id->is_null()) {
      why.message = "id must be an integer, a string or null";
      return false;
    }
    if (id->is_string() && id->get_ref<const std::string&>().size() > 128) {
      why.message = "id is longer than 128 characters";
      return false;
    }
    out.id = *id;
    why.id = *id;
  }
  auto cmd = doc.find("cmd");
  if (cmd == doc.end() || !cmd->is_string()) {
    why.message = "cmd must be a string";
    return false;
  }
  out.cmd = cmd->get<std::string>();
  if (auto args = doc.find("args"); args != doc.end()) {
    if (!args->is_object()) {
      why.message = "args must be an object";
      return false;
    }
    out.args = *args;
  }
  if (required_role(out.cmd) == console_role::none) {
    why.message = "unknown command '" + out.cmd.substr(0, 64) + "' (try help)";
    return false;
  }
  return true;
}

const console_token* authenticate(const std::vector<console_token>& tokens,
                                  std::string_view token) {
  auto h = sha256(reinterpret_cast<const uint8_t*>(token.data()), token.size());
  const console_token* found = nullptr;
  for (auto& t : tokens)
    if (t.sha256 == h) // digest's operator== compares in constant time
      found = &t;
  return found;
}

std::string ok_response(const json& id, const json& result) {
  // The text of json{{"id", id}, {"ok", true}, {"result", result}}.dump() (keys in order),
  // without copying the result into a new document first.
  auto out = "{\"id\":" + id.dump();
  out += ",\"ok\":true,\"result\":";
  out += result.dump();
  out += "}\n";
  return out;
}

std::string error_response(const json& id, ec code, const std::string& message,
                           uint64_t trace, int64_t retry_after_ms) {
  json err{{"code", to_string(code)}, {"message", message}, {"trace_id", trace},
           {"retry_after", retry_after_ms >= 0 ? json(retry_after_ms) : json(nullptr)}};
  return json{{"id", id}, {"ok", false}, {"error", err}}.dump(-1, ' ', false,
                                                               json::error_handler_t::replace)
         + "\n";
}

std::string error_response(const json& id, const caf::error& err) {
  auto info = describe(err);
  int64_t retry = -1;
  if (info.retry_after)
    retry = std::chrono::duration_cast<std::chrono::milliseconds>(*info.retry_after).count();
  return error_response(id, info.code == ec::none ? ec::unavailable : info.code, info.message,
                        info.trace.value, retry);
}

std::string push_message(const std::string& event, const json& data) {
  return json{{"event", event}, {"data", data}}.dump(-1, ' ', false,
                                                     json::error_handler_t::replace)
         + "\n";
}

bool string_arg(const console_request& req, const char* name, std::string& out,
                console_refusal& why) {
  auto i = req.args.find(name);
  if (i == req.args.end() || !i->is_string()) {
    why = console_refusal{ec::invalid_input, std::string{"args."} + name + " must be a string",
                          req.id};
    return false;
  }
  out = i->get<std::string>();
  return true;
}

bool uint_arg(const console_request& req, const char* name, uint64_t& out,
              console_refusal& why) {
  auto i = req.args.find(name);
  if (i == req.args.end())
    return true;
  if (!i->is_number_unsigned() && !(i->is_number_integer() && i->get<int64_t>() >= 0)) {
    why = console_refusal{ec::invalid_input,
                          std::string{"args."} + name + " must be a non-negative integer", req.id};
    return false;
  }
  out = i->get<uint64_t>();
  return true;
}

bool parse_samples(const console_request& req, caf::timestamp now, std::vector<metric_in>& out,
                   console_refusal& why) {
  auto fail = [&](std::string message) {
    why = console_refusal{ec::invalid_input, std::move(message), req.id};
    return false;
  };
  auto list = req.args.find("samples");
  if (list == req.args.end() || !list->is_array() || list->empty())
    return fail("args.samples must be a non-empty list");
  if (list->size() > max_report_samples)
    return fail("at most " + std::to_string(max_report_samples) + " samples per report");
  for (size_t i = 0; i < list->size(); ++i) {
    auto& x = (*list)[i];
    auto where = "args.samples[" + std::to_string(i) + "]";
    if (!x.is_object())
      return fail(where + " must be an object");
    metric_in m;
    for (auto [key, dst] : {std::pair{"service", &m.service}, std::pair{"region", &m.region}}) {
      auto v = x.find(key);
      if (v == x.end() || !v->is_string() || !is_valid_id(v->get<std::string>()))
        return fail(where + "." + key + " must be a name");
      *dst = v->get<std::string>();
    }
    auto number = [&](const char* key, double& dst, double max) {
      auto v = x.find(key);
      if (v == x.end() || !v->is_number() || !std::isfinite(v->get<double>())
          || v->get<double>() < 0 || v->get<double>() > max)
        return false;
      dst = v->get<double>();
      return true;
    };
    if (!number("error_rate", m.error_rate, 1.0))
      return fail(where + ".error_rate must be a number from 0 to 1");
    if (!number("latency_ms", m.latency_ms, 1e9))
      return fail(where + ".latency_ms must be a number from 0 to 1e9");
    m.at = now;
    if (auto at = x.find("at_ms"); at != x.end()) {
      if (!at->is_number_integer() || at->get<int64_t>() <= 0
          || at->get<int64_t>() > 4102444800000) // 2100-01-01
        return fail(where + ".at_ms must be milliseconds since the epoch");
      m.at = caf::timestamp{std::chrono::milliseconds{at->get<int64_t>()}};
    }
    out.push_back(std::move(m));
  }
  return true;
}

} // namespace bulwark
