// The HTTP API's pure core: request translation, status codes, and the OpenAPI document
// against the registered routes (both directions).

#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "actors/http/http_routes.hpp"

using namespace bulwark;
using nlohmann::json;

namespace {

const http_route& route(const std::string& method, const std::string& path) {
  for (auto& r : http_routes())
    if (r.method == method && r.path == path)
      return r;
  FAIL("no route " << method << " " << path);
  throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("http routes: the attempts' query parameters become the command's filters") {
  console_request out;
  console_refusal why;
  auto& attempts = route("GET", "/v1/attempts");
  REQUIRE(http_request(attempts, "", {{"status", "failed"}, {"limit", "20"}, {"service", "coaster"}},
                       "", out, why));
  CHECK(out.cmd == "attempts");
  CHECK(out.args["status"] == "failed");
  CHECK(out.args["limit"] == 20); // a number, as the console takes it
  CHECK(out.args["service"] == "coaster");
  // Unknown parameters reach the command, which refuses them by name.
  REQUIRE(http_request(attempts, "", {{"colour", "red"}}, "", out, why));
  CHECK(out.args["colour"] == "red");
  CHECK_FALSE(http_request(attempts, "", {{"limit", "ten"}}, "", out, why));
  CHECK(why.message == "limit must be a whole number");
}

TEST_CASE("http routes: the path parameter and the body become the command's arguments") {
  console_request out;
  console_refusal why;
  auto& approve = route("POST", "/v1/proposals/{id}/approve");
  REQUIRE(http_request(approve, "abc", {}, R"({"note":"ok","proposal":"other"})", out, why));
  CHECK(out.cmd == "approve");
  CHECK(out.args["proposal"] == "abc"); // the path wins over the body
  CHECK(out.args["note"] == "ok");
  auto& requeue = route("POST", "/v1/dead-letters/{id}/requeue");
  REQUIRE(http_request(requeue, "42", {}, "", out, why));
  CHECK(out.args["letter"] == 42);
  CHECK_FALSE(http_request(requeue, "4x", {}, "", out, why));
  CHECK(why.message == "the path's letter must be a seq number");
  CHECK_FALSE(http_request(requeue, "123456789012345678901", {}, "", out, why));
}

TEST_CASE("http routes: the audit queue is audit-pending, an acknowledgement audit-ack with its note") {
  console_request out;
  console_refusal why;
  auto& list = route("GET", "/v1/audit");
  REQUIRE(http_request(list, "", {}, "", out, why));
  CHECK(out.cmd == "audit-pending");
  CHECK(required_role(out.cmd) == console_role::viewer);
  auto& ack = route("POST", "/v1/audit/{id}/ack");
  REQUIRE(http_request(ack, "5d0e7a21", {}, R"({"note":"checked"})", out, why));
  CHECK(out.cmd == "audit-ack");
  CHECK(required_role(out.cmd) == console_role::operator_);
  CHECK(out.args["proposal"] == "5d0e7a21");
  CHECK(out.args["note"] == "checked");
  REQUIRE(http_request(ack, "5d0e7a21", {}, "", out, why)); // the note is optional
  CHECK(out.args.count("note") == 0);
}

TEST_CASE("http routes: bodies that are not one JSON object are refused") {
  console_request out;
  console_refusal why;
  auto& propose = route("POST", "/v1/proposals");
  CHECK(http_request(propose, "", {}, "  \n", out, why));
  CHECK(out.args.is_object());
  CHECK_FALSE(http_request(propose, "", {}, "{", out, why));
  CHECK(why.message == "request body is not valid JSON");
  CHECK_FALSE(http_request(propose, "", {}, "[1]", out, why));
  CHECK(why.message == "request body must be a JSON object");
  CHECK_FALSE(http_request(propose, "", {}, "\"x\"", out, why));
  CHECK(why.code == ec::invalid_input);
}

TEST_CASE("http routes: /v1/events hands its query to log, a page of 1000 by default") {
  console_request out;
  console_refusal why;
  auto& events = route("GET", "/v1/events");
  REQUIRE(http_request(events, "", {}, "", out, why));
  CHECK(out.args == json{{"limit", 1000}});
  REQUIRE(http_request(events, "", {{"from", "5"}, {"to", "9"}}, "", out, why));
  CHECK(out.args == json{{"from", 5}, {"to", 9}, {"limit", 1000}});
  REQUIRE(http_request(events, "", {{"type", "grant_changed"}, {"limit", "20"}}, "", out, why));
  CHECK(out.args == json{{"type", "grant_changed"}, {"limit", 20}});
  // The values are checked by log itself (the node answers 400); names are checked here.
  CHECK_FALSE(http_request(events, "", {{"form", "1"}}, "", out, why));
  CHECK(why.message == "unknown query parameter 'form'");
}

TEST_CASE("http routes: every route's command exists with the console's role") {
  std::set<std::pair<std::string, std::string>> seen;
  for (auto& r : http_routes()) {
    CHECK_MESSAGE(seen.insert({r.method, r.path}).second, r.method << " " << r.path);
    CHECK((r.method == "GET" || r.method == "POST"));
    if (r.builtin == http_builtin::none || r.builtin == http_builtin::stream)
      CHECK_MESSAGE(required_role(r.command) != console_role::none, r.command);
    else
      CHECK(r.command.empty());
    if (r.builtin != http_builtin::web) // a dashboard file's name is no argument
      CHECK((r.path.find('{') != std::string::npos) == (!r.param.empty() || !r.key.empty()));
  }
}

TEST_CASE("http status codes follow the console's error codes") {
  CHECK(http_status(ec::invalid_input, true) == 400);
  CHECK(http_status(ec::authority_denied, false) == 401);
  CHECK(http_status(ec::authority_denied, true) == 403);
  CHECK(http_status(ec::halted, true) == 409);
  CHECK(http_status(ec::approval_expired, true) == 409);
  CHECK(http_status(ec::rate_limited, true) == 429);
  CHECK(http_status(ec::audit_unavailable, true) == 503);
  CHECK(http_status(ec::circuit_open, true) == 503);
  CHECK(http_status(ec::timeout, true) == 504);
  int status = 0;
  json body;
  REQUIRE(http_response(R"({"id":null,"ok":false,"error":{"code":"RATE_LIMITED","message":"m",)"
                        R"("trace_id":0,"retry_after":250}})",
                        true, status, body));
  CHECK(status == 429);
  CHECK(body["error"]["retry_after"] == 250);
  REQUIRE(http_response(R"({"id":null,"ok":true,"result":{"status":"refused","code":"HALTED"}})",
                        true, status, body));
  CHECK(status == 409);
  CHECK(body["code"] == "HALTED");
  REQUIRE(http_response(R"({"id":null,"ok":true,"result":[1]})", true, status, body));
  CHECK(status == 200);
  CHECK(body == json::array({1}));
  CHECK_FALSE(http_response("garbage", true, status, body));
  CHECK_FALSE(http_response(R"({"ok":false})", true, status, body));
  // A result whose "status" is not a string (health nests the node status) is a plain 200.
  REQUIRE(http_response(R"({"id":null,"ok":true,"result":{"status":{"head":3}}})", true, status,
                        body));
  CHECK(status == 200);
  CHECK(body["status"]["head"] == 3);
}

TEST_CASE("http: a plain ok answer is sent as the console rendered it") {
  json result{{"node", "n-\u00e9"}, {"head", 18446744073709551615ull}, {"ratio", 0.1},
              {"status", {{"head", 3}, {"chain", "ab"}}}, {"list", {1, -2, nullptr, "a\"b\n"}}};
  for (const json& r : {result, json::array(), json("text"), json(0)}) {
    auto line = ok_response(nullptr, r);
    auto text = http_ok_result(line);
    REQUIRE_FALSE(text.empty());
    // The same bytes as the parsed answer's body, dumped as the server dumps it.
    int status = 0;
    json body;
    REQUIRE(http_response(line, true, status, body));
    CHECK(status == 200);
    CHECK(std::string{text} == body.dump(-1, ' ', false, json::error_handler_t::replace));
    line.pop_back(); // without its newline too
    CHECK(http_ok_result(line) == text);
  }
  // Anything else is not one: errors, requests with an id, cut lines, garbage.
  CHECK(http_ok_result(error_response(nullptr, ec::halted, "halted")).empty());
  CHECK(http_ok_result(ok_response(7, json::object())).empty());
  CHECK(http_ok_result(R"({"id":null,"ok":true,"result":)").empty());
  CHECK(http_ok_result("").empty());
  CHECK(http_ok_result("garbage").empty());
}

TEST_CASE("http: docs/openapi.json names exactly the routes the server registers") {
  std::ifstream in{BULWARK_SOURCE_DIR "/docs/openapi.json"};
  REQUIRE(in);
  auto doc = json::parse(in, nullptr, false);
  REQUIRE(doc.is_object());
  CHECK(doc["openapi"].get<std::string>().rfind("3.0", 0) == 0);
  std::set<std::string> documented, served;
  for (auto& [path, item] : doc["paths"].items())
    for (auto& [method, op] : item.items())
      if (method != "parameters") {
        documented.insert(method + " " + path);
        CHECK_MESSAGE(op.contains("responses"), method << " " << path);
      }
  for (auto& r : http_routes()) {
    std::string m = r.method == "GET" ? "get" : "post";
    served.insert(m + " " + r.path);
  }
  for (auto& x : served)
    CHECK_MESSAGE(documented.count(x) == 1, "served but not documented: " << x);
  for (auto& x : documented)
    CHECK_MESSAGE(served.count(x) == 1, "documented but not served: " << x);
}
