#include "actors/console/command_table.hpp"

#include <algorithm>

namespace bulwark {

namespace {

using nlohmann::json;

console_arg must(std::string name, arg_type type, std::string example) {
  return {std::move(name), true, type, std::move(example)};
}

console_arg may(std::string name, arg_type type, std::string example) {
  return {std::move(name), false, type, std::move(example)};
}

constexpr auto text = arg_type::text;
constexpr auto count = arg_type::count;
constexpr auto hex = arg_type::digest;
constexpr auto list = arg_type::list;
constexpr auto value = arg_type::value;
constexpr auto viewer = console_role::viewer;
constexpr auto operator_ = console_role::operator_;
constexpr auto admin = console_role::admin;

// One row per command; one line per argument, so that a command grows by a line.
std::vector<console_command> make_table() {
  return {
    {"auth", console_role::none, "authenticate (must come first)",
     {must("token", text, "\"...\"")}, "auth token=\"...\""},
    {"help", viewer, "list the commands you may use, as you type them", {}, "help"},
    {"status", viewer, "node, head seq and chain, degradation level, backup age", {}, "status"},
    {"proposals", viewer, "proposals waiting for approval, and running ones", {}, "proposals"},
    {"grants", viewer, "configured and journaled grants, halt state", {}, "grants"},
    {"policy", viewer, "the governance policy in force: its version and every setting", {},
     "policy"},
    {"breakers", viewer, "every service's circuit breaker", {}, "breakers"},
    {"health", viewer,
     "degradation level, every failure mode and indicator (value, thresholds, trend, history)",
     {}, "health"},
    {"warnings", viewer, "early warnings raised (newest last; active or not)", {}, "warnings"},
    {"verify", viewer, "verify the whole chain (progress events)", {}, "verify"},
    {"log", viewer,
     "history: events by seq, time, type and subject, one page and its next seq (progress "
     "events; incident and proposal take whole digests)",
     {
       may("from", count, "1"),
       may("to", count, "50"),
       may("since", value, "\"2026-12-06T07:00:00Z\""),
       may("until", value, "1796540400000"),
       may("type", value, "proposal_decided"),
       may("principal", text, "ops-alice"),
       may("resource", text, "api-eu-1"),
       may("service", text, "api"),
       may("incident", text, "9e4046a39e4046a39e4046a39e4046a39e4046a39e4046a39e4046a39e4046a3"),
       may("proposal", text, "9e4046a39e4046a39e4046a39e4046a39e4046a39e4046a39e4046a39e4046a3"),
       may("limit", count, "100"),
     },
     "log type=proposal_decided principal=ops-alice limit=100"},
    {"subscribe", viewer, "push every committed event from now on", {}, "subscribe"},
    {"propose", operator_,
     "submit a proposal as yourself; one that waits for approval is answered at once and "
     "its outcome arrives as a notice",
     {
       must("idempotency_key", text, "deploy-42"),
       must("level", count, "1"),
       may("services", list, "[\"api\"]"),
       may("regions", list, "[\"eu\"]"),
       may("changes", list, "[{\"resource\":\"api-eu-1\",\"key\":\"replicas\",\"value\":\"3\"}]"),
       may("justification", text, "\"scale for the launch\""),
       may("timeout_ms", count, "600000"),
       may("approval_window_ms", count, "120000"),
     },
     "propose idempotency_key=deploy-42 level=1 services=[\"api\"] regions=[\"eu\"] "
     "changes=[{\"resource\":\"api-eu-1\",\"key\":\"replicas\",\"value\":\"3\"}]"},
    {"approve", operator_, "approve a pending proposal or rollback",
     {must("proposal", hex, "3f2a9c1e"), may("note", text, "\"looks right\"")},
     "approve proposal=3f2a9c1e note=\"looks right\""},
    {"deny", operator_, "deny a pending proposal or rollback",
     {must("proposal", hex, "3f2a9c1e"), may("note", text, "\"not during the launch\"")},
     "deny proposal=3f2a9c1e note=\"not during the launch\""},
    {"interrupt", operator_, "interrupt a running level-3 proposal",
     {must("proposal", hex, "3f2a9c1e")}, "interrupt proposal=3f2a9c1e"},
    {"attempts", viewer,
     "orchestration attempts from the attempts store, newest first (candidate: whole digest)",
     {
       may("candidate", text, "9e4046a39e4046a39e4046a39e4046a39e4046a39e4046a39e4046a39e4046a3"),
       may("service", text, "coaster"),
       may("region", text, "north"),
       may("status", text, "failed"),
       may("limit", count, "20"),
     },
     "attempts status=failed limit=20"},
    {"incidents", viewer, "incidents, candidates and rollbacks awaiting approval", {},
     "incidents"},
    {"promote", operator_, "promote a deferred candidate",
     {must("candidate", hex, "7c01d4e2"), may("justification", text, "\"errors keep rising\"")},
     "promote candidate=7c01d4e2"},
    {"rollback", operator_,
     "roll back an incident's culprits, or seqs (give one of them; your request is its "
     "approval)",
     {
       may("incident", hex, "b41e07aa"),
       may("seqs", list, "[17,18]"),
       may("justification", text, "\"undo the bad deploy\""),
     },
     "rollback incident=b41e07aa"},
    {"incident-acknowledge", operator_, "take an open incident (owner: you unless named)",
     {must("incident", hex, "b41e07aa"), may("owner", text, "alice"),
      may("note", text, "\"looking\"")},
     "incident-acknowledge incident=b41e07aa"},
    {"incident-note", operator_, "add a note to an incident",
     {must("incident", hex, "b41e07aa"), must("text", text, "\"cache flushed\"")},
     "incident-note incident=b41e07aa text=\"cache flushed\""},
    {"incident-severity", operator_, "change an incident's severity (P0..P3)",
     {must("incident", hex, "b41e07aa"), must("severity", text, "P1"),
      must("reason", text, "\"customers affected\"")},
     "incident-severity incident=b41e07aa severity=P1 reason=\"customers affected\""},
    {"incident-resolve", operator_, "resolve an acknowledged incident",
     {must("incident", hex, "b41e07aa"), must("resolution", text, "\"rolled back\"")},
     "incident-resolve incident=b41e07aa resolution=\"rolled back\""},
    {"incident-close", operator_,
     "close an incident (resolution needed unless resolved; the reason when never "
     "acknowledged)",
     {must("incident", hex, "b41e07aa"), may("resolution", text, "\"duplicate\"")},
     "incident-close incident=b41e07aa resolution=\"duplicate\""},
    {"incident-reopen", operator_, "reopen a resolved or closed incident",
     {must("incident", hex, "b41e07aa"), must("reason", text, "\"errors are back\"")},
     "incident-reopen incident=b41e07aa reason=\"errors are back\""},
    {"incident-report", viewer, "an incident's postmortem from the journal (Markdown and JSON)",
     {must("incident", hex, "b41e07aa")}, "incident-report incident=b41e07aa"},
    {"in-doubt", viewer,
     "actions whose start is journaled and whose outcome is not (after a crash)", {},
     "in-doubt"},
    {"resolve", operator_,
     "settle a proposal's actions in doubt as applied or not, and finish it",
     {must("proposal", hex, "3f1c0a9b"), must("outcome", text, "not-applied"),
      must("reason", text, "\"the controller still runs 2.0.0\"")},
     "resolve proposal=3f1c0a9b outcome=not-applied reason=\"the controller still runs 2.0.0\""},
    {"reconcile", operator_,
     "read the actions in doubt back through their probes and settle the proposals whose "
     "readings agree",
     {may("timeout_ms", count, "2000")}, "reconcile timeout_ms=2000"},
    {"audit-pending", viewer,
     "level-4 changes waiting for an operator's review, oldest first", {}, "audit-pending"},
    {"audit-ack", operator_,
     "acknowledge your review of a level-4 proposal in the audit queue",
     {must("proposal", hex, "5d0e7a21"), may("note", text, "\"checked the dashboards\"")},
     "audit-ack proposal=5d0e7a21 note=\"checked the dashboards\""},
    {"dead-letters", viewer,
     "actions whose retries were exhausted, waiting for an operator (by seq)", {},
     "dead-letters"},
    {"requeue", operator_, "run a dead letter's action again as a new proposal of its principal",
     {must("letter", count, "42"), may("reason", text, "\"effector fixed\""),
      may("timeout_ms", count, "60000")},
     "requeue letter=42 reason=\"effector fixed\""},
    {"discard", operator_, "discard a dead letter",
     {must("letter", count, "42"), may("reason", text, "\"done by hand\"")},
     "discard letter=42 reason=\"done by hand\""},
    {"report", operator_,
     "feed metric samples to the incident detector (at most 1000; at_ms optional)",
     {must("samples", list,
           "[{\"service\":\"api\",\"region\":\"eu\",\"error_rate\":0.2,\"latency_ms\":900}]")},
     "report samples=[{\"service\":\"api\",\"region\":\"eu\",\"error_rate\":0.2,"
     "\"latency_ms\":900}]"},
    {"halt", admin, "engage the halt", {must("reason", text, "\"stop everything\"")},
     "halt reason=\"stop everything\""},
    {"chaos", admin,
     "inject a fault (only where [chaos] enabled and console are set): fail-effector, "
     "delay-effector, fail-journal, kill, delay-messages or off",
     {must("fault", text, "fail-effector"), may("target", text, "api"),
      may("amount", count, "3")},
     "chaos fault=fail-effector target=api amount=3"},
    {"reload", admin,
     "read the configuration file's governance policy again and journal what changed", {},
     "reload"},
    {"release", admin, "release the halt", {must("reason", text, "\"all clear\"")},
     "release reason=\"all clear\""},
    {"grant", admin, "set a grant (level 0-4; until_ms: ms since the epoch)",
     {must("principal", text, "alice"), must("level", count, "2"),
      may("until_ms", count, "1893456000000"), may("reason", text, "\"on call\"")},
     "grant principal=alice level=2 reason=\"on call\""},
    {"breaker-force", admin, "force a breaker open or closed",
     {must("service", text, "api"), must("state", text, "open")},
     "breaker-force service=api state=open"},
    {"breaker-release", admin, "release a forced breaker", {must("service", text, "api")},
     "breaker-release service=api"},
    {"cluster", viewer, "role, term, leader, head, peers with heads and lag", {}, "cluster"},
    {"cluster-promote", admin, "make this follower the leader", {must("term", count, "2")},
     "cluster-promote term=2"},
  };
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

/// Why `v` is not of type `t`, or "".
std::string type_problem(const console_arg& a, const json& v) {
  auto name = "args." + a.name;
  switch (a.type) {
    case arg_type::text:
      return v.is_string() ? "" : name + " must be a string";
    case arg_type::count:
      return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)
               ? ""
               : name + " must be a non-negative integer";
    case arg_type::list:
      return v.is_array() ? "" : name + " must be a list";
    case arg_type::value:
      return v.is_string() || v.is_number() || v.is_array()
               ? ""
               : name + " must be a string, a number or a list";
    case arg_type::digest: {
      if (!v.is_string())
        return name + " must be a digest (a string of hex digits)";
      auto& s = v.get_ref<const std::string&>();
      if (s.size() > 64 || !is_hex(s))
        return name + " must be a digest: 64 hex digits, or a unique prefix of at least 8";
      if (s.size() < min_digest_prefix)
        return name + " is " + std::to_string(s.size()) + " hex digits: give at least "
               + std::to_string(min_digest_prefix);
      return "";
    }
  }
  return "";
}

std::string quoted_list(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

} // namespace

const char* to_string(arg_type x) noexcept {
  switch (x) {
    case arg_type::text:
      return "text";
    case arg_type::count:
      return "count";
    case arg_type::digest:
      return "digest";
    case arg_type::list:
      return "list";
    case arg_type::value:
      return "value";
  }
  return "text";
}

const std::vector<console_command>& command_table() {
  static const std::vector<console_command> table = make_table();
  return table;
}

const console_command* find_command(std::string_view name) {
  for (auto& c : command_table())
    if (c.name == name)
      return &c;
  return nullptr;
}

void normalize_args(console_request& req) {
  auto* c = find_command(req.cmd);
  if (c == nullptr)
    return;
  for (auto& a : c->args)
    if (a.type == arg_type::text || a.type == arg_type::digest)
      if (auto v = req.args.find(a.name); v != req.args.end() && v->is_number_integer()
                                          && v->get<int64_t>() >= 0)
        *v = std::to_string(v->get<uint64_t>());
}

bool check_args(const console_request& req, console_refusal& why) {
  auto* c = find_command(req.cmd);
  if (c == nullptr || c->name == "auth")
    return true;
  std::vector<std::string> unknown, missing, problems;
  for (auto& item : req.args.items()) {
    const auto& key = item.key();
    auto a = std::find_if(c->args.begin(), c->args.end(),
                          [&key](const console_arg& x) { return x.name == key; });
    if (a == c->args.end())
      unknown.push_back(key.substr(0, 64));
    else if (auto p = type_problem(*a, item.value()); !p.empty())
      problems.push_back(p);
  }
  for (auto& a : c->args)
    if (a.required && req.args.count(a.name) == 0)
      missing.push_back(a.name);
  if (unknown.empty() && missing.empty() && problems.empty())
    return true;
  std::string msg;
  auto add = [&](const std::string& part) { msg += (msg.empty() ? "" : "; ") + part; };
  if (!unknown.empty()) {
    std::vector<std::string> names;
    for (auto& a : c->args)
      names.push_back(a.name);
    add(std::string{unknown.size() == 1 ? "unknown argument " : "unknown arguments "}
        + quoted_list(unknown) + " (" + c->name
        + (names.empty() ? " takes none)" : " takes " + quoted_list(names) + ")"));
  }
  if (!missing.empty())
    add(std::string{missing.size() == 1 ? "missing argument " : "missing arguments "}
        + quoted_list(missing));
  for (auto& p : problems)
    add(p);
  why = console_refusal{ec::invalid_input, msg + " (usage: " + usage_of(*c) + ")", req.id};
  return false;
}

std::string usage_of(const console_command& c) {
  std::string out = c.name;
  for (auto& a : c.args) {
    std::string placeholder = a.type == arg_type::count    ? "N"
                              : a.type == arg_type::digest ? "DIGEST"
                              : a.type == arg_type::list   ? "[...]"
                              : a.type == arg_type::value  ? "VALUE"
                                                           : "TEXT";
    auto word = a.name + "=" + placeholder;
    out += " " + (a.required ? word : "[" + word + "]");
  }
  return out;
}

bool resolve_digest(std::string_view text, const std::vector<std::string>& known,
                    std::string& out, std::string& why) {
  std::string prefix{text};
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; });
  std::vector<std::string> hits;
  for (auto& k : known)
    if (k.compare(0, prefix.size(), prefix) == 0
        && std::find(hits.begin(), hits.end(), k) == hits.end())
      hits.push_back(k);
  if (hits.size() == 1) {
    out = hits.front();
    return true;
  }
  why = hits.empty() ? "no digest this node knows starts with " + prefix
                     : std::to_string(hits.size()) + " digests start with " + prefix
                         + ": give more digits";
  return false;
}

} // namespace bulwark
