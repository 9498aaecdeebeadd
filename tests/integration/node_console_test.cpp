// A real `bulwark node` process on loopback, driven by test clients over TCP: auth,
// roles, the approval flow, subscriptions, the access trail, and hostile input.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <map>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json propose(int level, const std::string& key, const std::string& resource) {
  return {{"cmd", "propose"},
          {"args",
           {{"idempotency_key", key},
            {"level", level},
            {"services", {"coaster"}},
            {"regions", {"north"}},
            {"changes", {{{"resource", resource}, {"key", "mode"}, {"value", "fast"}}}}}}};
}

} // namespace

TEST_CASE("authentication: nothing before auth, bad tokens refused, three strikes close") {
  node_process node;
  client c{node.port};
  auto early = c.call({{"id", 1}, {"cmd", "status"}});
  CHECK(early["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(c.auth("wrong")["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(c.auth("wrong")["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(c.auth("wrong")["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(c.closed());
  client d{node.port};
  auto ok = d.auth("viewer-token");
  CHECK(ok["ok"] == true);
  CHECK(ok["result"]["role"] == "viewer");
}

TEST_CASE("roles: viewers read, operators approve, admins halt") {
  node_process node;
  client viewer{node.port}, op{node.port}, admin{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto zero = std::string(64, '0');
  for (auto* cmd : {"status", "proposals", "grants", "breakers", "health", "warnings", "help"})
    CHECK(viewer.call({{"id", 1}, {"cmd", cmd}})["ok"] == true);
  auto denied = viewer.call({{"id", 2}, {"cmd", "approve"}, {"args", {{"proposal", zero}}}});
  CHECK(denied["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(viewer.call({{"id", 3}, {"cmd", "halt"}, {"args", {{"reason", "x"}}}})["error"]["code"]
        == "AUTHORITY_DENIED");
  // An operator may use the command (it fails on the digest, not on the role).
  CHECK(op.call({{"id", 4}, {"cmd", "approve"}, {"args", {{"proposal", zero}}}})["error"]["code"]
        == "INVALID_INPUT");
  CHECK(op.call({{"id", 5}, {"cmd", "halt"}, {"args", {{"reason", "x"}}}})["error"]["code"]
        == "AUTHORITY_DENIED");
  CHECK(op.call({{"id", 6}, {"cmd", "breaker-force"},
                 {"args", {{"service", "pos"}, {"state", "open"}}}})["error"]["code"]
        == "AUTHORITY_DENIED");
  CHECK(admin.call({{"id", 7}, {"cmd", "halt"}, {"args", {{"reason", "drill"}}}})["ok"] == true);
  CHECK(admin.call({{"id", 8}, {"cmd", "release"}, {"args", {{"reason", "done"}}}})["ok"] == true);
  CHECK(admin.call({{"id", 9}, {"cmd", "grant"},
                    {"args", {{"principal", "op"}, {"level", 2}}}})["ok"] == true);
}

TEST_CASE("approval flow through the console, with subscription order and the access trail") {
  node_process node;
  client op{node.port}, watcher{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(watcher.auth("viewer-token")["ok"] == true);
  REQUIRE(watcher.call({{"id", 1}, {"cmd", "subscribe"}})["ok"] == true);
  auto req = propose(1, "console-1", "coaster-north-01");
  req["id"] = 10;
  op.send_raw(req.dump() + "\n");
  json pending;
  for (int i = 0; i < 50 && pending.is_null(); ++i) {
    auto list = watcher.call({{"id", 2}, {"cmd", "proposals"}});
    if (list["ok"] == true && !list["result"].empty())
      pending = list["result"][0];
    else
      std::this_thread::sleep_for(20ms);
  }
  REQUIRE(!pending.is_null());
  CHECK(pending["awaiting_approval"] == true);
  op.send_raw(json{{"id", 11}, {"cmd", "approve"}, {"args", {{"proposal", pending["proposal"]}}}}
                .dump()
              + "\n");
  // The proposal was answered "waiting for approval" at once; its outcome is a notice.
  json waiting, done, approved;
  while (done.is_null() || approved.is_null()) {
    auto msg = op.read();
    REQUIRE(!msg.is_null());
    if (msg.value("event", "") == "outcome")
      done = msg["data"];
    else
      (msg["id"] == 10 ? waiting : approved) = msg;
  }
  CHECK(waiting["result"]["status"] == "awaiting_approval");
  CHECK(approved["ok"] == true);
  CHECK(done["id"] == 10);
  CHECK(done["status"] == "succeeded");
  // The watcher received every committed event in seq order.
  uint64_t last = 0;
  int seen = 0;
  for (;;) {
    auto msg = watcher.read(1s);
    if (msg.is_null())
      break;
    if (msg.value("event", "") != "committed")
      continue;
    auto seq = msg["data"]["seq"].get<uint64_t>();
    CHECK(seq > last);
    last = seq;
    ++seen;
  }
  CHECK(seen >= 5);
  // The access trail names who did what from where.
  auto log = watcher.call({{"id", 3}, {"cmd", "log"}, {"args", {{"from", 401}}}});
  REQUIRE(log["ok"] == true);
  bool found_approve = false;
  for (auto& e : log["result"]["events"])
    if (e["type"] == "console_access" && e["payload"]["command"] == "approve"
        && e["payload"]["principal"] == "op"
        && e["payload"]["remote"].get<std::string>().rfind("127.0.0.1:", 0) == 0)
      found_approve = true;
  CHECK(found_approve);
}

TEST_CASE("hostile input gets clear errors or a closed connection, the node keeps serving") {
  node_process node{"max_connections = 64\nidle_timeout_ms = 1500\n"};
  client c{node.port};
  REQUIRE(c.auth("viewer-token")["ok"] == true);
  c.send_raw("this is not json\n");
  CHECK(c.read()["error"]["code"] == "INVALID_INPUT");
  c.send_raw("{\"cmd\": 42}\n");
  CHECK(c.read()["error"]["message"] == "cmd must be a string");
  c.send_raw("{\"id\":5,\"cmd\":\"log\",\"args\":{\"from\":\"x\"}}\n");
  CHECK(c.read()["error"]["code"] == "INVALID_INPUT");
  c.send_raw("{\"cmd\":\"rm -rf\"}\n");
  CHECK(c.read()["error"]["message"].get<std::string>().find("unknown command") == 0);
  std::mt19937 rng{3};
  std::string garbage;
  for (int i = 0; i < 4096; ++i)
    garbage.push_back(static_cast<char>(rng()));
  garbage.push_back('\n');
  c.send_raw(garbage);
  CHECK(c.call({{"id", 6}, {"cmd", "status"}})["ok"] == true); // still usable

  client big{node.port};
  big.send_raw(std::string(1 << 20, 'a') + "\n");
  CHECK(big.closed());

  { // half a line, then gone
    client half{node.port};
    half.send_raw("{\"cmd\":\"sta");
  }
  std::vector<std::unique_ptr<client>> many;
  for (int i = 0; i < 500; ++i)
    many.push_back(std::make_unique<client>(node.port));
  int refused = 0;
  for (auto& m : many)
    if (m->closed(200ms))
      ++refused;
  CHECK(refused >= 500 - 64);
  many.clear();

  client slow{node.port};
  slow.send_raw("{\"cmd\":");
  std::this_thread::sleep_for(1s);
  slow.send_raw("\"sta");
  CHECK(slow.closed(4s)); // a trickle without a full line hits the idle timeout
  std::this_thread::sleep_for(300ms);
  client after{node.port};
  REQUIRE(after.auth("admin-token")["ok"] == true);
  CHECK(after.call({{"id", 1}, {"cmd", "status"}})["result"]["node"] == "test-node");
  CHECK(node.alive());
  // A backup taken while the node runs shows up in status as the last verified backup.
  CHECK(after.call({{"id", 2}, {"cmd", "status"}})["result"]["last_verified_backup_age_s"].is_null());
  std::string out;
  REQUIRE(test::run_command(std::string{BULWARK_BINARY} + " backup --data " + node.dir.sub("journal")
                              + " --out " + node.dir.sub("b.mdb"), &out) == 0);
  auto age = after.call({{"id", 3}, {"cmd", "status"}})["result"]["last_verified_backup_age_s"];
  REQUIRE(age.is_number());
  CHECK(age.get<int64_t>() < 60);
}

TEST_CASE("a second node on the same data directory is refused") {
  node_process node;
  std::string out;
  auto rc = test::run_command(std::string{BULWARK_BINARY} + " node --config " + node.dir.sub("bulwark.toml")
                                + " --data " + node.dir.sub("journal") + " --console 127.0.0.1:0",
                              &out);
  CHECK(rc == 2);
  CHECK(out.find("another Bulwark process") != std::string::npos);
}

TEST_CASE("the metrics endpoint serves Prometheus text that parses") {
  node_process node;
  client console{node.port};
  REQUIRE(console.auth("viewer-token")["ok"] == true); // one more append, just now
  client c{node.metrics_port};
  auto text = c.http_get("/metrics");
  // An HTTP/1.0 request is answered and the connection closed (the reads above end).
  REQUIRE(text.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(text.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  auto body = text.substr(text.find("\r\n\r\n") + 4);
  std::map<std::string, double> samples;
  std::istringstream in{body};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    auto space = line.rfind(' ');
    REQUIRE_MESSAGE(space != std::string::npos, line);
    auto name = line.substr(0, space);
    CHECK(name.find_first_of(" \t") == std::string::npos);
    samples[name] = std::stod(line.substr(space + 1));
  }
  CHECK(samples.at("bulwark_journal_head_seq") >= 400);
  CHECK(samples.at("bulwark_resources") == 400);
  CHECK(samples.at("bulwark_halted") == 0);
  CHECK(samples.at("bulwark_events_total{type=\"resource_registered\"}") == 400);
  CHECK(samples.count("bulwark_breaker_state{service=\"coaster\"}") == 1);
  CHECK(samples.count("bulwark_pending_approvals") == 1);
  // Append rate and latency: the 400 registrations were acknowledged before the request (the
  // access trail is appended without waiting, so it may not be counted yet).
  CHECK(samples.at("bulwark_journal_appended_events_total") >= 400);
  CHECK(samples.at("bulwark_journal_appends_total") >= 1);
  CHECK(samples.at("bulwark_journal_appends_total")
        <= samples.at("bulwark_journal_appended_events_total"));
  CHECK(samples.at("bulwark_journal_append_rate") > 0);
  auto p50 = samples.at("bulwark_journal_append_latency_seconds{quantile=\"0.5\"}");
  auto p99 = samples.at("bulwark_journal_append_latency_seconds{quantile=\"0.99\"}");
  CHECK(p50 > 0);
  CHECK(p99 >= p50);
  CHECK(samples.at("bulwark_journal_append_latency_seconds_count") >= 2);
  CHECK(samples.at("bulwark_journal_append_latency_seconds_sum") >= p99);
  // Health: the degradation level, each failure mode and the sampled indicators.
  CHECK(samples.at("bulwark_degradation") >= 0);
  CHECK(samples.count("bulwark_failure_mode_level{mode=\"JOURNAL-SPACE\"}") == 1);
  CHECK(samples.count("bulwark_failure_mode_level{mode=\"VAL-4\"}") == 1);
  CHECK(samples.count(
          "bulwark_health_indicator{mode=\"JOURNAL-SPACE\",indicator=\"journal_space_pct\"}")
        == 1);
  // Only /metrics on the metrics port.
  client other{node.metrics_port};
  auto refused = other.http_get("/v1/status");
  CHECK(refused.rfind("HTTP/1.1 404", 0) == 0);
}

TEST_CASE("health and warnings: the failure-mode registry over the console") {
  node_process node;
  client viewer{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  auto h = viewer.call({{"id", 1}, {"cmd", "health"}});
  REQUIRE(h["ok"] == true);
  auto& r = h["result"];
  CHECK(r["degradation"] == "normal");
  CHECK(r["modes"].size() == 10); // SIGNAL-SOURCE among them
  CHECK(r["status"]["node"] == "test-node");
  bool space = false;
  for (auto& i : r["indicators"])
    if (i["id"] == "journal_space_pct") {
      space = true;
      CHECK(i["warning"] == 80);
      CHECK(i["critical"] == 90);
      CHECK(i["trend"].is_string());
      CHECK(i["history"].is_array());
    }
  CHECK(space);
  auto w = viewer.call({{"id", 2}, {"cmd", "warnings"}});
  REQUIRE(w["ok"] == true);
  CHECK(w["result"].is_array());
  auto help = viewer.call({{"id", 3}, {"cmd", "help"}});
  bool listed = false;
  for (auto& c : help["result"])
    listed |= c["cmd"] == "warnings";
  CHECK(listed);
}

TEST_CASE("SIGTERM stops a node promptly, with an approval pending, and the journal verifies") {
  node_process node;
  {
    client op{node.port};
    REQUIRE(op.auth("operator-token")["ok"] == true);
    auto req = propose(1, "pending-1", "coaster-north-02");
    req["id"] = 1;
    op.send_raw(req.dump() + "\n");
    for (int i = 0; i < 100; ++i) {
      auto list = op.call({{"id", 2}, {"cmd", "proposals"}});
      if (list["ok"] == true && !list["result"].empty())
        break;
      std::this_thread::sleep_for(20ms);
    }
  }
  ::kill(node.pid, SIGTERM);
  int status = -1;
  bool exited = false;
  for (int i = 0; i < 100 && !exited; ++i) {
    exited = ::waitpid(node.pid, &status, WNOHANG) == node.pid;
    if (!exited)
      std::this_thread::sleep_for(50ms);
  }
  REQUIRE(exited);
  node.pid = -1;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::string out;
  CHECK(test::run_command(std::string{BULWARK_BINARY} + " verify --data " + node.dir.sub("journal"),
                          &out) == 0);
}

TEST_CASE("incidents, promote and rollback through the console, with roles and bad input") {
  node_process node;
  client op{node.port}, viewer{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  auto list = viewer.call({{"id", 1}, {"cmd", "incidents"}});
  REQUIRE(list["ok"] == true);
  CHECK(list["result"]["incidents"].is_array());
  CHECK(list["result"]["candidates"].is_array());
  CHECK(list["result"]["rollbacks_awaiting_approval"].is_array());
  // No anomaly yet: no orchestration attempt; bad filters are refused, naming them.
  auto attempts = viewer.call({{"id", 1}, {"cmd", "attempts"}, {"args", {{"limit", 10}}}});
  REQUIRE(attempts["ok"] == true);
  CHECK(attempts["result"]["attempts"] == json::array());
  CHECK(attempts["result"]["count"] == 0);
  for (auto args : {json{{"limit", 0}}, json{{"candidate", "zz"}}, json{{"status", "maybe"}},
                    json{{"colour", "red"}}}) {
    auto r = viewer.call({{"id", 1}, {"cmd", "attempts"}, {"args", args}});
    CHECK(r["error"]["code"] == "INVALID_INPUT");
    auto name = args.begin().key(); // the refusal names the argument
    CHECK_MESSAGE(r["error"]["message"].get<std::string>().find(name) != std::string::npos,
                  r["error"]["message"]);
  }
  CHECK(viewer.call({{"id", 2}, {"cmd", "rollback"}, {"args", {{"seqs", {1}}}}})["error"]["code"]
        == "AUTHORITY_DENIED");
  CHECK(viewer.call({{"id", 3}, {"cmd", "promote"}, {"args", {{"candidate", std::string(64, '0')}}}})
          ["error"]["code"]
        == "AUTHORITY_DENIED");
  for (auto args : {json::object(), json{{"seqs", json::array()}}, json{{"seqs", {"x"}}},
                    json{{"incident", "zz"}}})
    CHECK(op.call({{"id", 4}, {"cmd", "rollback"}, {"args", args}})["error"]["code"] == "INVALID_INPUT");
  CHECK(op.call({{"id", 5}, {"cmd", "promote"}, {"args", {{"candidate", std::string(64, '0')}}}})
          ["error"]["code"]
        == "INVALID_INPUT");
  // A change approved through the console, then rolled back by seq.
  auto req = propose(1, "console-rb", "coaster-north-02");
  req["id"] = 10;
  op.send_raw(req.dump() + "\n");
  json pending;
  for (int i = 0; i < 50 && pending.is_null(); ++i) {
    auto p = viewer.call({{"id", 6}, {"cmd", "proposals"}});
    if (p["ok"] == true && !p["result"].empty())
      pending = p["result"][0];
    else
      std::this_thread::sleep_for(20ms);
  }
  REQUIRE(!pending.is_null());
  op.send_raw(json{{"id", 11}, {"cmd", "approve"}, {"args", {{"proposal", pending["proposal"]}}}}
                .dump() + "\n");
  for (auto msg = op.read(); msg.value("event", "") != "outcome"; msg = op.read())
    REQUIRE(!msg.is_null()); // the answer, the approval's, then the outcome notice
  auto log = viewer.call({{"id", 7}, {"cmd", "log"}, {"args", {{"from", 401}}}});
  REQUIRE(log["ok"] == true);
  uint64_t applied = 0;
  for (auto& e : log["result"]["events"])
    if (e["type"] == "action_applied")
      applied = e["seq"].get<uint64_t>();
  REQUIRE(applied > 0);
  CHECK(op.call({{"id", 8}, {"cmd", "rollback"}, {"args", {{"seqs", {1}}}}})["error"]["message"]
          .get<std::string>().find("not an applied action") != std::string::npos);
  auto rb = op.call({{"id", 9}, {"cmd", "rollback"}, {"args", {{"seqs", {applied}}}}});
  REQUIRE_MESSAGE(rb["ok"] == true, rb.dump());
  CHECK(rb["result"]["status"] == "succeeded");
  CHECK(rb["result"]["reverted"] == 1);
  auto again = op.call({{"id", 12}, {"cmd", "rollback"}, {"args", {{"seqs", {applied}}}}});
  CHECK(again["error"]["message"].get<std::string>().find("already rolled back") != std::string::npos);
}

TEST_CASE("verify runs one at a time per node: a second one is OVERLOADED with retry_after") {
  node_process node;
  client viewer{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  // Three requests in one write reach the console together: the first takes the worker,
  // the other two find it busy.
  std::string lines;
  for (int id = 1; id <= 3; ++id)
    lines += json{{"id", id}, {"cmd", "verify"}}.dump() + "\n";
  viewer.send_raw(lines);
  std::map<int, json> answers;
  while (answers.size() < 3) {
    auto msg = viewer.read();
    REQUIRE_MESSAGE(!msg.is_null(), "no answer to every verify");
    if (!msg.contains("event"))
      answers[msg["id"].get<int>()] = msg;
  }
  CHECK(answers[1]["ok"] == true);
  CHECK(answers[1]["result"]["ok"] == true);
  for (int id : {2, 3}) {
    CHECK(answers[id]["ok"] == false);
    CHECK(answers[id]["error"]["code"] == "OVERLOADED");
    CHECK(answers[id]["error"]["retry_after"] == 1000);
  }
  // Once the first has answered the worker is free again, for any connection.
  client other{node.port};
  REQUIRE(other.auth("viewer-token")["ok"] == true);
  auto again = other.call({{"id", 4}, {"cmd", "verify"}});
  CHECK(again["ok"] == true);
  CHECK(again["result"]["ok"] == true);
  CHECK(viewer.call({{"id", 5}, {"cmd", "verify"}})["result"]["ok"] == true);
}

TEST_CASE("every answer echoes its request's id, a rate refusal included") {
  node_process node;
  client viewer{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  // More requests in one write than the connection's burst (1000): the later ones are
  // refused RATE_LIMITED, each naming the id it answers. (An unknown command is answered
  // at once, so only the rate decides.)
  const int n = 1300;
  std::string lines;
  for (int id = 1; id <= n; ++id)
    lines += json{{"id", id}, {"cmd", "no-such-command"}}.dump() + "\n";
  viewer.send_raw(lines);
  std::map<int, json> answers;
  while (answers.size() < static_cast<size_t>(n)) {
    auto msg = viewer.read();
    REQUIRE_MESSAGE(!msg.is_null(), "answers stopped after " << answers.size());
    if (msg.contains("event"))
      continue;
    REQUIRE(msg["id"].is_number_integer());
    answers[msg["id"].get<int>()] = msg;
  }
  int limited = 0;
  for (auto& [id, msg] : answers) {
    REQUIRE(msg["ok"] == false);
    if (msg["error"]["code"] == "RATE_LIMITED") {
      CHECK(msg["error"]["retry_after"].is_number());
      ++limited;
    } else {
      CHECK(msg["error"]["code"] == "INVALID_INPUT");
    }
  }
  CHECK(limited > 0);
  CHECK(answers.begin()->first == 1);
  CHECK(answers.rbegin()->first == n);
}
