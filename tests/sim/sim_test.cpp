// The simulator's own test: a seed replays exactly, and every invariant it checks
// reports the one thing its sabotage breaks (a check that cannot fail is a defect).

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "sim/sim_checker.hpp"
#include "sim/sim_run.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using namespace bulwark::sim;

namespace {

sim_report run(uint64_t seed, int steps, const std::string& sabotage = {},
               std::function<void(const std::string&, uint64_t)> while_stopped = {}) {
  test::temp_dir dir;
  sim_options o;
  o.seed = seed;
  o.steps = steps;
  o.dir = dir.path();
  o.sabotage = sabotage;
  o.while_stopped = std::move(while_stopped);
  return run_seed(o);
}

std::string first_invariant(const sim_report& r) {
  return r.failures.empty() ? std::string{"(none)"} : r.failures.front().what.invariant;
}

call_record call(const std::string& key, uint64_t head, bool compensation = false,
                 std::optional<std::string> restore = {}, std::optional<std::string> after = {}) {
  call_record c;
  c.req.service = "coaster";
  c.req.resource = "coaster-1";
  c.req.key = "mode";
  c.req.value = "x";
  c.req.idempotency_key = key;
  c.req.compensation = compensation;
  c.req.restore = std::move(restore);
  c.head = head;
  c.ok = true;
  c.after = std::move(after);
  return c;
}

const std::string p1(64, 'a');

nlohmann::json started(uint32_t step) {
  return {{"proposal", p1}, {"step", step},
          {"change", {{"resource", "coaster-1"}, {"key", "mode"}, {"value", "x"}}}};
}

} // namespace

TEST_CASE("simulation: a seed replays exactly, and its invariants hold") {
  auto a = run(4, 120);
  auto b = run(4, 120);
  CHECK_MESSAGE(a.failures.empty(), first_invariant(a));
  CHECK(a.head > 100);
  CHECK(a.chain == b.chain);
  CHECK(a.state_digest == b.state_digest);
  CHECK(a.cov.records == b.cov.records);
  CHECK(a.cov.replays == b.cov.replays);
  CHECK(a.cov.rollback_mutations == b.cov.rollback_mutations);
  CHECK(a.cov.faults == b.cov.faults);
  CHECK(a.cov.replays >= 1);
  auto c = run(5, 120);
  CHECK(c.chain != a.chain); // another seed, another run
}

TEST_CASE("simulation: every invariant reports its sabotage, at the step it happens") {
  struct sabotage_case {
    const char* invariant;
    uint64_t seed;
  };
  for (auto [invariant, seed] :
       {sabotage_case{"write-ahead", 1}, {"decided-once", 1}, {"replay", 1},
        {"rollback-restores", 0}, {"no-duplicate-incident", 1}, {"blast-radius", 6},
        {"bad-input", 3}, {"idempotent-repeat", 1}, {"fleet-budget", 5}}) {
    CAPTURE(invariant);
    auto r = run(seed, 150, invariant);
    REQUIRE(!r.failures.empty());
    CHECK(first_invariant(r) == invariant);
    CHECK(r.failures.front().seed == seed);
    CHECK(r.failures.front().step >= 0);
    CHECK(!r.failures.front().what.detail.empty());
  }
}

TEST_CASE("simulation: a journal damaged while the engine is stopped breaks the chain") {
  int damaged = 0;
  auto r = run(1, 150, {}, [&](const std::string& dir, uint64_t head) {
    if (damaged++ == 0)
      test::tamper_value(dir, head, [](std::vector<uint8_t>& v) { v.back() ^= 0x01; });
  });
  REQUIRE(damaged >= 1);
  CHECK(first_invariant(r) == "chain");
  REQUIRE(!r.failures.empty());
  CHECK(r.failures.front().what.detail.find("record ") == 0);
}

TEST_CASE("sim_checker: an effect before its write-ahead record is reported") {
  sim_checker c;
  c.record(1, "action_started", started(0));
  c.check({call(p1 + "/0", 1)}); // the start was durable at head 1: fine
  CHECK(c.take().empty());
  c.record(2, "action_applied", {{"proposal", p1}, {"step", 0}, {"resource", "coaster-1"},
                                 {"key", "mode"}, {"old_value", nullptr}, {"new_value", "x"}});
  c.record(3, "action_started", started(1));
  // Step 1 ran at head 2, before its start (seq 3); step 2 never started.
  c.check({call(p1 + "/0", 1), call(p1 + "/1", 2), call(p1 + "/2", 3)});
  auto v = c.take();
  REQUIRE(v.size() == 2);
  CHECK(v[0].invariant == "write-ahead");
  CHECK(v[0].detail.find("before its action_started (seq 3)") != std::string::npos);
  CHECK(v[1].detail.find("no action_started for step 2") != std::string::npos);
  CHECK(c.effects_checked == 3);
}

