// `bulwark console -c` tells a script how its command ended: 0, 2 for an error answer, 4
// for an answer that reports a failed outcome (here a denied proposal).

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "integration/node_process.hpp"

using json = nlohmann::json;
using bulwark::test::node_process;
using bulwark::test::run_command;

namespace {

std::string console_c(uint16_t port, const std::string& command) {
  return "BULWARK_TOKEN=operator-token timeout 30 " BULWARK_BINARY " console --connect 127.0.0.1:"
         + std::to_string(port) + " --json -c '" + command + "'";
}

std::string read_all(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

} // namespace

TEST_CASE("console -c exits 0, 2 for an error answer, 4 for a failed outcome") {
  node_process node;
  auto port = node.port;
  std::string out;
  CHECK(run_command(console_c(port, "status"), &out) == 0);
  // An error answer: a level outside 0-4.
  CHECK(run_command(console_c(port, "propose idempotency_key=x level=9 services=[\"gates\"] "
                                    "regions=[\"north\"] changes=[]"),
                    &out)
        == 2);
  // A level-1 proposal waits in a background client; a denial ends it: exit 4.
  auto rc_file = node.dir.sub("propose.rc");
  auto propose = console_c(port, "propose idempotency_key=deny-me level=1 services=[\"gates\"] "
                                 "regions=[\"north\"] changes=[{\"resource\":\"gates-north-01\","
                                 "\"key\":\"mode\",\"value\":\"closed\"}]");
  REQUIRE(run_command("(" + propose + " > " + node.dir.sub("propose.out") + "; echo $? > "
                      + rc_file + ") > /dev/null 2>&1 &")
          == 0);
  std::string digest;
  for (int i = 0; i < 200 && digest.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    out.clear(); // run_command appends
    REQUIRE(run_command(console_c(port, "proposals"), &out) == 0);
    auto answer = json::parse(out, nullptr, false);
    if (!answer.is_discarded() && answer["result"].is_array() && !answer["result"].empty())
      digest = answer["result"][0].value("proposal", "");
  }
  REQUIRE_MESSAGE(digest.size() == 64, out, read_all(node.dir.sub("propose.out")));
  CHECK(run_command(console_c(port, "deny proposal=" + digest + " note=no"), &out) == 0);
  std::string rc;
  for (int i = 0; i < 200 && rc.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    rc = read_all(rc_file);
  }
  CHECK(rc == "4\n");
  CHECK(read_all(node.dir.sub("propose.out")).find("\"status\":\"denied\"") != std::string::npos);
}
