// A proposal's own approval window through a node's console: it expires at its own time
// with an outcome naming it, a bad window is refused INVALID_INPUT naming the argument
// and changes nothing, and a repeat of the same key and content gets the first outcome.

#include <doctest/doctest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json propose_windowed(int id, const std::string& key, const json& window) {
  json args = {{"idempotency_key", key},
               {"level", 1},
               {"services", {"coaster"}},
               {"regions", {"north"}},
               {"changes",
                {{{"resource", "coaster-north-02"}, {"key", "mode"}, {"value", "slow"}}}}};
  if (!window.is_null())
    args["approval_window_ms"] = window;
  return {{"id", id}, {"cmd", "propose"}, {"args", args}};
}

/// The records of `type` the journal holds.
size_t count_of(client& c, const std::string& type) {
  auto page = c.call({{"id", 900}, {"cmd", "log"}, {"args", {{"type", type}}}});
  REQUIRE_MESSAGE(page["ok"] == true, page.dump());
  return page["result"]["events"].size();
}

/// Reads until the `outcome` notice of request `id` (or nothing for `wait`).
json outcome_of(client& c, int id, std::chrono::milliseconds wait = 10s) {
  for (;;) {
    auto msg = c.read(wait);
    if (msg.is_null())
      return msg;
    if (msg.value("event", "") == "outcome" && msg["data"]["id"] == id)
      return msg["data"];
  }
}

} // namespace

TEST_CASE("console: a proposal's own approval window expires at its own time, naming it") {
  node_process node; // the node's window: 300 s
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto started = std::chrono::steady_clock::now();
  auto waiting = op.call(propose_windowed(1, "own-window", 400));
  REQUIRE_MESSAGE(waiting["ok"] == true, waiting.dump());
  CHECK(waiting["result"]["status"] == "awaiting_approval");
  auto done = outcome_of(op, 1);
  REQUIRE(!done.is_null());
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(done["status"] == "expired");
  CHECK(done["code"] == "APPROVAL_EXPIRED");
  CHECK(done["message"]
        == "nobody approved within the approval window (400 ms, the proposal's own: "
           "approval_window_ms)");
  CHECK(done["proposal"] == waiting["result"]["proposal"]);
  CHECK(count_of(op, "approval_window") == 1);
  CHECK(count_of(op, "action_started") == 0);
}

TEST_CASE("console: a bad approval window is refused INVALID_INPUT naming it, nothing changes") {
  node_process node;
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  // Types the argument check refuses before anything runs.
  for (auto bad : {json(-5), json("abc"), json(1.5)}) {
    CAPTURE(bad.dump());
    auto req = propose_windowed(2, "bad-window", 0);
    req["args"]["approval_window_ms"] = bad;
    auto r = op.call(req);
    CHECK(r["ok"] == false);
    CHECK(r["error"]["code"] == "INVALID_INPUT");
    CHECK(r["error"]["message"].get<std::string>().find(
            "args.approval_window_ms must be a non-negative integer")
          != std::string::npos);
  }
  CHECK(count_of(op, "proposal_decided") == 0);
  // Values validation refuses, like any invalid proposal: a refused decision, no wait.
  auto zero = op.call(propose_windowed(3, "zero-window", 0));
  CHECK(zero["ok"] == false);
  CHECK(zero["error"]["code"] == "INVALID_INPUT");
  CHECK(zero["error"]["message"] == "approval_window_ms must be longer than zero");
  auto over = op.call(propose_windowed(4, "long-window", 300001));
  CHECK(over["error"]["code"] == "INVALID_INPUT");
  CHECK(over["error"]["message"]
        == "approval_window_ms (300001 ms) is longer than the node's approval window "
           "(300000 ms, authority.approval_timeout_ms): it cannot be honoured");
  auto list = op.call({{"id", 5}, {"cmd", "proposals"}});
  CHECK(list["result"].empty());
  CHECK(count_of(op, "action_started") == 0);
  CHECK(count_of(op, "approval_window") == 0);
}

