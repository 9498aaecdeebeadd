// A real `bulwark node` with an exec effector from its configuration: a level-4 proposal
// changes a file through a script, an operator's rollback restores it through the same
// script, a failing script's stderr reaches the journal, and bad effector configuration
// stops the node at start naming the key.

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "integration/node_process.hpp"
#include "unit/effectors/effector_test_util.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

// Writes the request's value (or, for a compensation, its restore) to state/RESOURCE.KEY;
// "broken" is refused with exit 3, "flaky" with exit 75 the first time.
const char* apply_script = R"sh(req=$(cat)
printf '%s\n' "$req" >> requests.log
field() { printf '%s' "$req" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
file="state/$(field resource).$(field key)"
case "$req" in
  *'"compensation":true'*)
    case "$req" in
      *'"restore":null'*) rm -f "$file" ;;
      *) field restore > "$file" ;;
    esac ;;
  *'"value":"broken"'*) echo "cannot apply broken to $file" >&2; exit 3 ;;
  *'"value":"flaky"'*)
    if [ ! -e flaky.once ]; then : > flaky.once; echo "busy, try again" >&2; exit 75; fi
    field value > "$file" ;;
  *) field value > "$file" ;;
esac)sh";

json propose(const std::string& key, const std::string& value) {
  return {{"id", 20},
          {"cmd", "propose"},
          {"args",
           {{"idempotency_key", key},
            {"level", 4},
            {"services", {"coaster"}},
            {"regions", {"north"}},
            {"changes", {{{"resource", "coaster-north-01"}, {"key", "mode"}, {"value", value}}}}}}};
}

/// Returns the journal entries from seq 1 on, through the console's `log`.
json journal_of(client& c) {
  auto log = c.call({{"id", 30}, {"cmd", "log"}, {"args", {{"from", 1}}}});
  REQUIRE(log["ok"] == true);
  return log["result"]["events"];
}

} // namespace

TEST_CASE("node: an exec effector applies a level-4 change and its rollback restores it") {
  temp_dir scripts;
  auto script = write_script(scripts, "apply.sh", apply_script);
  REQUIRE(::mkdir(scripts.sub("state").c_str(), 0755) == 0);
  write_file(scripts, "state/coaster-north-01.mode", "normal"); // the fleet file's value
  node_process node{"[[effectors]]\nservice = \"coaster\"\nkind = \"exec\"\ncommand = [\""
                    + script + "\"]\nworkdir = \"" + scripts.path() + "\"\ntimeout_ms = 5000\n"};
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto done = op.call(propose("e2e-1", "fast"));
  REQUIRE_MESSAGE(done["ok"] == true, done.dump());
  CHECK(done["result"]["status"] == "succeeded");
  CHECK(done["result"]["applied"] == 1);
  CHECK(read_file(scripts.sub("state/coaster-north-01.mode")) == "fast");
  uint64_t applied_seq = 0;
  for (auto& e : journal_of(op))
    if (e["type"] == "action_applied" && e["payload"]["resource"] == "coaster-north-01")
      applied_seq = e["seq"].get<uint64_t>();
  REQUIRE(applied_seq > 0);
  auto back = op.call({{"id", 21}, {"cmd", "rollback"},
                       {"args", {{"seqs", {applied_seq}}, {"justification", "e2e"}}}});
  REQUIRE_MESSAGE(back["ok"] == true, back.dump());
  CHECK(back["result"]["status"] == "succeeded");
  CHECK(read_file(scripts.sub("state/coaster-north-01.mode")) == "normal");
  // Both calls went through the script; the journal holds the change and its undoing.
  auto requests = read_file(scripts.sub("requests.log"));
  CHECK(requests.find("\"compensation\":false") != std::string::npos);
  CHECK(requests.find("\"compensation\":true") != std::string::npos);
  CHECK(requests.find("\"restore\":\"normal\"") != std::string::npos);
  bool reverted = false;
  for (auto& e : journal_of(op))
    if (e["type"] == "rollback_applied" && e["payload"]["reverts"] == applied_seq)
      reverted = e["payload"]["new_value"] == "normal";
  CHECK(reverted);
}

TEST_CASE("node: a failing exec effector's stderr is the journaled reason") {
  temp_dir scripts;
  auto script = write_script(scripts, "apply.sh", apply_script);
  REQUIRE(::mkdir(scripts.sub("state").c_str(), 0755) == 0);
  node_process node{"[[effectors]]\nservice = \"coaster\"\nkind = \"exec\"\ncommand = [\""
                    + script + "\"]\nworkdir = \"" + scripts.path() + "\"\n"};
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto done = op.call(propose("e2e-2", "broken"));
  REQUIRE(done["ok"] == true);
  CHECK(done["result"]["status"] == "failed");
  CHECK(done["result"]["message"].get<std::string>().find(
          "exec: exit status 3: cannot apply broken to state/coaster-north-01.mode")
        != std::string::npos);
  bool journaled = false;
  for (auto& e : journal_of(op))
    if (e["type"] == "proposal_finished"
        && e["payload"]["message"].get<std::string>().find("cannot apply broken")
             != std::string::npos)
      journaled = true;
  CHECK(journaled);
  CHECK_FALSE(std::ifstream{scripts.sub("state/coaster-north-01.mode")}.good());
}

TEST_CASE("node: exit 75 is retried through the breaker with the same idempotency key") {
  temp_dir scripts;
  auto script = write_script(scripts, "apply.sh", apply_script);
  REQUIRE(::mkdir(scripts.sub("state").c_str(), 0755) == 0);
  node_process node{"[breaker]\nbackoff_base_ms = 20\nbackoff_cap_ms = 40\n"
                    "[[effectors]]\nservice = \"coaster\"\nkind = \"exec\"\ncommand = [\""
                    + script + "\"]\nworkdir = \"" + scripts.path() + "\"\n"};
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto done = op.call(propose("e2e-3", "flaky"));
  REQUIRE(done["ok"] == true);
  CHECK(done["result"]["status"] == "succeeded");
  CHECK(read_file(scripts.sub("state/coaster-north-01.mode")) == "flaky");
  std::vector<std::string> keys;
  std::istringstream lines{read_file(scripts.sub("requests.log"))};
  for (std::string line; std::getline(lines, line);)
    keys.push_back(json::parse(line)["idempotency_key"].get<std::string>());
  REQUIRE(keys.size() == 2);
  CHECK(keys[0] == keys[1]);
  auto breakers = op.call({{"id", 40}, {"cmd", "breakers"}});
  bool counted = false;
  for (auto& b : breakers["result"])
    if (b["service"] == "coaster")
      counted = b["retries"] == 1;
  CHECK(counted);
}

TEST_CASE("node: bad effector configuration stops the node at start naming the key") {
  temp_dir dir;
  auto cfg = write_file(dir, "bulwark.toml",
                        "[node]\nid = \"n\"\n[[effectors]]\nservice = \"coaster\"\n"
                        "kind = \"exec\"\ncommand = [\"/no/such/program\"]\n");
  std::string out;
  auto rc = run_command(std::string{BULWARK_BINARY} + " node --config " + cfg + " --data "
                          + dir.sub("journal") + " --console 127.0.0.1:0 --metrics off",
                        &out);
  CHECK(rc == 1); // a configuration error
  CHECK(out.find("INVALID_INPUT: " + cfg + ": effectors[0].command: /no/such/program does not exist")
        != std::string::npos);
  CHECK_FALSE(std::ifstream{dir.sub("journal/data.mdb")}.good()); // nothing was started
}
