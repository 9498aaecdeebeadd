// The HTTP API of a real `bulwark node` on loopback: tokens and roles, each route family,
// hostile input (bad JSON, oversized bodies, slow senders), the event stream, TLS,
// readiness and the metrics it serves.

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include <httplib.h>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;

namespace {

const std::string http_conf = "[http]\nlisten = \"127.0.0.1:0\"\nread_timeout_ms = 1000\n"
                              "max_streams = 2\npool = 16\nmax_body_bytes = 65536\n";

struct http_node {
  node_process node;
  explicit http_node(const std::string& console_extra = "", const std::string& http_extra = "")
    : node(console_extra + http_conf + http_extra) {
    REQUIRE(node.http_port != 0);
  }
};

struct api {
  httplib::Client cli;
  httplib::Headers headers;
  api(uint16_t port, const std::string& token) : cli("127.0.0.1", port) {
    cli.set_read_timeout(20, 0);
    if (!token.empty())
      headers.emplace("Authorization", "Bearer " + token);
  }
  httplib::Result get(const std::string& path) {
    return cli.Get(path.c_str(), headers);
  }
  httplib::Result post(const std::string& path, const std::string& body) {
    return cli.Post(path.c_str(), headers, body, "application/json");
  }
  httplib::Result post(const std::string& path, const json& body) {
    return post(path, body.dump());
  }
};

json body_of(const httplib::Result& r) {
  REQUIRE(r);
  return json::parse(r->body, nullptr, false);
}

std::string code_of(const httplib::Result& r) {
  auto b = body_of(r);
  return b.contains("error") ? b["error"].value("code", "") : "";
}

json proposal(int level, const std::string& key, const std::string& resource) {
  return {{"idempotency_key", key},
          {"level", level},
          {"services", {"coaster"}},
          {"regions", {"north"}},
          {"changes", {{{"resource", resource}, {"key", "mode"}, {"value", "fast"}}}}};
}

const std::string zero = std::string(64, '0');

} // namespace

TEST_CASE("http: tokens and roles are the console's, the access trail records requests") {
  http_node n;
  api none{n.node.http_port, ""}, bad{n.node.http_port, "wrong"},
    viewer{n.node.http_port, "viewer-token"}, op{n.node.http_port, "operator-token"};
  auto r = none.get("/v1/status");
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(code_of(r) == "AUTHORITY_DENIED");
  r = bad.get("/v1/status");
  CHECK(r->status == 401);
  r = bad.post("/v1/proposals", std::string{"not json"}); // a bad token first, whatever the body
  CHECK(r->status == 401);
  r = viewer.get("/v1/status");
  REQUIRE(r->status == 200);
  CHECK(body_of(r)["node"] == "test-node");
  CHECK(r->get_header_value("Content-Type") == "application/json");
  CHECK(r->body.back() == '\n');
  // The answers the console gives itself: health nests the node status under "status".
  r = viewer.get("/v1/health");
  REQUIRE(r->status == 200);
  CHECK(body_of(r)["status"]["node"] == "test-node");
  r = viewer.get("/v1/warnings");
  CHECK(r->status == 200);
  CHECK(body_of(r).is_array());
  r = none.get("/v1/health");
  CHECK(r->status == 401);
  r = viewer.post("/v1/proposals/" + zero + "/approve", json::object());
  CHECK(r->status == 403);
  CHECK(code_of(r) == "AUTHORITY_DENIED");
  r = op.post("/v1/halt", json{{"reason", "x"}});
  CHECK(r->status == 403);
  // The trail: an allowed and a refused request of the HTTP clients, and the bad token.
  // (The trail is appended without waiting: read until the records are in.)
  int allowed = 0, refused = 0, bad_token = 0;
  for (int i = 0; i < 100 && (refused < 2 || bad_token < 2); ++i) {
    if (i > 0)
      std::this_thread::sleep_for(50ms);
    allowed = refused = bad_token = 0;
    auto log = body_of(viewer.get("/v1/events?from=400&to=1399"));
    for (auto& e : log["events"]) {
      if (e["type"] != "console_access")
        continue;
      auto& d = e["payload"];
      auto text = d.dump();
      if (text.find("bad token") != std::string::npos)
        ++bad_token;
      else if (text.find("\"allowed\":true") != std::string::npos)
        ++allowed;
      else
        ++refused;
      CHECK(text.find("127.0.0.1") != std::string::npos);
    }
  }
  CHECK(bad_token == 2);
  CHECK(allowed >= 1);
  CHECK(refused == 2);
}

