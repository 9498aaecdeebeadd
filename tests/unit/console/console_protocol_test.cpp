// The console protocol's pure core: request parsing, the role table, tokens, responses.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "actors/console/console_protocol.hpp"
#include "persistence/sha256.hpp"

using namespace bulwark;
using nlohmann::json;

namespace {

std::string refusal_of(const std::string& line) {
  console_request req;
  console_refusal why;
  CHECK(!parse_request(line, req, why));
  CHECK(why.code == ec::invalid_input);
  return why.message;
}

} // namespace

TEST_CASE("well-formed requests parse with id, cmd and args") {
  console_request req;
  console_refusal why;
  REQUIRE(parse_request(R"({"id":7,"cmd":"approve","args":{"proposal":"ab"}})", req, why));
  CHECK(req.id == 7);
  CHECK(req.cmd == "approve");
  CHECK(req.args["proposal"] == "ab");
  REQUIRE(parse_request(R"({"cmd":"status"})", req, why));
  CHECK(req.args.is_object());
  REQUIRE(parse_request(R"({"id":"x-1","cmd":"help","args":{}})", req, why));
  CHECK(req.id == "x-1");
}

TEST_CASE("malformed requests are refused with a clear reason") {
  CHECK(refusal_of("not json") == "request is not valid JSON");
  CHECK(refusal_of("[1,2]") == "request must be a JSON object");
  CHECK(refusal_of(R"({"id":1})") == "cmd must be a string");
  CHECK(refusal_of(R"({"cmd":5})") == "cmd must be a string");
  CHECK(refusal_of(R"({"cmd":"status","args":[1]})") == "args must be an object");
  CHECK(refusal_of(R"({"id":{"a":1},"cmd":"status"})") == "id must be an integer, a string or null");
  CHECK(refusal_of(R"({"cmd":"frobnicate"})").find("unknown command 'frobnicate'") == 0);
  CHECK(refusal_of(std::string("\x00\xff\xfe garbage", 12)) == "request is not valid JSON");
  console_request req;
  console_refusal why;
  CHECK(!parse_request(R"({"id":9,"cmd":"nope"})", req, why));
  CHECK(why.id == 9); // the id is echoed when it could be read
}

TEST_CASE("every command has a role, roles nest") {
  CHECK(required_role("status") == console_role::viewer);
  CHECK(required_role("log") == console_role::viewer);
  CHECK(required_role("approve") == console_role::operator_);
  CHECK(required_role("interrupt") == console_role::operator_);
  CHECK(required_role("propose") == console_role::operator_);
  CHECK(required_role("halt") == console_role::admin);
  CHECK(required_role("grant") == console_role::admin);
  CHECK(required_role("breaker-force") == console_role::admin);
  CHECK(required_role("unknown") == console_role::none);
  CHECK(console_role::viewer < console_role::operator_);
  CHECK(console_role::operator_ < console_role::admin);
  console_role r{};
  CHECK(parse("operator", r));
  CHECK(r == console_role::operator_);
  CHECK(!parse("root", r));
}

TEST_CASE("tokens are matched by their SHA-256, never stored in clear") {
  std::string secret = "s3cret";
  std::vector<console_token> tokens;
  tokens.push_back(console_token{sha256(reinterpret_cast<const uint8_t*>(secret.data()),
                                        secret.size()),
                                 principal_id{"ops"}, console_role::operator_});
  auto* t = authenticate(tokens, "s3cret");
  REQUIRE(t != nullptr);
  CHECK(t->principal.value == "ops");
  CHECK(authenticate(tokens, "s3cre") == nullptr);
  CHECK(authenticate(tokens, "") == nullptr);
}

TEST_CASE("responses follow the documented shapes") {
  auto ok = json::parse(ok_response(3, {{"a", 1}}));
  CHECK(ok["id"] == 3);
  CHECK(ok["ok"] == true);
  CHECK(ok["result"]["a"] == 1);
  // One line, byte for byte the document {"id", "ok", "result"} with its keys in order.
  json result{{"b", {1, "two", nullptr}}, {"a", {{"x", 1.5}}}, {"u", "\u00e9\n"}};
  for (json id : {json(7), json("req-1"), json(nullptr)})
    CHECK(ok_response(id, result)
          == json{{"id", id}, {"ok", true}, {"result", result}}.dump() + "\n");
  CHECK(ok_response(1, json::array()) == "{\"id\":1,\"ok\":true,\"result\":[]}\n");
  auto err = json::parse(error_response("r", ec::rate_limited, "slow down", 12, 250));
  CHECK(err["ok"] == false);
  CHECK(err["error"]["code"] == "RATE_LIMITED");
  CHECK(err["error"]["message"] == "slow down");
  CHECK(err["error"]["trace_id"] == 12);
  CHECK(err["error"]["retry_after"] == 250);
  auto none = json::parse(error_response(nullptr, ec::invalid_input, "x"));
  CHECK(none["id"].is_null());
  CHECK(none["error"]["retry_after"].is_null());
  auto push = json::parse(push_message("committed", {{"seq", 5}}));
  CHECK(push["event"] == "committed");
  // Invalid UTF-8 in a message never breaks the JSON line.
  auto bad = error_response(nullptr, ec::invalid_input, std::string("\xff\xfe", 2));
  CHECK(!json::parse(bad, nullptr, false).is_discarded());
}
