// `bulwark console`'s input: typed lines to requests, and tab completion of commands and
// argument names (pure functions, no terminal).

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "apps/console_input.hpp"

using namespace bulwark::cli;
using nlohmann::json;

namespace {

std::vector<command_names> table() {
  return {{"approve", {"proposal", "note"}},
          {"incident-note", {"incident", "text"}},
          {"incidents", {}},
          {"propose", {"idempotency_key", "level", "services"}},
          {"status", {}}};
}

using words = std::vector<std::string>;

} // namespace

TEST_CASE("split_words keeps quoted text and bracketed values whole") {
  words out;
  std::string error;
  REQUIRE(split_words(R"(  incident-note incident=ab text="cache flushed, \"twice\""  )", out,
                      error));
  CHECK(out == words{"incident-note", "incident=ab", R"(text="cache flushed, \"twice\"")"});
  REQUIRE(split_words(R"(propose changes=[{"key": "a b"}, {"x": [1, 2]}] level=1)", out, error));
  CHECK(out == words{"propose", R"(changes=[{"key": "a b"}, {"x": [1, 2]}])", "level=1"});
  CHECK_FALSE(split_words(R"(halt reason="no end)", out, error));
  CHECK(error == "a quote is not closed");
  CHECK_FALSE(split_words("propose services=[\"a\"", out, error));
  CHECK(error == "a bracket is not closed");
}

TEST_CASE("to_request: JSON values as JSON, other words as text, quoted text with blanks") {
  json req;
  std::string error;
  REQUIRE(to_request(R"(halt reason="disk full on db-1")", 4, req, error));
  CHECK(req == json{{"id", 4}, {"cmd", "halt"}, {"args", {{"reason", "disk full on db-1"}}}});
  REQUIRE(to_request(R"(propose idempotency_key=k-1 level=1 services=["api", "web"])", 5, req, error));
  CHECK(req["args"]["idempotency_key"] == "k-1");
  CHECK(req["args"]["level"] == 1);
  CHECK(req["args"]["services"] == json{"api", "web"});
  REQUIRE(to_request("status", 6, req, error));
  CHECK(req["args"].empty());
  REQUIRE(to_request(R"({"cmd":"status"})", 7, req, error)); // raw JSON keeps working
  CHECK(req["id"] == 7);
}

TEST_CASE("to_request refuses what it cannot send, saying why") {
  json req;
  std::string error;
  CHECK_FALSE(to_request("approve 3f2a9c1e", 1, req, error));
  CHECK(error == "arguments are key=value, got '3f2a9c1e'");
  CHECK_FALSE(to_request("approve =x", 1, req, error));
  CHECK_FALSE(to_request(R"(propose services=["a",])", 1, req, error));
  CHECK(error == "the value of services is not valid JSON");
  CHECK_FALSE(to_request("   ", 1, req, error));
  CHECK(error == "no command");
  CHECK_FALSE(to_request("{nope", 1, req, error));
  CHECK(error == "not a JSON object");
}

TEST_CASE("completion: command names for the first word") {
  auto t = table();
  CHECK(complete("", t).size() == 5);
  CHECK(complete("inc", t) == words{"incident-note", "incidents"});
  CHECK(complete("st", t) == words{"status"});
  CHECK(complete("zz", t).empty());
  CHECK(complete("  app", t) == words{"approve"});
}

TEST_CASE("completion: argument names not given yet, as name=") {
  auto t = table();
  CHECK(complete("approve ", t) == words{"note=", "proposal="});
  CHECK(complete("approve p", t) == words{"proposal="});
  CHECK(complete("approve proposal=3f2a9c1e ", t) == words{"note="});
  CHECK(complete("propose level=1 ", t) == words{"idempotency_key=", "services="});
  CHECK(complete("status ", t).empty());
  CHECK(complete("nonsense ", t).empty());
}

TEST_CASE("completion: nothing inside a value") {
  auto t = table();
  CHECK(complete("approve proposal=3f", t).empty());
  CHECK(complete("incident-note text=\"half a ", t).empty());
  CHECK(complete("propose services=[\"api\", ", t).empty());
}

TEST_CASE("commands_from_help reads names and arguments, skipping bad entries") {
  json help = json::array({{{"cmd", "approve"}, {"args", {{{"name", "proposal"}}, {{"name", "note"}}}}},
                           {{"cmd", "status"}, {"args", json::array()}},
                           {{"nocmd", 1}},
                           {{"cmd", "odd"}, {"args", {1, {{"name", 2}}}}}});
  auto cmds = commands_from_help(help);
  REQUIRE(cmds.size() == 3);
  CHECK(cmds[0].name == "approve");
  CHECK(cmds[0].args == words{"proposal", "note"});
  CHECK(cmds[1].args.empty());
  CHECK(cmds[2].args.empty());
  CHECK(commands_from_help(json::object()).empty());
}

TEST_CASE("help_text shows usage, description and example, other answers are not help") {
  json help = json::array({{{"cmd", "status"}, {"usage", "status"}, {"help", "node status"},
                            {"example", "status"}},
                           {{"cmd", "approve"}, {"usage", "approve proposal=DIGEST [note=TEXT]"},
                            {"help", "approve a pending proposal"},
                            {"example", "approve proposal=3f2a9c1e"}}});
  CHECK(help_text(help) == "status\n    node status\n"
                           "approve proposal=DIGEST [note=TEXT]\n    approve a pending proposal\n"
                           "    e.g. approve proposal=3f2a9c1e\n");
  CHECK(help_text(json::array()).empty());
  CHECK(help_text(json::array({{{"proposal", "ab"}}})).empty()); // `proposals`
  CHECK(help_text(json{{"usage", "x"}}).empty());
}
