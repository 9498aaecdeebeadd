// The notifier on a running engine (real clock) against loopback receivers: the kinds a
// webhook hears of, retries until a 2xx, a dead webhook that fails while decisions keep
// flowing, a full queue that drops and counts, and the Slack body.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fstream>
#include <set>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bulwark/engine.hpp"
#include "engine/engine_impl.hpp"
#include "integration/notify_receiver.hpp"
#include "notify/notifier.hpp"
#include "persistence/journal_store.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

webhook_spec hook(const std::string& name, const std::string& url) {
  webhook_spec w;
  w.name = name;
  w.http.url = url;
  w.http.connect_timeout = 2000ms;
  w.kinds.insert(all_notify_kinds().begin(), all_notify_kinds().end());
  w.timeout = 2000ms;
  w.max_attempts = 5;
  w.backoff = 1ms;
  return w;
}

/// A loopback port nothing listens on (bound, then closed).
int dead_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// An engine on the real clock with ten coasters, a recording effector and a notifier.
struct notify_engine {
  temp_dir dir;
  std::unique_ptr<engine> eng;
  std::unique_ptr<notifier> notify;
  std::mutex mtx;
  std::vector<committed_event> events;

  explicit notify_engine(notify_settings settings, const std::string& toml = {}) {
    engine_options opts;
    opts.data_dir = dir.sub("journal");
    opts.admins = {"admin"};
    opts.operators = {"ops"};
    opts.grants = {{"agent", 4}, {"low", 1}};
    opts.enforce_enabled = true;
    opts.approval_timeout = std::chrono::minutes{10};
    if (!toml.empty()) {
      opts.config_file = dir.sub("bulwark.toml");
      std::ofstream{opts.config_file} << toml;
    }
    std::string err;
    eng = engine::start(opts, &err);
    REQUIRE_MESSAGE(eng, err);
    eng->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
    for (int i = 0; i < 10; ++i)
      REQUIRE(eng->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
    eng->subscribe([this](const committed_event& e) {
      std::lock_guard<std::mutex> guard{mtx};
      events.push_back(e);
    });
    auto& d = eng->internals();
    notify = notifier::start(*d.sys, d.journal, d.store->head(), std::move(settings), "test-node");
  }

  ~notify_engine() {
    notify->stop();
    eng->stop();
  }

  /// The payloads of the journaled `notification_sent` records, in order.
  std::vector<json> sent() {
    std::lock_guard<std::mutex> guard{mtx};
    std::vector<json> out;
    for (auto& e : events)
      if (e.type == "notification_sent")
        out.push_back(json::parse(e.json)["payload"]);
    return out;
  }

  /// The seq of the last committed event of `type` (0: none).
  uint64_t last_seq(const std::string& type) {
    std::lock_guard<std::mutex> guard{mtx};
    uint64_t out = 0;
    for (auto& e : events)
      if (e.type == type)
        out = e.seq;
    return out;
  }

  proposal_request proposal(int level, int coaster, const std::string& value,
                            const std::string& principal = "agent") {
    static int counter = 0;
    proposal_request p;
    p.idempotency_key = "notify-" + std::to_string(++counter);
    p.principal = principal;
    p.level = level;
    p.services = {"coaster"};
    p.regions = {"north"};
    p.changes = {{"coaster-" + std::to_string(coaster), "mode", value}};
    p.justification = "test";
    p.timeout = std::chrono::minutes{1};
    return p;
  }
};

std::vector<std::string> kinds_of(const std::vector<notify_receiver::request>& rs) {
  std::vector<std::string> out;
  for (auto& r : rs)
    out.push_back(r.body.value("kind", std::string{"?"}));
  return out;
}

} // namespace

