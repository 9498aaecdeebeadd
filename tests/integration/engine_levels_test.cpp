// Levels and gates behave as named, through the embedding API on the virtual clock.

#include <doctest/doctest.h>

#include <algorithm>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;
using test::decided_digest;

TEST_CASE_FIXTURE(engine_fixture, "a level-4 proposal runs at once, journaled write-ahead") {
  events.clear();
  auto r = submit_now(make(4, {set(1, "fast")}));
  CHECK_MESSAGE(r.ok, r.message);
  CHECK(r.status == "succeeded");
  CHECK(r.applied == 1);
  CHECK(world["coaster-1/mode"] == "fast");
  CHECK(types() == std::vector<std::string>{"proposal_decided", "decision_basis",
                                            "budget_charged", "action_started",
                                            "action_applied", "proposal_finished"});
  CHECK(events[4].json.find("\"old_value\":\"normal\"") != std::string::npos);
}

TEST_CASE_FIXTURE(engine_fixture, "level 4 is refused while enforce is disabled") {
  restart();
  eng->stop();
  eng.reset();
  engine_options opts;
  opts.data_dir = dir.sub("journal");
  opts.virtual_clock = true;
  opts.grants = {{"agent", 4}};
  std::string err;
  eng = engine::start(opts, &err);
  REQUIRE(eng);
  eng->register_effector("coaster", [this](const effect_request& r) { return effect(r); });
  auto r = submit_now(make(4, {set(1, "fast")}));
  CHECK(r.code == "AUTHORITY_DENIED");
  CHECK(r.message.find("NoHumanIntervention") != std::string::npos);
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "a level above the grant and an unknown principal are denied") {
  auto over = submit_now(make(2, {set(1, "x")}, {"coaster"}, {"north"}, "", "low"));
  CHECK(over.code == "AUTHORITY_DENIED");
  CHECK(over.message.find("exceeds the grant") != std::string::npos);
  auto unknown = submit_now(make(1, {set(1, "x")}, {"coaster"}, {"north"}, "", "stranger"));
  CHECK(unknown.code == "AUTHORITY_DENIED");
  CHECK(unknown.message.find("unknown principal") != std::string::npos);
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "level 0 reads, and refuses any mutation") {
  auto read = submit_now(make(0, {}, {}, {}));
  CHECK(read.ok);
  CHECK(read.status == "read");
  auto write = submit_now(make(0, {set(1, "x")}));
  CHECK(write.code == "AUTHORITY_DENIED");
  CHECK(write.message.find("NoStateMutation") != std::string::npos);
}

TEST_CASE_FIXTURE(engine_fixture, "level 1 waits for an approval naming the exact digest") {
  auto f = eng->submit(make(1, {set(2, "slow")}));
  eng->run();
  CHECK(f.wait_for(0s) != std::future_status::ready);
  auto pending = eng->pending();
  REQUIRE(pending.size() == 1);
  auto digest = pending[0].proposal;
  auto other = digest;
  other[0] = other[0] == 'a' ? 'b' : 'a';
  auto wrong = eng->approve("ops", other);
  CHECK(wrong.code == "INVALID_INPUT");
  CHECK(calls.empty());
  CHECK(eng->approve("ops", digest).ok);
  eng->run();
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.ok);
  CHECK(r.proposal == digest);
  CHECK(world["coaster-2/mode"] == "slow");
  auto t = types();
  CHECK(std::find(t.begin(), t.end(), "approval_granted") != t.end());
}

TEST_CASE_FIXTURE(engine_fixture, "level 1 carries one action per proposal (PerAction)") {
  auto r = submit_now(make(1, {set(2, "a"), set(3, "b")}));
  CHECK(r.code == "AUTHORITY_DENIED");
  CHECK(r.message.find("PerAction") != std::string::npos);
}

TEST_CASE_FIXTURE(engine_fixture, "an unanswered approval expires and is journaled") {
  auto f = eng->submit(make(1, {set(2, "slow")}));
  eng->run();
  eng->advance(59s);
  CHECK(f.wait_for(0s) != std::future_status::ready);
  eng->advance(2s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.status == "expired");
  CHECK(r.code == "APPROVAL_EXPIRED");
  CHECK(calls.empty());
  auto t = types();
  CHECK(std::find(t.begin(), t.end(), "approval_expired") != t.end());
  CHECK(eng->pending().empty());
}

