// `[notify]` and `[[notifications]]`: defaults, every key read, and every error refused
// naming the file and the key.

#include <doctest/doctest.h>

#include "engine/config_keys.hpp"
#include "messages/error.hpp"
#include "notify/notify_config.hpp"
#include "unit/effectors/effector_test_util.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

/// The error of loading `text` as bulwark.toml ("" when it loads).
std::string error_of(const temp_dir& dir, const std::string& text) {
  auto r = load_notifications(write_file(dir, "bulwark.toml", text));
  if (r)
    return {};
  auto message = describe(r.error()).message;
  auto prefix = dir.sub("bulwark.toml") + ": ";
  CHECK(message.rfind(prefix, 0) == 0); // every error names the file
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

const std::string hook = "[[notifications]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\n";

} // namespace

TEST_CASE("notify config: none configured is an empty list with the default queue") {
  temp_dir dir;
  auto r = load_notifications(write_file(dir, "bulwark.toml", "[node]\nid = \"n1\"\n"));
  REQUIRE(r);
  CHECK(r->webhooks.empty());
  CHECK(r->queue == 1024);
}

TEST_CASE("notify config: defaults, then every key set") {
  temp_dir dir;
  auto r = load_notifications(write_file(dir, "bulwark.toml", hook));
  REQUIRE_MESSAGE(r, describe(r.error()).message);
  REQUIRE(r->webhooks.size() == 1);
  auto& d = r->webhooks[0];
  CHECK(d.name == "ops");
  CHECK(d.http.url == "http://127.0.0.1:9/hook");
  CHECK(d.format == notify_format::json);
  CHECK(d.kinds.size() == all_notify_kinds().size()); // default: every kind
  CHECK(d.kinds.count(notify_kind::incident_acknowledged) == 1);
  CHECK(d.timeout == 2000ms);
  CHECK(d.max_attempts == 5);
  CHECK(d.backoff == 200ms);
  CHECK(d.http.token.empty());
  write_file(dir, "ca.pem", "not checked until a TLS call\n");
  write_file(dir, "hook.token", "s3cret\n");
  r = load_notifications(write_file(
    dir, "bulwark.toml",
    "[notify]\nqueue = 7\n[[notifications]]\nname = \"chat\"\nurl = \"https://hooks.example/x\"\n"
    "format = \"slack\"\nevents = [\"halt_engaged\", \"incident_acknowledged\"]\n"
    "timeout_ms = 300\nmax_attempts = 2\nbackoff_ms = 10\nca_file = \"ca.pem\"\n"
    "token_file = \"hook.token\"\n" + hook));
  REQUIRE_MESSAGE(r, describe(r.error()).message);
  CHECK(r->queue == 7);
  REQUIRE(r->webhooks.size() == 2);
  auto& w = r->webhooks[0];
  CHECK(w.name == "chat");
  CHECK(w.format == notify_format::slack);
  CHECK(w.kinds == std::set<notify_kind>{notify_kind::halt_engaged,
                                         notify_kind::incident_acknowledged});
  CHECK(w.timeout == 300ms);
  CHECK(w.http.connect_timeout == 300ms);
  CHECK(w.max_attempts == 2);
  CHECK(w.backoff == 10ms);
  CHECK(w.http.ca_file == dir.sub("ca.pem"));
  CHECK(w.http.token == "s3cret");
  CHECK(r->webhooks[1].name == "ops");
}

