// A real `bulwark node` with a webhook from its configuration: an operator's halt reaches
// the receiver with the bearer token, `status` and `/metrics` count the delivery, the
// journal holds its status; bad notification configuration stops the node at start.

#include <doctest/doctest.h>

#include "integration/node_process.hpp"
#include "integration/notify_receiver.hpp"
#include "unit/effectors/effector_test_util.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

TEST_CASE("node: a configured webhook hears of a halt, status, metrics and the journal count it") {
  notify_receiver r;
  temp_dir files;
  auto token = write_file(files, "hook.token", "hook-secret\n");
  node_process node{"[notify]\nqueue = 16\n[[notifications]]\nname = \"ops\"\nurl = \"" + r.url()
                    + "\"\nevents = [\"halt_engaged\"]\nbackoff_ms = 10\ntoken_file = \"" + token
                    + "\"\n"};
  client admin{node.port};
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto halted = admin.call({{"id", 1}, {"cmd", "halt"}, {"args", {{"reason", "storm"}}}});
  REQUIRE_MESSAGE(halted["ok"] == true, halted.dump());
  REQUIRE(r.wait_for(1));
  auto got = r.all()[0];
  CHECK(got.body["kind"] == "halt_engaged");
  CHECK(got.body["node"] == "test-node");
  CHECK(got.body["event"]["payload"]["reason"] == "storm");
  CHECK(got.authorization == "Bearer hook-secret");
  json hooks;
  REQUIRE(eventually([&] {
    auto st = admin.call({{"id", 2}, {"cmd", "status"}});
    hooks = st["result"]["notifications"];
    return hooks.is_object() && hooks["webhooks"][0]["delivered"] == 1;
  }));
  CHECK(hooks["queue_capacity"] == 16);
  CHECK(hooks["queue_depth"] == 0);
  CHECK(hooks["journal_failures"] == 0);
  CHECK(hooks["webhooks"][0]["name"] == "ops");
  CHECK(hooks["webhooks"][0]["failed"] == 0);
  CHECK(hooks["webhooks"][0]["dropped"] == 0);
  httplib::Client metrics{"127.0.0.1", node.metrics_port};
  auto text = metrics.Get("/metrics");
  REQUIRE(text);
  CHECK(text->body.find("bulwark_notifications_total{webhook=\"ops\",status=\"delivered\"} 1\n")
        != std::string::npos);
  CHECK(text->body.find("bulwark_notify_queue_capacity 16\n") != std::string::npos);
  bool journaled = false;
  REQUIRE(eventually([&] {
    auto log = admin.call({{"id", 3}, {"cmd", "log"}, {"args", {{"from", 1}}}});
    for (auto& e : log["result"]["events"])
      if (e["type"] == "notification_sent")
        journaled = e["payload"]["status"] == "delivered" && e["payload"]["webhook"] == "ops"
                    && e["payload"]["event_seq"] == got.body["seq"];
    return journaled;
  }));
  CHECK(r.count() == 1); // its own record was not notified
}

TEST_CASE("node: bad notification configuration stops the node at start naming the key") {
  temp_dir dir;
  auto start = [&](const std::string& toml) {
    auto cfg = write_file(dir, "bulwark.toml", "[node]\nid = \"n\"\n" + toml);
    std::string out;
    auto rc = run_command(std::string{BULWARK_BINARY} + " node --config " + cfg + " --data "
                            + dir.sub("journal") + " --console 127.0.0.1:0 --metrics off",
                          &out);
    CHECK(rc == 1); // a configuration error
    CHECK_FALSE(std::ifstream{dir.sub("journal/data.mdb")}.good()); // nothing was started
    auto prefix = "INVALID_INPUT: " + cfg + ": ";
    auto at = out.find(prefix);
    return at == std::string::npos ? out : out.substr(at + prefix.size());
  };
  auto hook = std::string{"[[notifications]]\nname = \"ops\"\n"};
  CHECK(start(hook + "url = \"ftp://127.0.0.1/x\"\n").rfind(
          "notifications[0].url: must be an http:// or https:// URL", 0) == 0);
  CHECK(start(hook + "url = \"http://127.0.0.1:9/x\"\nevents = [\"halt_engagd\"]\n").rfind(
          "notifications[0].events: \"halt_engagd\" is not an event kind", 0) == 0);
  CHECK(start(hook + "url = \"http://127.0.0.1:9/x\"\nformat = \"teams\"\n").rfind(
          "notifications[0].format: must be json or slack", 0) == 0);
  CHECK(start(hook).rfind("notifications[0].url: is required", 0) == 0);
  CHECK(start(hook + "url = \"http://127.0.0.1:9/x\"\nretries = 3\n").find(
          "notifications.retries") != std::string::npos); // the known-keys check names it
}

TEST_CASE("node: the webhook feed killed is restarted under front, and misses no halt") {
  notify_receiver r;
  node_process node{"[chaos]\nenabled = true\nconsole = true\n[[notifications]]\nname = \"ops\"\n"
                    "url = \"" + r.url() + "\"\nevents = [\"halt_engaged\"]\nbackoff_ms = 10\n"};
  client admin{node.port};
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto killed = admin.call({{"id", 1},
                            {"cmd", "chaos"},
                            {"args", {{"fault", "kill"}, {"target", "notify_feed"}}}});
  REQUIRE_MESSAGE(killed["ok"] == true, killed.dump());
  // The restart is journaled under front; the halt after it is notified once.
  REQUIRE(eventually([&] {
    auto log = admin.call(
      {{"id", 2}, {"cmd", "log"}, {"args", {{"type", "actor_restarted"}}}});
    for (auto& e : log["result"]["events"])
      if (e["payload"]["supervisor"] == "front" && e["payload"]["child"] == "notify_feed")
        return true;
    return false;
  }));
  auto halted = admin.call({{"id", 3}, {"cmd", "halt"}, {"args", {{"reason", "after kill"}}}});
  REQUIRE_MESSAGE(halted["ok"] == true, halted.dump());
  REQUIRE(r.wait_for(1));
  CHECK(r.all()[0].body["event"]["payload"]["reason"] == "after kill");
  // A second kill after the halt: the new feed starts after the halt, so it is not sent again.
  REQUIRE(admin.call({{"id", 4},
                      {"cmd", "chaos"},
                      {"args", {{"fault", "kill"}, {"target", "notify_feed"}}}})["ok"]
          == true);
  auto released = admin.call({{"id", 5}, {"cmd", "release"}, {"args", {{"reason", "ok"}}}});
  REQUIRE(released["ok"] == true);
  auto again = admin.call({{"id", 6}, {"cmd", "halt"}, {"args", {{"reason", "second"}}}});
  REQUIRE(again["ok"] == true);
  REQUIRE(r.wait_for(2));
  std::this_thread::sleep_for(200ms); // a duplicate would arrive by now
  CHECK(r.count() == 2);
  CHECK(r.all()[1].body["event"]["payload"]["reason"] == "second");
}