TEST_CASE_FIXTURE(engine_fixture, "a denied proposal runs nothing") {
  auto f = eng->submit(make(2, {set(2, "a")}));
  eng->run();
  auto digest = eng->pending().at(0).proposal;
  CHECK(eng->approve("ops", digest, false).ok);
  eng->run();
  auto r = f.get();
  CHECK(r.status == "denied");
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "a level-2 batch with a failing action leaves nothing applied") {
  failing.insert("coaster-2/mode");
  auto f = eng->submit(make(2, {set(1, "a"), set(2, "b")}));
  eng->run();
  events.clear();
  CHECK(eng->approve("ops", eng->pending().at(0).proposal).ok);
  eng->run();
  auto r = f.get();
  CHECK(r.status == "failed");
  CHECK(r.code == "EFFECTOR_FAILED");
  CHECK(r.applied == 1);
  CHECK(r.compensated == 1);
  // The world is back where it was: compensation restored the old value.
  CHECK(world["coaster-1/mode"] == "normal");
  CHECK(world.count("coaster-2/mode") == 0);
  // approval with its evidence and budget charge, the starts (one transaction), then ONE transaction
  // with the outcome.
  std::vector<std::string> expected{"approval_granted", "approval_checked", "budget_charged",
                                    "action_started",
                                    "action_started",
                                    "action_applied", "action_failed", "rollback_applied",
                                    "proposal_finished"};
  CHECK(types() == expected);
}

TEST_CASE_FIXTURE(engine_fixture, "a reviewed level-2 batch applies all its actions") {
  auto f = eng->submit(make(2, {set(1, "a"), set(2, "b")}));
  eng->run();
  CHECK(eng->approve("ops", eng->pending().at(0).proposal).ok);
  eng->run();
  auto r = f.get();
  CHECK(r.ok);
  CHECK(r.applied == 2);
  CHECK(world["coaster-1/mode"] == "a");
  CHECK(world["coaster-2/mode"] == "b");
}


TEST_CASE_FIXTURE(engine_fixture, "level 3 waits the observation window after every step") {
  auto f = eng->submit(make(3, {set(1, "a"), set(2, "b")}));
  eng->run();
  CHECK(world["coaster-1/mode"] == "a");
  CHECK(world.count("coaster-2/mode") == 0);
  eng->advance(4s);
  CHECK(world.count("coaster-2/mode") == 0);
  eng->advance(1s);
  CHECK(world["coaster-2/mode"] == "b");
  // The last step has its window too: the proposal succeeds when it passed.
  CHECK(f.wait_for(0s) != std::future_status::ready);
  eng->advance(5s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(f.get().ok);
}

namespace {

metric_sample sample_at(std::chrono::seconds after_start, double error_rate) {
  metric_sample s;
  s.service = "coaster";
  s.region = "north";
  s.error_rate = error_rate;
  s.latency_ms = 10;
  // The fixture's virtual clock starts at the engine's default epoch, 2026-01-01.
  s.at = std::chrono::system_clock::time_point{std::chrono::milliseconds{1'767'225'600'000}}
         + after_start;
  return s;
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "a level-3 step whose window breaches is compensated") {
  auto f = eng->submit(make(3, {set(1, "a"), set(2, "b")}));
  eng->run();
  CHECK(world["coaster-1/mode"] == "a");
  // In the window: the service's error rate jumps over its threshold (the floor, 2 %).
  eng->advance(1s);
  REQUIRE(eng->feed_metric(sample_at(1s, 0.01)));
  eng->advance(1s);
  REQUIRE(eng->feed_metric(sample_at(2s, 0.40)));
  eng->advance(3s); // the window ends
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.status == "interrupted");
  CHECK(r.applied == 1);
  CHECK(r.compensated == 1);
  CHECK(r.message.find("analysis failed after step 0: 1 of 2 samples of service 'coaster'")
        == 0);
  CHECK(world["coaster-1/mode"] == "normal");
  CHECK(world.count("coaster-2/mode") == 0); // step 1 never ran
  auto t = types();
  CHECK(std::count(t.begin(), t.end(), "analysis_failed") == 1);
  CHECK(std::count(t.begin(), t.end(), "rollback_applied") == 1);
  for (auto& e : events)
    if (e.type == "analysis_failed") {
      CHECK(e.json.find("\"breaches\":1") != std::string::npos);
      CHECK(e.json.find("\"worst_ppm\":400000") != std::string::npos);
      CHECK(e.json.find("\"worst_region\":\"north\"") != std::string::npos);
    }
  // A healthy window passes: the same proposal shape succeeds once the rate is back.
  auto g = eng->submit(make(3, {set(21, "c")}, {"coaster"}, {"south"}, {}, "ops"));
  eng->run();
  eng->advance(1s);
  REQUIRE(eng->feed_metric(sample_at(6s, 0.01)));
  eng->advance(5s);
  REQUIRE(g.wait_for(0s) == std::future_status::ready);
  auto gr = g.get();
  CHECK_MESSAGE(gr.ok, gr.code, gr.message);
  CHECK(world["coaster-21/mode"] == "c");
}

TEST_CASE_FIXTURE(engine_fixture, "an interrupt mid-level-3 rolls back the steps done") {
  auto f = eng->submit(make(3, {set(1, "a"), set(2, "b")}));
  eng->run();
  CHECK(world["coaster-1/mode"] == "a"); // first step ran, now observing
  auto id = decided_digest(events);
  REQUIRE(eng->interrupt("ops", id).ok);
  eng->run();
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.status == "interrupted");
  CHECK(r.applied == 1);
  CHECK(r.compensated == 1);
  CHECK(world["coaster-1/mode"] == "normal");
  eng->advance(10s); // the pending step timer finds nothing to do
  CHECK(world.count("coaster-2/mode") == 0);
  auto t = types();
  CHECK(std::find(t.begin(), t.end(), "interrupted") != t.end());
  CHECK(std::find(t.begin(), t.end(), "rollback_applied") != t.end());
  CHECK(eng->interrupt("ops", id).code == "INVALID_INPUT");
}

