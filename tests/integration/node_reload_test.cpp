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
