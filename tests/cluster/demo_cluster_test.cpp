// `bulwark demo --cluster N` runs the cluster scenario on N nodes and exits 0 only if
// every check passed; bad arguments are refused with a clear message.

#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"
#include "support/whole_hashes.hpp"

using bulwark::test::cut_hex;
using bulwark::test::run_command;
using bulwark::test::temp_dir;

namespace {

const std::string bulwark_bin = BULWARK_BINARY;

} // namespace

TEST_CASE("demo --cluster 3 replicates, routes, fails closed, catches up and compares") {
  temp_dir dir;
  std::string out;
  auto code = run_command("(timeout -k 5 120 " + bulwark_bin + " demo --cluster 3 --json --data "
                            + dir.sub("demo") + " 2>/dev/null)", &out);
  INFO(out);
  CHECK(code == 0);
  auto j = nlohmann::json::parse(out, nullptr, false);
  REQUIRE(!j.is_discarded());
  CHECK(j["all_passed"] == true);
  CHECK(j["failed"] == 0);
  CHECK(j["nodes"] == 3);
  auto& checks = j["checks"];
  REQUIRE(checks.is_array());
  CHECK(checks.size() >= 18);
  auto has = [&](const std::string& text) {
    for (auto& c : checks)
      if (c["check"].get<std::string>().find(text) != std::string::npos)
        return c["ok"].get<bool>();
    return false;
  };
  CHECK(has("ran on the leader"));
  CHECK(has("recorded by the leader"));
  CHECK(has("refuses a mutation: UNAVAILABLE"));
  CHECK(has("serves reads from its copy"));
  CHECK(has("caught up"));
  CHECK(has("n3: head seq"));
  // Whole hashes in --json: each node's chain and state digest, equal across the nodes.
  CHECK_MESSAGE(cut_hex(out).empty(), cut_hex(out));
  std::set<std::string> chains;
  for (auto& c : checks)
    if (c.contains("chain")) {
      CHECK(c["chain"].get<std::string>().size() == 64);
      CHECK(c["state_digest"].get<std::string>().size() == 64);
      chains.insert(c["chain"].get<std::string>());
    }
  CHECK(chains.size() == 1);
  // Each node's journal is left behind, one directory per node.
  CHECK(std::ifstream{dir.sub("demo/n1-journal/data.mdb")}.good());
  CHECK(std::ifstream{dir.sub("demo/n3-journal/data.mdb")}.good());
}

TEST_CASE("demo --cluster refuses a bad node count and a used directory") {
  temp_dir dir;
  std::string out;
  CHECK(run_command(bulwark_bin + " demo --cluster 1 2>&1", &out) == 1);
  CHECK(out.find("--cluster needs 2 to 7 nodes") != std::string::npos);
  CHECK(run_command(bulwark_bin + " demo --cluster 9 2>&1", &out) == 1);
  std::ofstream{dir.sub("used.txt")} << "x";
  CHECK(run_command(bulwark_bin + " demo --cluster 2 --data " + dir.path() + " 2>&1", &out) == 1);
  CHECK(out.find("needs a new or empty directory") != std::string::npos);
  CHECK(run_command(bulwark_bin + " demo --help 2>&1", &out) == 0);
  CHECK(out.find("--cluster") != std::string::npos);
}