TEST_CASE_FIXTURE(engine_fixture, "the halt refuses mutations but not reads, only admins halt") {
  CHECK(eng->halt("agent", "no").code == "AUTHORITY_DENIED");
  REQUIRE(eng->halt("admin", "drill").ok);
  auto r = submit_now(make(4, {set(1, "x")}));
  CHECK(r.code == "HALTED");
  CHECK(submit_now(make(0, {}, {}, {})).ok);
  REQUIRE(eng->release("admin", "done").ok);
  CHECK(submit_now(make(4, {set(1, "x")})).ok);
}

TEST_CASE_FIXTURE(engine_fixture, "a halt stops flights: approvals refused, level 3 compensates") {
  // A level-1 proposal waits; the halt comes; its approval is refused HALTED and nothing
  // runs; after the release the same approval runs it.
  auto waiting = eng->submit(make(1, {set(2, "slow")}));
  eng->run();
  auto pending = eng->pending();
  REQUIRE(pending.size() == 1);
  REQUIRE(eng->halt("admin", "drill").ok);
  eng->run();
  auto refused = eng->approve("ops", pending[0].proposal);
  CHECK(refused.code == "HALTED");
  eng->run();
  CHECK(calls.empty());
  CHECK(eng->pending().size() == 1);
  REQUIRE(eng->release("admin", "done").ok);
  eng->run();
  CHECK(eng->approve("ops", pending[0].proposal).ok);
  eng->run();
  REQUIRE(waiting.wait_for(0s) == std::future_status::ready);
  CHECK(waiting.get().ok);

  // A level-3 flight observing after its first step: the halt stops it there and the
  // step done is compensated; the second step never runs.
  auto f = eng->submit(make(3, {set(1, "a"), set(2, "b")}));
  eng->run();
  CHECK(world["coaster-1/mode"] == "a");
  REQUIRE(eng->halt("admin", "drill").ok);
  eng->run();
  eng->advance(5s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.code == "HALTED");
  CHECK(r.status == "interrupted");
  CHECK(r.applied == 1);
  CHECK(r.compensated == 1);
  CHECK(world["coaster-1/mode"] == "normal");
  CHECK(world["coaster-2/mode"] == "slow");
}

TEST_CASE_FIXTURE(engine_fixture, "journaled grants raise and lower a principal, until a time") {
  CHECK(submit_now(make(2, {set(1, "x")}, {"coaster"}, {"north"}, "", "low")).code
        == "AUTHORITY_DENIED");
  REQUIRE(eng->grant("admin", "low", 4, eng->now() + std::chrono::seconds{30}).ok);
  CHECK(submit_now(make(4, {set(1, "y")}, {"coaster"}, {"north"}, "", "low")).ok);
  eng->advance(31s);
  CHECK(submit_now(make(4, {set(1, "z")}, {"coaster"}, {"north"}, "", "low")).code
        == "AUTHORITY_DENIED");
  CHECK(eng->grant("agent", "low", 4).code == "AUTHORITY_DENIED");
}

namespace {

struct few_replies_fixture : test::engine_fixture {
  few_replies_fixture()
    : engine_fixture("[pipeline]\nkept_outcomes = 3\n[blast_radius]\nmax_percent = 100.0\n") {
  }
};

} // namespace

TEST_CASE_FIXTURE(few_replies_fixture, "old repeated keys are answered from the journal") {
  std::vector<result> first;
  for (int i = 0; i < 6; ++i)
    first.push_back(submit_now(make(4, {test::set(i, "v" + std::to_string(i))}, {"coaster"},
                                    {"north"}, "key-" + std::to_string(i))));
  for (auto& r : first)
    REQUIRE(r.ok);
  auto calls_before = calls.size();
  // The newest three keep their exact replies; the oldest three are rebuilt from the
  // projection: the same proposal, status and decision, and nothing runs again.
  for (int i = 0; i < 6; ++i) {
    auto again = submit_now(make(4, {test::set(i, "v" + std::to_string(i))}, {"coaster"},
                                 {"north"}, "key-" + std::to_string(i)));
    CHECK(again.ok);
    CHECK(again.status == "succeeded");
    CHECK(again.proposal == first[i].proposal);
    CHECK(again.seq == first[i].seq);
    if (i < 3)
      CHECK(again.message.find("journal") != std::string::npos);
  }
  CHECK(calls.size() == calls_before);
  // The same old key with another proposal is still refused.
  auto other = submit_now(make(4, {test::set(0, "different")}, {"coaster"}, {"north"}, "key-0"));
  CHECK(other.code == "INVALID_INPUT");
}