TEST_CASE("http: proposals: submit, list, get, approve, deny and interrupt") {
  http_node n;
  api op{n.node.http_port, "operator-token"}, viewer{n.node.http_port, "viewer-token"};
  // A level-1 proposal waits for an approval: the submit answers when it finished.
  json done;
  std::thread submit([&] {
    api mine{n.node.http_port, "operator-token"};
    auto r = mine.post("/v1/proposals", proposal(1, "http-1", "coaster-north-01"));
    if (r)
      done = json{{"status", r->status}, {"body", json::parse(r->body, nullptr, false)}};
  });
  json pending;
  for (int i = 0; i < 100 && pending.is_null(); ++i) {
    auto list = body_of(viewer.get("/v1/proposals"));
    if (list.is_array() && !list.empty())
      pending = list[0];
    else
      std::this_thread::sleep_for(20ms);
  }
  REQUIRE(!pending.is_null());
  auto id = pending["proposal"].get<std::string>();
  auto one = viewer.get("/v1/proposals/" + id);
  REQUIRE(one->status == 200);
  CHECK(body_of(one)["awaiting_approval"] == true);
  CHECK(viewer.get("/v1/proposals/" + zero)->status == 404);
  // A unique prefix of 8 hex digits names it; the answer says what was approved.
  auto approved = op.post("/v1/proposals/" + id.substr(0, 8) + "/approve",
                          json{{"note", "looks fine"}});
  CHECK(approved->status == 200);
  CHECK(body_of(approved)["proposal"] == id);
  CHECK(body_of(approved)["decision"] == "approved");
  submit.join();
  REQUIRE(done.is_object());
  CHECK(done["status"] == 200);
  CHECK(done["body"]["status"] == "succeeded");
  // Unknown digests and malformed ones are bad input; a deny of nothing is refused.
  CHECK(op.post("/v1/proposals/zz/deny", json::object())->status == 400);
  auto deny = op.post("/v1/proposals/" + zero + "/deny", json::object());
  CHECK(deny->status >= 400);
  CHECK(deny->status < 500);
  auto intr = op.post("/v1/proposals/" + zero + "/interrupt", json::object());
  CHECK(intr->status >= 400);
  // A submit with missing fields: 400 with the console's message.
  auto missing = op.post("/v1/proposals", json{{"level", 4}});
  CHECK(missing->status == 400);
  CHECK(body_of(missing)["error"]["message"].get<std::string>().find(
          "missing argument idempotency_key") == 0);
  // Unknown and missing body keys are named at once.
  auto stray = op.post("/v1/proposals", json{{"idempotency_key", "x"}, {"levle", 4}});
  CHECK(stray->status == 400);
  auto why = body_of(stray)["error"]["message"].get<std::string>();
  CHECK(why.find("unknown argument levle (propose takes idempotency_key, level") == 0);
  CHECK(why.find("missing argument level") != std::string::npos);
  // A level-4 proposal runs at once.
  auto four = op.post("/v1/proposals", proposal(4, "http-4", "coaster-north-02"));
  REQUIRE(four->status == 200);
  CHECK(body_of(four)["status"] == "succeeded");
}

