// The dead-letter list through the embedding API: actions whose retries were exhausted are
// journaled and listed; an admin requeues (under the whole governance path) or discards
// them; the list survives a restart.

#include <doctest/doctest.h>

#include <algorithm>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

/// Two attempts per action, and a breaker that does not open during these tests.
struct letters_fixture : engine_fixture {
  bool gates_down = true; ///< the gates' controller answers "unavailable" while true

  letters_fixture()
    : engine_fixture("[breaker]\nattempts = 2\nconsecutive_failures = 1000\n"
                     "[blast_radius]\nmax_percent = 100.0\n") {
    install_gates();
  }

  void install_gates() {
    eng->register_effector("gates", [this](const effect_request& r) {
      calls.push_back(r);
      if (gates_down)
        return effect_result{false, "gate controller unavailable", true};
      world[r.resource + "/" + r.key] = r.value;
      return effect_result{};
    });
  }

  /// Runs one level-4 change of a gate that exhausts its retries; returns its result.
  result fail_gate(int gate, const std::string& value) {
    auto f = eng->submit(make(4, {change{"gate-" + std::to_string(gate), "mode", value}},
                              {"gates"}));
    eng->run();
    eng->advance(1min); // past every backoff
    REQUIRE(f.wait_for(0s) == std::future_status::ready);
    return f.get();
  }

  size_t count(const std::string& type) const {
    auto t = types();
    return static_cast<size_t>(std::count(t.begin(), t.end(), type));
  }
};

} // namespace

TEST_CASE_FIXTURE(letters_fixture, "an action whose retries are exhausted becomes a dead letter") {
  auto r = fail_gate(1, "closed");
  CHECK(r.status == "failed");
  CHECK(r.code == "UNAVAILABLE");
  CHECK(calls.size() == 2); // both attempts ran
  auto letters = eng->dead_letters();
  REQUIRE(letters.size() == 1);
  auto& l = letters[0];
  CHECK(l.resource == "gate-1");
  CHECK(l.key == "mode");
  CHECK(l.value == "closed");
  CHECK(l.service == "gates");
  CHECK(l.principal == "agent");
  CHECK(l.level == 4);
  CHECK(l.step == 0);
  CHECK(l.code == "UNAVAILABLE");
  CHECK(l.proposal == r.proposal);
  CHECK(count("dead_lettered") == 1);
  // The letter's id is the seq of its record.
  bool found = false;
  for (auto& e : events)
    found |= e.type == "dead_lettered" && e.seq == l.seq;
  CHECK(found);
}

TEST_CASE_FIXTURE(letters_fixture, "a failure that is not retryable is no dead letter") {
  failing.insert("coaster-1/mode");
  auto r = submit_now(make(4, {set(1, "fast")}));
  CHECK(r.status == "failed");
  CHECK(eng->dead_letters().empty());
  CHECK(count("dead_lettered") == 0);
}

TEST_CASE_FIXTURE(letters_fixture, "an admin requeues a dead letter and it runs once more") {
  fail_gate(2, "open");
  auto seq = eng->dead_letters().at(0).seq;
  SUBCASE("bad requests change nothing") {
    auto denied = eng->requeue("agent", seq);
    CHECK(denied.code == "AUTHORITY_DENIED");
    auto unknown = eng->requeue("admin", seq + 1000);
    CHECK(unknown.code == "INVALID_INPUT");
    CHECK(unknown.message.find("no open dead letter") != std::string::npos);
    CHECK(eng->discard("ops", seq).code == "AUTHORITY_DENIED");
    CHECK(eng->dead_letters().size() == 1);
    CHECK(count("dead_letter_resolved") == 0);
  }
  SUBCASE("requeued after the controller recovered") {
    gates_down = false;
    auto before = calls.size();
    auto r = eng->requeue("admin", seq, "controller fixed");
    CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
    CHECK(r.status == "succeeded");
    CHECK(calls.size() == before + 1);
    CHECK(world["gate-2/mode"] == "open");
    CHECK(eng->dead_letters().empty());
    CHECK(count("dead_letter_resolved") == 1);
    // The resolution rides the new decision's transaction, after the decision's basis.
    uint64_t decided = 0, resolved = 0;
    for (auto& e : events) {
      if (e.type == "proposal_decided")
        decided = e.seq;
      if (e.type == "dead_letter_resolved")
        resolved = e.seq;
    }
    CHECK(resolved == decided + 2);
    auto again = eng->requeue("admin", seq);
    CHECK(again.code == "INVALID_INPUT"); // resolved already
    CHECK(calls.size() == before + 1);
  }
  SUBCASE("a requeue that fails again becomes a new letter") {
    auto r = eng->requeue("admin", seq);
    eng->advance(1min);
    (void)r;
    auto letters = eng->dead_letters();
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].seq > seq);
    CHECK(letters[0].value == "open");
    CHECK(count("dead_lettered") == 2);
  }
}

TEST_CASE_FIXTURE(letters_fixture, "a requeue refused while halted leaves the letter open") {
  fail_gate(3, "open");
  auto seq = eng->dead_letters().at(0).seq;
  gates_down = false;
  REQUIRE(eng->halt("admin", "maintenance").ok);
  auto refused = eng->requeue("admin", seq);
  CHECK(!refused.ok);
  CHECK(refused.code == "HALTED");
  REQUIRE(eng->dead_letters().size() == 1);
  REQUIRE(eng->release("admin", "done").ok);
  auto r = eng->requeue("admin", seq); // a new attempt, not the refused one replayed
  CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(world["gate-3/mode"] == "open");
  CHECK(eng->dead_letters().empty());
}

TEST_CASE_FIXTURE(letters_fixture, "dead letters survive a restart, a discard is journaled") {
  fail_gate(4, "open");
  fail_gate(5, "open");
  auto letters = eng->dead_letters();
  REQUIRE(letters.size() == 2);
  auto digest_before = eng->state_digest();
  restart();
  install_gates();
  CHECK(eng->state_digest() == digest_before);
  auto after = eng->dead_letters();
  REQUIRE(after.size() == 2);
  CHECK(after[0].seq == letters[0].seq);
  CHECK(after[1].resource == "gate-5");
  auto d = eng->discard("admin", letters[0].seq, "gate retired");
  CHECK_MESSAGE(d.ok, d.code << ": " << d.message);
  CHECK(d.seq > letters[1].seq);
  CHECK(eng->discard("admin", letters[0].seq).code == "INVALID_INPUT");
  restart();
  after = eng->dead_letters();
  REQUIRE(after.size() == 1);
  CHECK(after[0].resource == "gate-5");
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(letters_fixture, "dead-letter events decode in the independent verifier") {
  fail_gate(6, "open");
  fail_gate(7, "open");
  auto letters = eng->dead_letters();
  REQUIRE(letters.size() == 2);
  gates_down = false;
  REQUIRE(eng->requeue("admin", letters[0].seq, "retry").ok);
  REQUIRE(eng->discard("admin", letters[1].seq, "not needed").ok);
  eng->stop();
  std::string out;
  auto rc = test::run_command("/usr/bin/python3 " BULWARK_SOURCE_DIR
                              "/tests/tools/verify_journal.py " + dir.sub("journal") + " --json",
                              &out);
  CHECK(rc == 0);
  CHECK(out.find("\"dead_lettered\": 2") != std::string::npos);
  CHECK(out.find("\"dead_letter_resolved\": 2") != std::string::npos);
}