TEST_CASE("notify: a receiver hears of a halt, its release, approvals waiting and an incident") {
  notify_receiver r;
  notify_settings s;
  s.webhooks.push_back(hook("ops", r.url()));
  // Short windows, so that a second of samples confirms an anomaly.
  notify_engine n{std::move(s), "[incident]\nconfirmation_ms = 1000\nwarmup_samples = 3\n"};
  REQUIRE(n.eng->halt("admin", "storm").ok);
  REQUIRE(n.eng->release("admin", "calm").ok);
  auto waiting = n.eng->submit(n.proposal(1, 1, "closed", "low")); // waits for an approval
  REQUIRE(r.wait_for(3));
  // A baseline dated in the past, a change, then an error rate that confirms an anomaly
  // after it: an incident opens with the change as its culprit, and its rollback waits
  // for an approval (level 1).
  auto t0 = n.eng->now() - 60s;
  for (int i = 0; i < 5; ++i)
    CHECK(n.eng->feed_metric({"coaster", "north", 0.01, 10.0, t0 + i * 1s}));
  auto change = n.eng->submit(n.proposal(4, 2, "bad")).get();
  REQUIRE_MESSAGE(change.ok, change.message);
  auto t1 = n.eng->now();
  for (int i = 1; i <= 6; ++i)
    CHECK(n.eng->feed_metric({"coaster", "north", 0.5, 10.0, t1 + i * 250ms}));
  REQUIRE(eventually([&] { return n.last_seq("rollback_requested") > 0; }));
  // The error rate makes it a P0, whose respond_by is immediate: nobody acknowledged it by
  // then, so it is escalated at once.
  REQUIRE(r.wait_for(6));
  auto got = r.all();
  auto kinds = kinds_of(got);
  REQUIRE(kinds.size() == 6);
  CHECK(std::vector<std::string>(kinds.begin(), kinds.begin() + 3)
        == std::vector<std::string>{"halt_engaged", "halt_released", "approval_waiting"});
  CHECK(std::multiset<std::string>(kinds.begin() + 3, kinds.end())
        == std::multiset<std::string>{"incident_opened", "incident_escalated",
                                      "approval_waiting"});
  // Each body: the kind, the event's seq, the node, and the event as the API renders it.
  for (auto& q : got) {
    CHECK(q.body["node"] == "test-node");
    CHECK(q.body["event"]["seq"] == q.body["seq"]);
    CHECK(q.idempotency_key
          == "bulwark-test-node-ops-" + std::to_string(q.body["seq"].get<uint64_t>()));
  }
  CHECK(got[0].body["event"]["type"] == "halt_engaged");
  CHECK(got[0].body["event"]["payload"]["reason"] == "storm");
  CHECK(got[0].body["seq"] == n.last_seq("halt_engaged"));
  CHECK(got[2].body["event"]["type"] == "proposal_decided");
  CHECK(got[2].body["event"]["payload"]["level"] == 1);
  std::set<uint64_t> seqs;
  for (auto& q : got)
    seqs.insert(q.body["seq"].get<uint64_t>());
  CHECK(seqs.count(n.last_seq("incident_opened")) == 1);
  CHECK(seqs.count(n.last_seq("rollback_requested")) == 1);
  // Each delivery's final status is journaled, and none of those records is notified.
  REQUIRE(eventually([&] { return n.sent().size() == 6; }));
  auto sent = n.sent();
  for (size_t k = 0; k < 6; ++k) {
    CHECK(sent[k]["webhook"] == "ops");
    CHECK(sent[k]["status"] == "delivered");
    CHECK(sent[k]["attempts"] == 1);
    CHECK(sent[k]["reason"] == "");
    CHECK(sent[k]["kind"] == kinds[k]);
    CHECK(sent[k]["event_seq"] == got[k].body["seq"]);
  }
  CHECK(r.count() == 6);
  auto f = n.notify->figures();
  REQUIRE(f.webhooks.size() == 1);
  CHECK(f.webhooks[0].delivered == 6);
  CHECK(f.webhooks[0].failed == 0);
  CHECK(f.webhooks[0].dropped == 0);
  CHECK(f.journal_failures == 0);
}