TEST_CASE("http: incidents, candidates, breakers, grants, halt and dead letters") {
  http_node n;
  api op{n.node.http_port, "operator-token"}, viewer{n.node.http_port, "viewer-token"},
    admin{n.node.http_port, "admin-token"};
  auto inc = viewer.get("/v1/incidents");
  REQUIRE(inc->status == 200);
  CHECK(body_of(inc)["incidents"].is_array());
  CHECK(viewer.get("/v1/incidents/" + zero)->status == 404);
  CHECK(viewer.get("/v1/candidates/" + zero)->status == 404);
  CHECK(op.post("/v1/candidates/" + zero + "/promote", json::object())->status == 400);
  CHECK(viewer.post("/v1/candidates/" + zero + "/promote", json::object())->status == 403);
  CHECK(op.post("/v1/rollbacks", json{{"seqs", json::array()}})->status == 400);
  CHECK(op.post("/v1/incidents/zz/rollback", json::object())->status == 400);
  auto breakers = body_of(viewer.get("/v1/breakers"));
  CHECK(!breakers.empty());
  CHECK(op.post("/v1/breakers/coaster/force", json{{"state", "open"}})->status == 403);
  auto forced = admin.post("/v1/breakers/coaster/force", json{{"state", "open"}});
  CHECK(forced->status == 200);
  // The breaker is forced open: a level-4 change to coaster is refused, CIRCUIT_OPEN.
  auto refused = op.post("/v1/proposals", proposal(4, "http-open", "coaster-north-03"));
  CHECK(refused->status == 503);
  CHECK(code_of(refused) == "CIRCUIT_OPEN");
  CHECK(admin.post("/v1/breakers/coaster/release", json::object())->status == 200);
  CHECK(admin.post("/v1/grants", json{{"principal", "op"}, {"level", 3}})->status == 200);
  CHECK(body_of(viewer.get("/v1/grants"))["journaled"].contains("op"));
  CHECK(admin.post("/v1/halt", json::object())->status == 400); // reason is required
  REQUIRE(admin.post("/v1/halt", json{{"reason", "drill"}})->status == 200);
  auto halted = op.post("/v1/proposals", proposal(3, "http-halted", "coaster-north-04"));
  CHECK(halted->status == 409);
  CHECK(code_of(halted) == "HALTED");
  CHECK(admin.post("/v1/release", json{{"reason", "done"}})->status == 200);
  CHECK(viewer.get("/v1/dead-letters")->status == 200);
  auto doubt = viewer.get("/v1/in-doubt");
  REQUIRE(doubt);
  CHECK(doubt->status == 200);
  CHECK(body_of(doubt) == json::array()); // nothing in doubt on this node
  auto settle = "/v1/proposals/" + std::string(64, 'e') + "/resolve";
  auto nothing = op.post(settle, json{{"outcome", "applied"}, {"reason", "checked"}});
  REQUIRE(nothing);
  CHECK(nothing->status == 400);
  CHECK(code_of(nothing) == "INVALID_INPUT");
  CHECK(viewer.post(settle, json{{"outcome", "applied"}, {"reason", "checked"}})->status == 403);
  CHECK(op.post("/v1/dead-letters/12345/requeue", json::object())->status == 400);
  CHECK(op.post("/v1/dead-letters/x/discard", json::object())->status == 400);
  CHECK(viewer.post("/v1/dead-letters/1/discard", json::object())->status == 403);
}

TEST_CASE("http: the audit queue lists a level-4 change until an operator acknowledges it") {
  http_node n; // its operator may review its own changes (allow_self_approval)
  api op{n.node.http_port, "operator-token"}, viewer{n.node.http_port, "viewer-token"};
  auto empty = viewer.get("/v1/audit");
  REQUIRE(empty->status == 200);
  CHECK(body_of(empty) == json::array());
  auto four = op.post("/v1/proposals", proposal(4, "http-audit", "coaster-north-05"));
  REQUIRE(four->status == 200);
  auto id = body_of(four)["proposal"].get<std::string>();
  auto listed = viewer.get("/v1/audit");
  REQUIRE(listed->status == 200);
  auto queue = body_of(listed);
  REQUIRE(queue.size() == 1);
  CHECK(queue[0]["proposal"] == id);
  CHECK(queue[0]["principal"] == "op");
  CHECK(queue[0]["applied"] == 1);
  CHECK(queue[0]["status"] == "succeeded");
  auto path = "/v1/audit/" + id + "/ack";
  CHECK(viewer.post(path, json::object())->status == 403);
  auto bad = op.post("/v1/audit/zz/ack", json::object());
  CHECK(bad->status == 400);
  auto unknown = op.post("/v1/audit/" + std::string(64, 'e') + "/ack", json::object());
  CHECK(unknown->status == 400);
  CHECK(code_of(unknown) == "INVALID_INPUT");
  CHECK(body_of(unknown)["error"]["message"].get<std::string>().find("no proposal with digest")
        != std::string::npos);
  auto typo = op.post(path, json{{"notes", "x"}});
  CHECK(typo->status == 400);
  CHECK(body_of(viewer.get("/v1/audit")).size() == 1); // the refusals changed nothing
  auto acked = op.post(path, json{{"note", "reviewed the ride's speed"}});
  REQUIRE(acked->status == 200);
  CHECK(body_of(acked)["proposal"] == id);
  CHECK(body_of(acked)["by"] == "op");
  CHECK(body_of(acked)["seq"].get<uint64_t>() > 0);
  CHECK(body_of(viewer.get("/v1/audit")) == json::array());
  auto twice = op.post(path, json::object());
  CHECK(twice->status == 400);
  CHECK(code_of(twice) == "INVALID_INPUT");
}