TEST_CASE("sim_checker: answers, decisions and incidents are checked against the journal") {
  sim_checker c;
  auto decided = nlohmann::json{{"proposal", p1}, {"principal", "agent"},
                                {"idempotency_key", "k1"}, {"allowed", false},
                                {"mutations", nlohmann::json::array()}};
  c.record(5, "proposal_decided", decided);
  result ok;
  ok.proposal = p1;
  ok.seq = 5;
  result wrong = ok;
  wrong.seq = 4; // names another seq
  result unknown = ok;
  unknown.proposal = std::string(64, 'b');
  c.answered(ok);
  c.answered(wrong);
  c.answered(unknown);
  c.check({});
  auto v = c.take();
  REQUIRE(v.size() == 2);
  CHECK(v[0].detail.find("decided at seq 5") != std::string::npos);
  CHECK(v[1].detail.find("holds no decision") != std::string::npos);
  decided["proposal"] = std::string(64, 'c'); // another proposal under the same key
  c.record(6, "proposal_decided", decided);
  auto incident = nlohmann::json{{"incident", p1}, {"candidate", p1}};
  c.record(7, "incident_opened", incident);
  incident["incident"] = std::string(64, 'd'); // a second incident of one candidate
  c.record(8, "incident_opened", incident);
  v = c.take();
  REQUIRE(v.size() == 2);
  CHECK(v[0].invariant == "decided-once");
  CHECK(v[0].detail.find("idempotency key agent/k1") != std::string::npos);
  CHECK(v[1].invariant == "no-duplicate-incident");
}

TEST_CASE("sim_checker: a rollback must restore the value it names") {
  sim_checker c;
  c.record(1, "action_started", started(0));
  c.record(2, "action_applied", {{"proposal", p1}, {"step", 0}, {"resource", "coaster-1"},
                                 {"key", "mode"}, {"old_value", "normal"}, {"new_value", "x"}});
  auto undo = nlohmann::json{{"rollback", p1},        {"reverts", 2},
                             {"resource", "coaster-1"}, {"key", "mode"},
                             {"old_value", "x"},       {"new_value", "normal"}};
  c.record(3, "rollback_applied", undo);
  c.check({call(p1 + "/0", 1), call(p1 + "/0/undo", 2, true, "normal", "normal")});
  CHECK(c.take().empty());
  CHECK(c.rollback_mutations == 1);
  // The world kept the forward value: the rollback did not restore what it names.
  sim_checker d;
  d.record(1, "action_started", started(0));
  d.record(2, "action_applied", {{"proposal", p1}, {"step", 0}, {"resource", "coaster-1"},
                                 {"key", "mode"}, {"old_value", "normal"}, {"new_value", "x"}});
  d.record(3, "rollback_applied", undo);
  d.check({call(p1 + "/0", 1), call(p1 + "/0/undo", 2, true, "normal", "x")});
  auto v = d.take();
  REQUIRE(v.size() == 1);
  CHECK(v[0].invariant == "rollback-restores");
  CHECK(v[0].detail.find("the world holds 'x'") != std::string::npos);
}

TEST_CASE("simulation: the end-of-run invariants report their sabotage once drained") {
  for (auto invariant : {"flight-ends", "rollback-ends"}) {
    CAPTURE(invariant);
    auto r = run(0, 150, invariant);
    REQUIRE(!r.failures.empty());
    CHECK(first_invariant(r) == invariant);
    CHECK(r.failures.front().step == -1); // checked at the end of the run, drained
    CHECK(!r.failures.front().what.detail.empty());
  }
}

TEST_CASE("sim_checker: a flight or a rollback a restart lost is reported at the end") {
  const std::string p2(64, 'b'), p3(64, 'c'), p4(64, 'e'), r1(64, 'f'), r2(64, '1');
  sim_checker c;
  auto decided = [](const std::string& id, int level, bool allowed) {
    return nlohmann::json{{"proposal", id}, {"principal", "agent"},
                          {"idempotency_key", id.substr(0, 4)}, {"allowed", allowed},
                          {"level", level}, {"mutations", nlohmann::json::array()}};
  };
  c.record(1, "proposal_decided", decided(p1, 1, true)); // finished
  c.record(2, "proposal_finished", {{"proposal", p1}});
  c.record(3, "proposal_decided", decided(p2, 2, true)); // waits, the pipeline knows it
  c.record(4, "proposal_decided", decided(p3, 3, true)); // lost by a restart
  c.record(5, "proposal_decided", decided(p4, 4, true)); // level 4: in doubt or done
  c.record(6, "proposal_decided", decided(std::string(64, '9'), 1, false)); // refused
  c.record(7, "rollback_requested", {{"rollback", r1}});
  c.record(8, "rollback_finished", {{"rollback", r1}});
  c.record(9, "rollback_requested", {{"rollback", r1}}); // asked again: waits
  c.record(10, "rollback_requested", {{"rollback", r2}}); // lost by a restart
  CHECK(c.take().empty());
  c.settled({}, {p2}, {r1});
  auto v = c.take();
  REQUIRE(v.size() == 2);
  CHECK(v[0].invariant == "flight-ends");
  CHECK(v[0].detail.find(p3) != std::string::npos);
  CHECK(v[1].invariant == "rollback-ends");
  CHECK(v[1].detail.find(r2) != std::string::npos);
  // In doubt is an end the journal names; a rollback finished twice is reported at once.
  c.settled({p3}, {p2}, {r1, r2});
  CHECK(c.take().empty());
  c.record(11, "rollback_finished", {{"rollback", r1}});
  c.record(12, "rollback_finished", {{"rollback", r1}});
  v = c.take();
  REQUIRE(v.size() == 1);
  CHECK(v[0].invariant == "rollback-ends");
}
