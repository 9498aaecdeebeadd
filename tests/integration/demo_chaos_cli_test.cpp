// `bulwark demo --chaos`: the theme park under injected faults; its exit code and the
// invariants it prints.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using bulwark::test::run_command;
using bulwark::test::temp_dir;

namespace {

int run_bulwark(const std::string& args, std::string* out = nullptr) {
  return run_command(std::string{BULWARK_BINARY} + " " + args, out);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("demo --chaos kills every actor of the tree, prints how the engine held, exits 0") {
  temp_dir dir;
  auto data = dir.sub("j");
  std::string out;
  REQUIRE_MESSAGE(run_bulwark("demo --chaos --data " + data, &out) == 0, out);
  for (auto* actor : {"journal", "blast_radius", "pipeline", "rollback", "attempt_keeper",
                      "authority", "admission", "health", "detector", "orchestrator",
                      "breaker:coaster"}) {
    CAPTURE(actor);
    CHECK(out.find(std::string{"injected: kill "} + actor + " with 3 proposals in flight")
          != std::string::npos);
  }
  CHECK(out.find("injected: journal writes fail") != std::string::npos);
  CHECK(out.find("injected: effector failures") != std::string::npos);
  CHECK(out.find("injected: submissions delayed") != std::string::npos);
  for (auto* invariant :
       {"every acknowledged proposal has exactly one journaled outcome",
        "no effect ran twice", "every submission was answered", "the hash chain verifies",
        "rolled-back values are restored", "a replay of the journal gives the live state"}) {
    CAPTURE(invariant);
    CHECK(out.find(std::string{"held      "} + invariant) != std::string::npos);
  }
  CHECK(count(out, "VIOLATED") == 0);
  CHECK(count(out, "WITHOUT ANSWER") == 0);
  CHECK(out.find("invariants: all held") != std::string::npos);
  // What it left behind is an intact journal.
  CHECK(run_bulwark("verify --data " + data, &out) == 0);
}

TEST_CASE("demo --chaos --json reports every fault and invariant, a used directory is refused") {
  temp_dir dir;
  auto data = dir.sub("j");
  std::string out;
  REQUIRE_MESSAGE(run_bulwark("demo --chaos --json --data " + data, &out) == 0, out);
  CHECK(out.find("\"invariants_held\": true") != std::string::npos);
  CHECK(count(out, "\"injected\":") == 15); // 11 kills and 4 other faults
  CHECK(count(out, "\"held\": false") == 0);
  CHECK(count(out, "\"held\": true") >= 19); // 15 checks of faults, 8 final invariants
  // A directory holding a journal is refused and left as it was.
  std::string head_before, head_after;
  REQUIRE(run_bulwark("replay --data " + data, &head_before) == 0);
  CHECK(run_bulwark("demo --chaos --data " + data, &out) == 2);
  CHECK(out.find("already holds a journal") != std::string::npos);
  REQUIRE(run_bulwark("replay --data " + data, &head_after) == 0);
  CHECK(head_before == head_after);
}