TEST_CASE("http: the incident lifecycle, candidates and the postmortem report") {
  http_node n{"[incident]\nconfirmation_ms = 3000\nwarmup_samples = 3\n"};
  api op{n.node.http_port, "operator-token"}, viewer{n.node.http_port, "viewer-token"};
  std::this_thread::sleep_for(std::chrono::seconds{5}); // the baselines warm up
  auto bad = proposal(4, "http-bad-firmware", "coaster-north-01");
  bad["changes"][0]["key"] = "firmware";
  bad["changes"][0]["value"] = "2.0.0-rc1";
  REQUIRE(op.post("/v1/proposals", bad)->status == 200);
  std::string id;
  for (int i = 0; i < 150 && id.empty(); ++i) {
    auto list = body_of(viewer.get("/v1/incidents"));
    if (!list["incidents"].empty())
      id = list["incidents"][0]["incident"].get<std::string>();
    else
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  REQUIRE(!id.empty());
  auto candidates = body_of(viewer.get("/v1/candidates"));
  REQUIRE(candidates["candidates"].size() == 1);
  CHECK(candidates["candidates"][0]["verdict"] == "PROMOTE");
  auto path = "/v1/incidents/" + id;
  CHECK(viewer.post(path + "/acknowledge", json::object())->status == 403);
  CHECK(op.post("/v1/incidents/" + zero + "/acknowledge", json::object())->status == 400);
  CHECK(op.post(path + "/close", json::object())->status == 400); // never acknowledged
  CHECK(op.post(path + "/resolve", json{{"resolution", "x"}})->status == 400);
  auto ack = op.post(path + "/acknowledge", json{{"owner", "alice"}});
  REQUIRE(ack->status == 200);
  CHECK(body_of(ack)["step"] == "acknowledge");
  CHECK(op.post(path + "/notes", json{{"text", "looking"}})->status == 200);
  CHECK(op.post(path + "/severity", json{{"severity", "P9"}, {"reason", "x"}})->status == 400);
  CHECK(op.post(path + "/severity", json{{"severity", "P1"}, {"reason", "worse"}})->status == 200);
  CHECK(op.post(path + "/resolve", json{{"resolution", "firmware rolled back"}})->status == 200);
  CHECK(op.post(path + "/close", json::object())->status == 200);
  CHECK(op.post(path + "/notes", json{{"text", "late"}})->status == 400); // closed
  auto one = body_of(viewer.get(path));
  CHECK(one["status"] == "closed");
  CHECK(one["owner"] == "alice");
  CHECK(one["severity"] == "P1");
  CHECK(op.post(path + "/reopen", json{{"reason", "back"}})->status == 200);
  CHECK(body_of(viewer.get(path))["status"] == "open");
  auto report = viewer.get(path + "/report");
  REQUIRE(report->status == 200);
  auto doc = body_of(report);
  CHECK(doc["markdown"].get<std::string>().find("# Postmortem") == 0);
  CHECK(doc["report"]["status"] == "open");
  CHECK(doc["report"]["owner"] == "alice");
  CHECK(viewer.get("/v1/incidents/" + zero + "/report")->status == 400);
  // The attempt that handed the candidate over, from the attempts store, with filters.
  auto candidate = candidates["candidates"][0]["candidate"].get<std::string>();
  auto attempts = viewer.get("/v1/attempts");
  REQUIRE(attempts->status == 200);
  auto list = body_of(attempts);
  REQUIRE(list["count"] == 1);
  auto& a = list["attempts"][0];
  CHECK(a["candidate"] == candidate);
  CHECK(a["status"] == "succeeded");
  CHECK(a["attempt"] == 1);
  CHECK(a["code"].is_null());
  CHECK(a["attempt_id"].get<std::string>().size() == 64);
  CHECK(body_of(viewer.get("/v1/attempts?candidate=" + candidate + "&limit=5"))["count"] == 1);
  CHECK(body_of(viewer.get("/v1/attempts?status=failed"))["count"] == 0);
  CHECK(body_of(viewer.get("/v1/attempts?service=gates"))["count"] == 0);
  for (auto bad_query : {"?limit=0", "?limit=x", "?candidate=zz", "?status=maybe", "?colour=red"})
    CHECK_MESSAGE(viewer.get(std::string{"/v1/attempts"} + bad_query)->status == 400, bad_query);
}

TEST_CASE("http: bad JSON, oversized bodies, unknown routes and slow senders") {
  http_node n;
  api op{n.node.http_port, "operator-token"};
  auto r = op.post("/v1/proposals", std::string{"{not json"});
  CHECK(r->status == 400);
  CHECK(body_of(r)["error"]["message"] == "request body is not valid JSON");
  CHECK(op.post("/v1/proposals", std::string{"[1,2]"})->status == 400);
  r = op.post("/v1/proposals", std::string(100000, ' ') + "{}");
  REQUIRE(r);
  CHECK(r->status == 413);
  r = op.get("/v1/nothing-here");
  CHECK(r->status == 404);
  CHECK(code_of(r) == "INVALID_INPUT");
  CHECK(op.get("/v1/events?from=0")->status == 400);
  CHECK(op.get("/v1/events?from=abc")->status == 400);
  CHECK(op.get("/v1/events?from=5&to=2")->status == 400);
  // A slow sender: half a request, then nothing; the read timeout (1 s) ends it.
  client slow{n.node.http_port};
  slow.send_raw("POST /v1/proposals HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":");
  auto t0 = std::chrono::steady_clock::now();
  CHECK(slow.closed(8s));
  CHECK(std::chrono::steady_clock::now() - t0 < 8s);
  // Bytes that are not HTTP: a 400, and the connection is closed.
  client junk{n.node.http_port};
  junk.send_raw(std::string("\x16\x03\x01\x00\xff garbage\r\n\r\n", 17));
  std::string answer;
  char tmp[4096];
  for (ssize_t got; (got = ::recv(junk.fd, tmp, sizeof tmp, 0)) > 0;)
    answer.append(tmp, static_cast<size_t>(got));
  CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
  // A header block larger than the server reads: refused, nothing else happens.
  client huge{n.node.http_port};
  huge.send_raw("GET /v1/status HTTP/1.1\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n");
  CHECK(huge.closed(8s));
  // The node keeps serving.
  CHECK(op.get("/v1/status")->status == 200);
  CHECK(n.node.alive());
}

TEST_CASE("http: the journal in pages and as a live event stream") {
  http_node n;
  api viewer{n.node.http_port, "viewer-token"};
  auto page = body_of(viewer.get("/v1/events?from=1"));
  auto head = page["head"].get<uint64_t>();
  REQUIRE(head >= 400);
  CHECK(page["events"].size() == std::min<uint64_t>(head, 1000));
  CHECK(page["events"][0]["seq"] == 1);
  CHECK(page["next"].is_null() == (head <= 1000));
  auto small = body_of(viewer.get("/v1/events?from=10&to=19"));
  CHECK(small["events"].size() == 10);
  CHECK(small["next"].is_null()); // the range [10, 19] is done
  // A stream: the access record of a request made after it opened arrives as an event.
  std::atomic<bool> got{false};
  std::string seen;
  std::thread reader([&] {
    httplib::Client cli{"127.0.0.1", n.node.http_port};
    cli.set_read_timeout(10, 0);
    cli.Get("/v1/events/stream", {{"Authorization", "Bearer viewer-token"}},
            [&](const char* data, size_t len) {
              seen.append(data, len);
              if (seen.find("\"command\":\"grants\"") != std::string::npos) {
                got = true;
                return false;
              }
              return true;
            });
  });
  std::this_thread::sleep_for(300ms);
  // The cap (2 here): the third stream at once is refused while two are open.
  std::thread second([&] {
    httplib::Client cli{"127.0.0.1", n.node.http_port};
    cli.set_read_timeout(2, 0);
    cli.Get("/v1/events/stream", {{"Authorization", "Bearer viewer-token"}},
            [&](const char*, size_t) { return true; });
  });
  std::this_thread::sleep_for(300ms);
  auto third = viewer.get("/v1/events/stream");
  REQUIRE(third);
  CHECK(third->status == 503);
  CHECK(third->get_header_value("Retry-After") == "1");
  CHECK(viewer.get("/v1/grants")->status == 200);
  reader.join();
  second.join();
  CHECK(got);
  CHECK(seen.find("event: committed\ndata: {") != std::string::npos);
  CHECK(seen.find("id: ") != std::string::npos);
  api none{n.node.http_port, ""};
  CHECK(none.get("/v1/events/stream")->status == 401);
}

TEST_CASE("http: healthz, readyz, metrics and pushed samples") {
  http_node n;
  api none{n.node.http_port, ""}, op{n.node.http_port, "operator-token"},
    viewer{n.node.http_port, "viewer-token"};
  auto h = none.get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);
  auto ready = none.get("/readyz");
  REQUIRE(ready->status == 200);
  auto rb = body_of(ready);
  CHECK(rb["ready"] == true);
  CHECK(rb["checks"]["journal_writable"] == true);
  CHECK(rb["checks"]["governance_up"] == true);
  CHECK(rb["checks"]["leader_known"] == true);
  auto m = none.get("/metrics");
  REQUIRE(m->status == 200);
  CHECK(m->body.find("bulwark_journal_head_seq ") != std::string::npos);
  CHECK(m->get_header_value("Content-Type").find("text/plain") == 0);
  json samples = json::array();
  for (int i = 0; i < 5; ++i)
    samples.push_back({{"service", "coaster"}, {"region", "north"}, {"error_rate", 0.01},
                       {"latency_ms", 12.5}});
  auto fed = op.post("/v1/metrics", json{{"samples", samples}});
  REQUIRE(fed->status == 200);
  CHECK(body_of(fed)["accepted"].get<int>() + body_of(fed)["refused"].get<int>() == 5);
  CHECK(viewer.post("/v1/metrics", json{{"samples", samples}})->status == 403);
  auto bad = op.post("/v1/metrics", json{{"samples", {{{"service", "coaster"}, {"region", "north"},
                                                       {"error_rate", 2}, {"latency_ms", 1}}}}});
  CHECK(bad->status == 400);
  CHECK(body_of(bad)["error"]["message"] == "args.samples[0].error_rate must be a number from 0 to 1");
  CHECK(op.post("/v1/metrics", json{{"samples", json::array()}})->status == 400);
}

TEST_CASE("http: the console's request rate applies per client address, with Retry-After") {
  http_node n{"rate_per_second = 1.0\nburst = 3.0\n"};
  api viewer{n.node.http_port, "viewer-token"};
  int limited = 0;
  std::string retry;
  for (int i = 0; i < 6; ++i) {
    auto r = viewer.get("/v1/status");
    REQUIRE(r);
    if (r->status == 429) {
      ++limited;
      retry = r->get_header_value("Retry-After");
      CHECK(code_of(r) == "RATE_LIMITED");
    }
  }
  CHECK(limited >= 2);
  CHECK(!retry.empty());
}

TEST_CASE("http: history queries filter by type, subject and time, page by next, refuse bad "
          "input") {
  http_node n{"history_threads = 1\nhistory_queue = 4\n"};
  api viewer{n.node.http_port, "viewer-token"};
  // Type and service: the fleet's coaster resources, five a page, each page from `next`.
  std::vector<uint64_t> seqs;
  std::string q = "/v1/events?type=resource_registered&service=coaster&limit=5";
  auto page = body_of(viewer.get(q));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(page["events"].size() == 5);
    for (auto& e : page["events"]) {
      CHECK(e["type"] == "resource_registered");
      CHECK(e["payload"]["service"] == "coaster");
      seqs.push_back(e["seq"].get<uint64_t>());
    }
    REQUIRE(page["next"].is_number());
    CHECK(page["next"].get<uint64_t>() == seqs.back() + 1);
    page = body_of(viewer.get(q + "&from=" + std::to_string(page["next"].get<uint64_t>())));
  }
  for (size_t i = 1; i < seqs.size(); ++i)
    CHECK(seqs[i] > seqs[i - 1]);
  // Principal: the viewer's own access records ("watch" is its principal).
  // The access records are appended without waiting: ask until the first is committed.
  json mine;
  for (int i = 0; i < 200; ++i) {
    mine = body_of(viewer.get("/v1/events?type=console_access&principal=watch"));
    if (!mine["events"].empty())
      break;
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(!mine["events"].empty());
  for (auto& e : mine["events"])
    CHECK(e["payload"]["principal"] == "watch");
  CHECK(mine["next"].is_null());
  // Time: one event's millisecond selects it (and only events of that millisecond).
  auto first = body_of(viewer.get("/v1/events?from=7&to=7"));
  REQUIRE(first["events"].size() == 1);
  auto at = first["events"][0]["at"].get<std::string>();
  auto same = body_of(viewer.get("/v1/events?to=400&since=" + at + "&until=" + at));
  REQUIRE(!same["events"].empty());
  for (auto& e : same["events"])
    CHECK(e["at"] == at);
  // Bad input: 400 naming the problem.
  auto refused = [&](const std::string& query, const std::string& says) {
    auto r = viewer.get("/v1/events?" + query);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(code_of(r) == "INVALID_INPUT");
    auto message = body_of(r)["error"]["message"].get<std::string>();
    CHECK_MESSAGE(message.find(says) != std::string::npos, message);
  };
  refused("from=9&to=3", "inverted range: from 9 is after to 3");
  refused("since=2026-12-06T08:00:00Z&until=2026-12-06T07:00:00Z", "inverted range: since");
  refused("type=resource_registered,bogus", "unknown event type 'bogus'");
  refused("limit=10001", "limit must be 1 to 10000");
  refused("limit=0", "limit must be 1 to 10000");
  refused("since=yesterday", "since must be a UTC time");
  refused("proposal=abc", "proposal must be a whole digest");
  refused("colour=red", "unknown query parameter 'colour'");
  // The largest page is served.
  auto big = body_of(viewer.get("/v1/events?limit=10000"));
  CHECK(big["events"].size() == std::min<uint64_t>(big["head"].get<uint64_t>(), 10000));
}

TEST_CASE("http: a proposal's own approval window and a level-0 read") {
  http_node n;
  api op{n.node.http_port, "operator-token"};
  // The request waits for the outcome: the expiry of the proposal's own window.
  auto body = proposal(1, "http-window", "coaster-north-03");
  body["approval_window_ms"] = 300;
  auto r = op.post("/v1/proposals", body);
  REQUIRE(r);
  CHECK(r->status == 200);
  auto done = body_of(r);
  CHECK(done["status"] == "expired");
  CHECK(done["code"] == "APPROVAL_EXPIRED");
  CHECK(done["message"]
        == "nobody approved within the approval window (300 ms, the proposal's own: "
           "approval_window_ms)");
  CHECK(done["read"].is_null());
  // A bad window is a 400 naming it.
  body["idempotency_key"] = "http-window-bad";
  body["approval_window_ms"] = "soon";
  auto bad = op.post("/v1/proposals", body);
  CHECK(bad->status == 400);
  CHECK(body_of(bad)["error"]["message"].get<std::string>().find(
          "args.approval_window_ms must be a non-negative integer")
        != std::string::npos);
  body["approval_window_ms"] = 0;
  auto zero = op.post("/v1/proposals", body);
  CHECK(zero->status == 400);
  CHECK(body_of(zero)["error"]["message"] == "approval_window_ms must be longer than zero");
  // A level-0 read answers what it read.
  auto read = op.post("/v1/proposals", json{{"idempotency_key", "http-read"},
                                            {"level", 0},
                                            {"services", {"coaster"}},
                                            {"regions", {"north"}}});
  REQUIRE(read);
  CHECK(read->status == 200);
  auto answer = body_of(read);
  CHECK(answer["status"] == "read");
  REQUIRE(answer["read"].is_object());
  CHECK(answer["read"]["total"].get<int>() == static_cast<int>(answer["read"]["resources"].size()));
  CHECK(answer["read"]["total"].get<int>() > 0);
  for (auto& x : answer["read"]["resources"]) {
    CHECK(x["service"] == "coaster");
    CHECK(x["region"] == "north");
  }
}