TEST_CASE("notify: a webhook that answers 500 twice then 200 gets three attempts, then delivered") {
  notify_receiver r;
  r.answer = [](size_t n) { return n < 2 ? 500 : 200; };
  notify_settings s;
  s.webhooks.push_back(hook("ops", r.url()));
  notify_engine n{std::move(s)};
  REQUIRE(n.eng->halt("admin", "storm").ok);
  REQUIRE(eventually([&] { return n.sent().size() == 1; }));
  auto sent = n.sent()[0];
  CHECK(sent["status"] == "delivered");
  CHECK(sent["attempts"] == 3);
  CHECK(sent["kind"] == "halt_engaged");
  CHECK(sent["event_seq"] == n.last_seq("halt_engaged"));
  auto got = r.all();
  REQUIRE(got.size() == 3);
  // The same notification each time, with one idempotency key for its retries.
  CHECK(got[0].body == got[2].body);
  CHECK(got[0].idempotency_key == got[2].idempotency_key);
  CHECK(n.notify->figures().webhooks[0].delivered == 1);
  CHECK(n.notify->figures().webhooks[0].failed == 0);
  // The record decodes in the independent verifier, written from docs/journal-format.md.
  n.notify->stop();
  n.eng->stop();
  std::string out;
  auto rc = run_command("/usr/bin/python3 " BULWARK_SOURCE_DIR "/tests/tools/verify_journal.py "
                          + n.dir.sub("journal") + " --json",
                        &out);
  CHECK_MESSAGE(rc == 0, out);
  CHECK(out.find("\"notification_sent\": 1") != std::string::npos);
}

TEST_CASE("notify: a dead webhook fails after max_attempts while decisions keep flowing") {
  notify_receiver slow;
  slow.hold = true; // answers nothing until released
  slow.answer = [](size_t) { return 503; };
  notify_settings s;
  auto dead = hook("dead", "http://127.0.0.1:" + std::to_string(dead_port()) + "/hook");
  dead.max_attempts = 3;
  s.webhooks.push_back(dead);
  auto stuck = hook("stuck", slow.url());
  stuck.max_attempts = 1;
  stuck.timeout = 600000ms;
  s.webhooks.push_back(stuck);
  // Every coaster may change within the window: the proposals below are all allowed.
  notify_engine n{std::move(s), "[blast_radius]\nmax_percent = 100.0\n"};
  for (int i = 0; i < 3; ++i)
    REQUIRE(n.eng->grant("admin", "agent", 4, std::nullopt, "round " + std::to_string(i)).ok);
  REQUIRE(slow.wait_for(1)); // the first notification is in flight and stays there
  // Decisions do not wait for the webhooks: 20 level-4 proposals succeed while the slow
  // receiver still holds its first request.
  for (int i = 0; i < 20; ++i) {
    auto res = n.eng->submit(n.proposal(4, i % 10, "v" + std::to_string(i))).get();
    CHECK_MESSAGE(res.ok, res.message);
    CHECK(res.status == "succeeded");
  }
  CHECK(slow.count() == 1);
  // The dead webhook: every notification failed after three attempts, journaled so.
  REQUIRE(eventually([&] { return n.notify->figures().webhooks[0].failed == 3; }));
  REQUIRE(eventually([&] {
    size_t failed = 0;
    for (auto& x : n.sent())
      failed += x["webhook"] == "dead" && x["status"] == "failed";
    return failed == 3;
  }));
  for (auto& x : n.sent()) {
    REQUIRE(x["webhook"] == "dead");
    CHECK(x["kind"] == "policy_changed");
    CHECK(x["attempts"] == 3);
    CHECK_FALSE(x["reason"].get<std::string>().empty());
  }
  auto f = n.notify->figures();
  CHECK(f.webhooks[0].delivered == 0);
  CHECK(f.webhooks[0].queued == 0);
  CHECK(f.webhooks[1].queued == 3); // the held one and the two behind it
  CHECK(f.queue_depth == 3);
  slow.release(); // 503 and one attempt each: three more failures
  REQUIRE(eventually([&] { return n.notify->figures().webhooks[1].failed == 3; }));
  REQUIRE(eventually([&] { return n.sent().size() == 6; }));
  CHECK(n.sent()[3]["reason"] == "HTTP 503");
  CHECK(n.notify->figures().queue_depth == 0);
}