TEST_CASE("console: the same key and window get the first outcome again") {
  node_process node;
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto waiting = op.call(propose_windowed(1, "kept-window", 120000));
  REQUIRE_MESSAGE(waiting["ok"] == true, waiting.dump());
  auto digest = waiting["result"]["proposal"].get<std::string>();
  auto approved = op.call({{"id", 2}, {"cmd", "approve"}, {"args", {{"proposal", digest}}}});
  REQUIRE_MESSAGE(approved["ok"] == true, approved.dump());
  auto done = outcome_of(op, 1);
  REQUIRE(!done.is_null());
  CHECK(done["status"] == "succeeded");
  // The repeat, with another timeout: the same proposal and its outcome.
  auto repeat = propose_windowed(3, "kept-window", 120000);
  repeat["args"]["timeout_ms"] = 45000;
  auto again = op.call(repeat);
  REQUIRE_MESSAGE(again["ok"] == true, again.dump());
  CHECK(again["result"]["proposal"] == digest);
  CHECK(again["result"]["status"] == "succeeded");
  CHECK(again["result"]["decided_seq"] == done["decided_seq"]);
  CHECK(count_of(op, "proposal_decided") == 1);
  // Another window under the key is another proposal: refused.
  auto other = op.call(propose_windowed(4, "kept-window", 60000));
  CHECK(other["error"]["code"] == "INVALID_INPUT");
  CHECK(other["error"]["message"].get<std::string>().find("kept-window") != std::string::npos);
}

TEST_CASE("console: a level-0 read answers the resources it read, and a level-0 mutation is "
          "refused") {
  node_process node;
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto r = op.call({{"id", 1},
                    {"cmd", "propose"},
                    {"args",
                     {{"idempotency_key", "read-gates"},
                      {"level", 0},
                      {"services", {"gates"}},
                      {"regions", {"north"}}}}});
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  auto& res = r["result"];
  CHECK(res["status"] == "read");
  REQUIRE(res["read"].is_object());
  CHECK(res["read"]["total"] == 40);
  CHECK(res["read"]["truncated"] == false);
  CHECK(res["read"]["seq"].get<uint64_t>() < res["decided_seq"].get<uint64_t>());
  auto& list = res["read"]["resources"];
  REQUIRE(list.size() == 40);
  CHECK(list[0] == json{{"id", "gates-north-01"}, {"service", "gates"}, {"region", "north"},
                        {"attributes", {{"firmware", "1.0.0"}, {"mode", "normal"}}}});
  CHECK(list[39]["id"] == "gates-north-40");
  // A proposal that is not a read carries `read: null`.
  auto change = op.call({{"id", 2},
                         {"cmd", "propose"},
                         {"args",
                          {{"idempotency_key", "close-gate"},
                           {"level", 4},
                           {"services", {"gates"}},
                           {"regions", {"north"}},
                           {"changes",
                            {{{"resource", "gates-north-01"}, {"key", "mode"},
                              {"value", "closed"}}}}}}});
  REQUIRE_MESSAGE(change["ok"] == true, change.dump());
  CHECK(change["result"]["read"].is_null());
  // A level-0 mutation is refused NoStateMutation, and nothing changes.
  auto write = op.call({{"id", 3},
                        {"cmd", "propose"},
                        {"args",
                         {{"idempotency_key", "read-write"},
                          {"level", 0},
                          {"services", {"gates"}},
                          {"regions", {"north"}},
                          {"changes",
                           {{{"resource", "gates-north-02"}, {"key", "mode"},
                             {"value", "closed"}}}}}}});
  CHECK(write["ok"] == false);
  CHECK(write["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(write["error"]["message"].get<std::string>().find("NoStateMutation: ")
        != std::string::npos);
  // The next read sees the change that ran, and not the refused one.
  auto again = op.call({{"id", 4},
                        {"cmd", "propose"},
                        {"args",
                         {{"idempotency_key", "read-gates-2"},
                          {"level", 0},
                          {"services", {"gates"}},
                          {"regions", {"north"}}}}});
  REQUIRE(again["result"]["read"].is_object());
  auto& after = again["result"]["read"]["resources"];
  CHECK(after[0]["attributes"]["mode"] == "closed");
  CHECK(after[1]["attributes"]["mode"] == "normal");
}
