// SIGHUP on a real `bulwark node`: it re-reads the console tokens of its configuration
// file (a valid file only) and keeps running.

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in{path};
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Waits until the node's stderr holds `needle` (the reload answered); false after 10 s.
bool stderr_says(const node_process& node, const std::string& needle) {
  for (int i = 0; i < 200; ++i) {
    if (read_all(node.stderr_path()).find(needle) != std::string::npos)
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("SIGHUP: the new tokens sign in, a removed one does not, signed-in sessions stay") {
  node_process node{"", true};
  client before{node.port};
  REQUIRE(before.auth("viewer-token")["ok"] == true);
  // The viewer's token goes, an operator's comes, the admin's stays.
  std::ofstream{node.config_path()} << node_process::base_config()
                                    << node_process::token_table("fresh-token", "op", "operator")
                                    << node_process::token_table("admin-token", "root-admin",
                                                                 "admin");
  REQUIRE(::kill(node.pid, SIGHUP) == 0);
  REQUIRE(stderr_says(node, "SIGHUP: 2 console tokens read from " + node.config_path()));
  CHECK(node.alive());

  client fresh{node.port};
  auto ok = fresh.auth("fresh-token");
  CHECK(ok["ok"] == true);
  CHECK(ok["result"]["principal"] == "op");
  CHECK(ok["result"]["role"] == "operator");
  client gone{node.port};
  CHECK(gone.auth("viewer-token")["error"]["code"] == "AUTHORITY_DENIED");
  client admin{node.port};
  CHECK(admin.auth("admin-token")["result"]["role"] == "admin");
  // Signed in before the reload: the session keeps its principal and role.
  CHECK(before.call({{"id", 1}, {"cmd", "status"}})["ok"] == true);
  // The node still runs and still stops cleanly on SIGTERM.
  REQUIRE(::kill(node.pid, SIGTERM) == 0);
  int status = 0;
  REQUIRE(::waitpid(node.pid, &status, 0) == node.pid);
  node.pid = -1;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("SIGHUP with an invalid configuration changes nothing and names the key") {
  node_process node{"", true};
  std::ofstream{node.config_path()} << node_process::base_config() << "aproval_timeout = 1\n"
                                    << node_process::token_table("fresh-token", "op", "operator");
  REQUIRE(::kill(node.pid, SIGHUP) == 0);
  REQUIRE(stderr_says(node, "SIGHUP: INVALID_INPUT"));
  auto err = read_all(node.stderr_path());
  CHECK(err.find("aproval_timeout") != std::string::npos);
  CHECK(err.find("the 3 console tokens in use stay") != std::string::npos);
  CHECK(count_of(err, "console tokens read from") == 0);
  CHECK(node.alive());
  client fresh{node.port};
  CHECK(fresh.auth("fresh-token")["error"]["code"] == "AUTHORITY_DENIED");
  for (auto* token : {"viewer-token", "operator-token", "admin-token"}) {
    client c{node.port};
    CHECK(c.auth(token)["ok"] == true);
  }
}

namespace {

/// The node's configuration with `extra` keys and its three tokens.
std::string with_tokens(const std::string& extra) {
  return node_process::base_config() + extra
         + node_process::token_table("viewer-token", "watch", "viewer")
         + node_process::token_table("operator-token", "op", "operator")
         + node_process::token_table("admin-token", "root-admin", "admin");
}

} // namespace

TEST_CASE("the console's policy and reload: a changed policy is journaled and in force, an "
          "invalid one refused whole, only an admin reloads") {
  node_process node{"[authority.approver_role]\n\"3\" = \"operator\"\n"};
  client admin{node.port};
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto before = admin.call({{"id", 1}, {"cmd", "policy"}});
  REQUIRE(before["ok"] == true);
  auto v1 = before["result"]["version"];
  REQUIRE(v1.is_string());
  CHECK(before["result"]["entries"]["authority.grant.op"] == "4");
  CHECK(admin.call({{"id", 2}, {"cmd", "status"}})["result"]["policy_version"] == v1);
  // An operator may not reload.
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto refused = op.call({{"id", 3}, {"cmd", "reload"}});
  CHECK(refused["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(refused["id"] == 3);
  // Unchanged: nothing journaled.
  auto same = admin.call({{"id", 4}, {"cmd", "reload"}});
  REQUIRE(same["ok"] == true);
  CHECK(same["result"]["changed"] == false);
  CHECK(same["result"]["version"] == v1);
  // A lower grant for op: journaled, then in force (a level-4 proposal is refused).
  std::ofstream{node.config_path()} << [] {
    auto text = with_tokens("[authority.approver_role]\n\"3\" = \"admin\"\n");
    auto at = text.find("\"op\" = 4");
    return text.replace(at, 8, "\"op\" = 2");
  }();
  auto changed = admin.call({{"id", 5}, {"cmd", "reload"}});
  REQUIRE_MESSAGE(changed["ok"] == true, changed.dump());
  CHECK(changed["result"]["changed"] == true);
  CHECK(changed["result"]["previous"] == v1);
  auto v2 = changed["result"]["version"];
  CHECK(v2 != v1);
  REQUIRE(changed["result"]["changes"].size() == 2);
  CHECK(changed["result"]["changes"][0] == nlohmann::json{{"key", "authority.approver_role.3"},
                                                          {"before", "operator"},
                                                          {"after", "admin"}});
  CHECK(changed["result"]["changes"][1] == nlohmann::json{{"key", "authority.grant.op"},
                                                          {"before", "4"}, {"after", "2"}});
  auto after = admin.call({{"id", 6}, {"cmd", "policy"}});
  CHECK(after["result"]["version"] == v2);
  CHECK(after["result"]["entries"]["authority.grant.op"] == "2");
  CHECK(admin.call({{"id", 7}, {"cmd", "status"}})["result"]["policy_version"] == v2);
  CHECK(admin.call({{"id", 8}, {"cmd", "grants"}})["result"]["configured"]["op"] == 2);
  // An invalid file: refused whole, the policy in force stays.
  std::ofstream{node.config_path()} << with_tokens("[blast_radius]\nmax_percent = 400.0\n");
  auto bad = admin.call({{"id", 10}, {"cmd", "reload"}});
  CHECK(bad["error"]["code"] == "INVALID_INPUT");
  auto why = bad["error"]["message"].get<std::string>();
  CHECK(why.find("the policy was not reloaded") == 0);
  CHECK(why.find("max_percent") != std::string::npos);
  CHECK(admin.call({{"id", 11}, {"cmd", "policy"}})["result"]["version"] == v2);
  // The journal holds the start, the reload and the refusal.
  auto log = admin.call({{"id", 12}, {"cmd", "log"}, {"args", {{"type", "policy_changed"}}}});
  REQUIRE(log["ok"] == true);
  REQUIRE(log["result"]["events"].size() == 2);
  CHECK(log["result"]["events"][1]["payload"]["by"] == "root-admin");
  auto refusals = admin.call({{"id", 13}, {"cmd", "log"}, {"args", {{"type", "policy_refused"}}}});
  REQUIRE(refusals["result"]["events"].size() == 1);
  CHECK(refusals["result"]["events"][0]["payload"]["reason"].get<std::string>().find(
          "max_percent") != std::string::npos);
}

TEST_CASE("SIGHUP reloads the policy: a change is journaled by signal, an invalid file is "
          "refused and journaled") {
  node_process node{"", true};
  client admin{node.port};
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto v1 = admin.call({{"id", 1}, {"cmd", "policy"}})["result"]["version"];
  std::ofstream{node.config_path()} << with_tokens("[blast_radius]\nmax_percent = 10.0\n");
  REQUIRE(::kill(node.pid, SIGHUP) == 0);
  REQUIRE(stderr_says(node, "changes journaled)"));
  auto err = read_all(node.stderr_path());
  CHECK(err.find("SIGHUP: policy ") != std::string::npos);
  auto now = admin.call({{"id", 2}, {"cmd", "policy"}})["result"];
  CHECK(now["version"] != v1);
  CHECK(now["entries"]["blast_radius.max_percent"] == "10");
  auto log = admin.call({{"id", 3}, {"cmd", "log"}, {"args", {{"type", "policy_changed"}}}});
  REQUIRE(log["result"]["events"].size() == 2);
  CHECK(log["result"]["events"][1]["payload"]["by"] == "signal");
  CHECK(log["result"]["events"][1]["payload"]["cause"] == "signal");
  // An invalid file: the tokens and the policy stay, the refusal is journaled.
  std::ofstream{node.config_path()} << with_tokens("[authority]\nmax_batch = 0\n");
  REQUIRE(::kill(node.pid, SIGHUP) == 0);
  REQUIRE(stderr_says(node, "the policy in force stays"));
  CHECK(admin.call({{"id", 4}, {"cmd", "policy"}})["result"]["version"] == now["version"]);
  auto refused = admin.call({{"id", 5}, {"cmd", "log"}, {"args", {{"type", "policy_refused"}}}});
  REQUIRE(refused["result"]["events"].size() == 1);
  CHECK(refused["result"]["events"][0]["payload"]["cause"] == "signal");
  CHECK(node.alive());
}