TEST_CASE("notify: a full queue drops notifications, counts and journals each drop") {
  notify_receiver r;
  r.hold = true;
  notify_settings s;
  s.queue = 2; // the notification being sent counts
  s.webhooks.push_back(hook("ops", r.url()));
  notify_engine n{std::move(s)};
  for (int i = 0; i < 5; ++i)
    REQUIRE((i % 2 == 0 ? n.eng->halt("admin", "h") : n.eng->release("admin", "r")).ok);
  REQUIRE(eventually([&] { return n.sent().size() == 3; }));
  for (auto& x : n.sent()) {
    CHECK(x["status"] == "dropped");
    CHECK(x["attempts"] == 0);
    CHECK(x["reason"] == "the notification queue is full (2)");
  }
  auto f = n.notify->figures();
  CHECK(f.webhooks[0].dropped == 3);
  CHECK(f.queue_depth == 2);
  CHECK(f.queue_capacity == 2);
  CHECK(r.count() == 1);
  r.release();
  REQUIRE(eventually([&] { return n.notify->figures().webhooks[0].delivered == 2; }));
  CHECK(kinds_of(r.all()) == std::vector<std::string>{"halt_engaged", "halt_released"});
  REQUIRE(eventually([&] { return n.sent().size() == 5; }));
  CHECK(n.notify->figures().queue_depth == 0);
}

TEST_CASE("notify: a Slack webhook gets one line under \"text\", kinds not asked for are not sent") {
  notify_receiver r;
  notify_settings s;
  auto w = hook("chat", r.url());
  w.format = notify_format::slack;
  w.kinds = {notify_kind::halt_released};
  s.webhooks.push_back(w);
  notify_engine n{std::move(s)};
  REQUIRE(n.eng->halt("admin", "storm").ok);
  REQUIRE(n.eng->release("admin", "calm").ok);
  REQUIRE(r.wait_for(1));
  REQUIRE(eventually([&] { return n.sent().size() == 1; }));
  auto got = r.all();
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].body.is_object());
  CHECK(got[0].body.size() == 1);
  CHECK(got[0].body["text"] == "bulwark test-node: halt released (seq "
                                 + std::to_string(n.last_seq("halt_released"))
                                 + "): by=admin reason=calm");
  CHECK(n.sent()[0]["kind"] == "halt_released");
}

TEST_CASE("notify: a status the journal refuses is counted, and nothing waits for it") {
  notify_receiver r;
  r.hold = true;
  notify_settings s;
  s.webhooks.push_back(hook("ops", r.url()));
  notify_engine n{std::move(s)};
  REQUIRE(n.eng->halt("admin", "storm").ok);
  REQUIRE(r.wait_for(1)); // in flight
  n.eng->inject_journal_failures(true); // the disk is full from now on
  r.release();
  REQUIRE(eventually([&] { return n.notify->figures().journal_failures == 1; }));
  auto f = n.notify->figures();
  CHECK(f.webhooks[0].delivered == 1);
  CHECK(f.queue_depth == 0);
  CHECK(n.sent().empty());
  n.eng->inject_journal_failures(false);
  REQUIRE(n.eng->release("admin", "calm").ok); // the notifier goes on
  REQUIRE(eventually([&] { return n.sent().size() == 1; }));
  CHECK(n.sent()[0]["kind"] == "halt_released");
  CHECK(n.notify->figures().journal_failures == 1);
}

TEST_CASE("notify: a webhook that never answers times out on every attempt, then fails") {
  notify_receiver r;
  r.hold = true; // answers nothing while the test runs
  notify_settings s;
  auto w = hook("ops", r.url());
  w.timeout = 200ms;
  w.max_attempts = 2;
  s.webhooks.push_back(w);
  notify_engine n{std::move(s)};
  REQUIRE(n.eng->halt("admin", "storm").ok);
  REQUIRE(eventually([&] { return n.sent().size() == 1; }));
  auto x = n.sent()[0];
  CHECK(x["status"] == "failed");
  CHECK(x["attempts"] == 2);
  CHECK(x["reason"].get<std::string>().find("timed out") != std::string::npos);
  CHECK(r.count() == 2);
  CHECK(n.notify->figures().webhooks[0].failed == 1);
}
