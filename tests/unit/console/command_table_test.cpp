// The console's command table: argument checking (every problem named at once), usage
// lines, examples that pass their own checks, and digest prefixes.

#include <doctest/doctest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "actors/console/command_table.hpp"
#include "apps/console_input.hpp"

using namespace bulwark;
using nlohmann::json;

namespace {

console_request request(const std::string& cmd, json args) {
  console_request req;
  req.id = 9;
  req.cmd = cmd;
  req.args = std::move(args);
  return req;
}

std::string refusal(const std::string& cmd, json args) {
  console_refusal why;
  auto req = request(cmd, std::move(args));
  CHECK_FALSE(check_args(req, why));
  CHECK(why.code == ec::invalid_input);
  CHECK(why.id == 9);
  return why.message;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("command table: names are unique and every role is a real one") {
  std::set<std::string> names;
  for (auto& c : command_table()) {
    CHECK_MESSAGE(names.insert(c.name).second, c.name);
    CHECK(required_role(c.name) != console_role::none);
    std::set<std::string> args;
    for (auto& a : c.args)
      CHECK_MESSAGE(args.insert(a.name).second, (c.name + " " + a.name));
  }
  CHECK(names.size() == command_table().size());
  CHECK(find_command("nonsense") == nullptr);
  CHECK(required_role("auth") == console_role::viewer);
  CHECK(required_role("grant") == console_role::admin);
}

TEST_CASE("command table: every example, as typed, passes its command's checks") {
  for (auto& c : command_table()) {
    json req;
    std::string error;
    REQUIRE_MESSAGE(cli::to_request(c.example, 1, req, error), (c.example + ": " + error));
    CHECK(req["cmd"] == c.name);
    auto r = request(c.name, req["args"]);
    normalize_args(r);
    console_refusal why;
    CHECK_MESSAGE(check_args(r, why), (c.example + ": " + why.message));
    for (auto& a : c.args) { // each argument's own example has its type
      auto one = request(c.name, json::object());
      for (auto& b : c.args)
        if (b.required || b.name == a.name) {
          json v;
          REQUIRE(cli::to_request("x " + b.name + "=" + b.example, 1, v, error));
          one.args[b.name] = v["args"][b.name];
        }
      normalize_args(one);
      CHECK_MESSAGE(check_args(one, why), (c.name + " " + a.name + ": " + why.message));
    }
  }
}

TEST_CASE("check_args names every unknown and every missing argument at once") {
  auto msg = refusal("propose", {{"levle", 1}, {"servces", json::array()}});
  CHECK(has(msg, "unknown arguments levle, servces"));
  CHECK(has(msg, "propose takes idempotency_key, level, services"));
  CHECK(has(msg, "missing arguments idempotency_key, level"));
  CHECK(has(msg, "usage: propose idempotency_key=TEXT level=N [services=[...]]"));
  // One of each, in the singular; a command without arguments says so.
  msg = refusal("approve", {{"digest", "abcdef12"}});
  CHECK(has(msg, "unknown argument digest (approve takes proposal, note)"));
  CHECK(has(msg, "missing argument proposal"));
  CHECK(has(refusal("status", {{"verbose", true}}), "status takes none"));
}

TEST_CASE("check_args names every argument of the wrong type") {
  auto msg = refusal("grant", {{"principal", 5.5}, {"level", "two"}, {"until_ms", -1}});
  CHECK(has(msg, "args.principal must be a string"));
  CHECK(has(msg, "args.level must be a non-negative integer"));
  CHECK(has(msg, "args.until_ms must be a non-negative integer"));
  CHECK(has(refusal("rollback", {{"seqs", 4}}), "args.seqs must be a list"));
  // Digests: hex only, at most 64 digits, at least 8.
  CHECK(has(refusal("approve", {{"proposal", "abc"}}), "args.proposal is 3 hex digits: give at least 8"));
  CHECK(has(refusal("approve", {{"proposal", "xyz12345"}}), "64 hex digits, or a unique prefix"));
  CHECK(has(refusal("approve", {{"proposal", std::string(65, 'a')}}), "64 hex digits"));
  CHECK(has(refusal("approve", {{"proposal", 12}}), "must be a digest"));
}

TEST_CASE("check_args accepts good arguments and leaves auth to its own check") {
  console_refusal why;
  CHECK(check_args(request("approve", {{"proposal", std::string(64, 'a')}}), why));
  CHECK(check_args(request("approve", {{"proposal", "ABCDEF12"}, {"note", "ok"}}), why));
  CHECK(check_args(request("log", json::object()), why));
  CHECK(check_args(request("auth", {{"anything", 1}}), why));
  CHECK(check_args(request("nonsense", {{"x", 1}}), why)); // unknown commands: parse_request
}

TEST_CASE("normalize_args takes a number given for text or a digest as its digits") {
  auto req = request("approve", {{"proposal", 12345678}});
  normalize_args(req);
  CHECK(req.args["proposal"] == "12345678");
  req = request("log", {{"from", 5}});
  normalize_args(req);
  CHECK(req.args["from"] == 5); // a count stays a number
  req = request("incident-acknowledge", {{"incident", "b41e07aa"}, {"owner", 1234}});
  normalize_args(req);
  CHECK(req.args["owner"] == "1234");
}

TEST_CASE("usage lines show required and optional arguments as typed") {
  CHECK(usage_of(*find_command("status")) == "status");
  CHECK(usage_of(*find_command("approve")) == "approve proposal=DIGEST [note=TEXT]");
  CHECK(usage_of(*find_command("requeue")) == "requeue letter=N [reason=TEXT] [timeout_ms=N]");
}

TEST_CASE("resolve_digest: a unique prefix, a full digest, ambiguity and no match") {
  std::vector<std::string> known{std::string(64, 'a'), "abcdef01" + std::string(56, '0'),
                                 "abcdef02" + std::string(56, '0')};
  std::string out, why;
  REQUIRE(resolve_digest("aaaaaaaa", known, out, why));
  CHECK(out == known[0]);
  REQUIRE(resolve_digest("ABCDEF01", known, out, why)); // case does not matter
  CHECK(out == known[1]);
  REQUIRE(resolve_digest(known[2], known, out, why));
  CHECK(out == known[2]);
  out.clear();
  CHECK_FALSE(resolve_digest("abcdef0", known, out, why));
  CHECK(why == "2 digests start with abcdef0: give more digits");
  CHECK_FALSE(resolve_digest("12345678", known, out, why));
  CHECK(why == "no digest this node knows starts with 12345678");
  CHECK(out.empty());
  // A digest known twice (a proposal listed by two sources) is one match.
  known.push_back(known[0]);
  CHECK(resolve_digest("aaaaaaaa", known, out, why));
}