TEST_CASE("notify config: bad values are refused naming the key") {
  temp_dir dir;
  auto with = [&](const std::string& line) {
    return error_of(dir, "[[notifications]]\nname = \"ops\"\n" + line);
  };
  CHECK(with("url = \"ftp://127.0.0.1/hook\"\n")
        == "notifications[0].url: must be an http:// or https:// URL");
  CHECK(with("") == "notifications[0].url: is required: an http:// or https:// URL");
  CHECK(with("url = \"http://\"\n") == "notifications[0].url: must name a host and hold no spaces");
  auto base = std::string{"url = \"http://127.0.0.1:9/h\"\n"};
  CHECK(with(base + "format = \"xml\"\n") == "notifications[0].format: must be json or slack");
  CHECK(with(base + "events = [\"halt_engaged\", \"halt_forgotten\"]\n").rfind(
          "notifications[0].events: \"halt_forgotten\" is not an event kind (one of "
          "incident_opened, incident_escalated, incident_acknowledged",
          0)
        == 0);
  CHECK(with(base + "events = []\n") == "notifications[0].events: must be a non-empty list of event kinds");
  CHECK(with(base + "timeout_ms = 0\n")
        == "notifications[0].timeout_ms: must be a whole number from 1 to 600000");
  CHECK(with(base + "max_attempts = 101\n")
        == "notifications[0].max_attempts: must be a whole number from 1 to 100");
  CHECK(with(base + "backoff_ms = -5\n")
        == "notifications[0].backoff_ms: must be a whole number from 1 to 600000");
  CHECK(with(base + "token_file = \"missing.token\"\n")
        == "notifications[0].token_file: " + dir.sub("missing.token") + " cannot be read");
  CHECK(with(base + "ca_file = \"missing.pem\"\n")
        == "notifications[0].ca_file: " + dir.sub("missing.pem") + " cannot be read");
  CHECK(with(base + "connect_timeout_ms = 5\n")
        == "notifications[0].connect_timeout_ms: is not a notifications key");
  CHECK(error_of(dir, "[[notifications]]\nurl = \"http://127.0.0.1:9/h\"\n")
        == "notifications[0].name: is required: a name for the webhook");
  CHECK(error_of(dir, "[[notifications]]\nname = \"a b\"\nurl = \"http://127.0.0.1:9/h\"\n")
        == "notifications[0].name: must be 1 to 64 letters, digits, '-', '_' or '.'");
  CHECK(error_of(dir, "[[notifications]]\nname = \"a\\\"b\"\nurl = \"http://127.0.0.1:9/h\"\n")
        == "notifications[0].name: must be 1 to 64 letters, digits, '-', '_' or '.'");
  CHECK(error_of(dir, hook + hook) == "notifications[1].name: ops names notifications[0] already");
  CHECK(error_of(dir, "notifications = 3\n") == "notifications: must be [[notifications]] tables");
  CHECK(error_of(dir, "[notify]\nqueue = 0\n") == "notify.queue: must be a whole number from 1 to 1048576");
  CHECK(error_of(dir, "[notify]\nqeue = 5\n") == "notify.qeue: is not a notify key");
  CHECK(error_of(dir, "notify = 1\n") == "notify: must be a table");
}

TEST_CASE("notify config: every key of the known-keys table is read: a wrong type names it") {
  // The generic wrong-type test reads bulwark.toml through load_config; `[notify]` and the
  // [[notifications]] tables are read by load_notifications, so their keys are held to it here.
  temp_dir dir;
  size_t checked = 0;
  for (auto& k : expanded_config_keys()) {
    if (k.file != config_file::node || k.kind != key_kind::value || k.path.rfind("notif", 0) != 0)
      continue;
    auto dot = k.path.rfind('.');
    auto table = k.path.substr(0, dot), key = k.path.substr(dot + 1);
    std::string text;
    if (table == "notify") {
      text = "[notify]\n" + key + " = { wrong = 1 }\n";
    } else {
      REQUIRE(table == "notifications");
      text = "[[notifications]]\n";
      for (auto [k2, v] : {std::pair{"name", "\"ops\""}, {"url", "\"http://127.0.0.1:9/h\""}})
        if (key != k2)
          text += std::string{k2} + " = " + v + "\n";
      text += key + " = { wrong = 1 }\n";
    }
    auto error = error_of(dir, text);
    CHECK_MESSAGE(error.find(key) != std::string::npos, k.path << ": " << error);
    ++checked;
  }
  CHECK(checked == 10);
}
