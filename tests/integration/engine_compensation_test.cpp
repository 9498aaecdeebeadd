// A compensation that fails, through the embedding API: the flight (and a rollback) ends
// compensation_failed, a dead letter holds the value to restore, a P1 incident is open,
// a restart replays the same state, and the letter's requeue restores the old value.

#include <doctest/doctest.h>

#include <algorithm>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

/// The coaster effector of the base fixture, with undo calls that fail for the keys in
/// `failing_undo`.
struct undo_fixture : engine_fixture {
  std::set<std::string> failing_undo;

  undo_fixture() : engine_fixture("[blast_radius]\nmax_percent = 100.0\n") {
    install();
  }

  void install() {
    eng->register_effector("coaster", [this](const effect_request& r) {
      if (r.compensation && failing_undo.count(r.resource + "/" + r.key) != 0) {
        calls.push_back(r);
        return effect_result{false, "the controller refused the undo", false};
      }
      return effect(r);
    });
  }

  void restart_engine() {
    restart();
    install();
  }

  /// Runs a level-2 batch of coaster-1, coaster-2 and coaster-3 whose last step fails
  /// and whose undo of coaster-2 fails; returns its result.
  result half_state() {
    failing.insert("coaster-3/mode");
    failing_undo.insert("coaster-2/mode");
    auto f = eng->submit(make(2, {set(1, "a"), set(2, "b"), set(3, "c")}, {"coaster"},
                              {"north"}, "batch"));
    eng->run();
    if (f.wait_for(0s) == std::future_status::ready) {
      auto early = f.get();
      FAIL("answered before its review: " << early.status << " " << early.code << " "
                                           << early.message);
    }
    REQUIRE(eng->pending().size() == 1);
    REQUIRE(eng->approve("ops", eng->pending().at(0).proposal).ok);
    eng->run();
    REQUIRE(f.wait_for(0s) == std::future_status::ready);
    return f.get();
  }

  size_t count(const std::string& type) const {
    auto t = types();
    return static_cast<size_t>(std::count(t.begin(), t.end(), type));
  }

  std::vector<incident_info> p1_incidents() {
    std::vector<incident_info> out;
    for (auto& i : eng->incidents())
      if (i.severity == "P1")
        out.push_back(i);
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(undo_fixture, "a failed compensation ends the flight compensation_failed with "
                                "a dead letter and a P1 incident, through a restart") {
  auto r = half_state();
  CHECK_FALSE(r.ok);
  CHECK(r.status == "compensation_failed");
  CHECK(r.code == "EFFECTOR_FAILED");
  CHECK(r.applied == 2);
  CHECK(r.compensated == 1);
  CHECK(world["coaster-1/mode"] == "normal"); // the other compensation ran
  CHECK(world["coaster-2/mode"] == "b");      // left applied, and said so
  CHECK(eng->attribute("coaster-2", "mode") == std::optional<std::string>{"b"});
  CHECK(count("compensation_failed") == 1);
  auto letters = eng->dead_letters();
  REQUIRE(letters.size() == 1);
  auto& l = letters[0];
  CHECK(l.compensation);
  CHECK(l.restore == std::optional<std::string>{"normal"});
  CHECK(l.resource == "coaster-2");
  CHECK(l.value == "normal"); // what a requeue sets: the old value
  CHECK(l.proposal == r.proposal);
  CHECK(l.level == 2);
  CHECK(l.message.find("restore coaster-2.mode to 'normal' (it holds 'b')") != std::string::npos);
  auto incidents = p1_incidents();
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].status == "open");
  CHECK(incidents[0].service == "coaster");
  CHECK(incidents[0].region == "north");
  CHECK(incidents[0].culprits.empty());
  CHECK(incidents[0].rollback.empty()); // nothing rolls it back on its own
  // A repeated submission hears the same outcome.
  auto again = submit_now(make(2, {set(1, "a"), set(2, "b"), set(3, "c")}, {"coaster"},
                                {"north"}, "batch"));
  CHECK(again.status == "compensation_failed");

  // Nobody acknowledges the P1 within its hour: it is escalated (its respond_by was armed
  // when it was journaled), never closed by itself.
  eng->advance(59min);
  CHECK(p1_incidents()[0].status == "open");
  eng->advance(2min);
  REQUIRE(p1_incidents().size() == 1);
  CHECK(p1_incidents()[0].status == "escalated");

  // After a restart, the journal says the same: replay gives the same state.
  auto digest = eng->state_digest();
  restart_engine();
  CHECK(eng->state_digest() == digest);
  auto after = submit_now(make(2, {set(1, "a"), set(2, "b"), set(3, "c")}, {"coaster"},
                                {"north"}, "batch"));
  CHECK(after.status == "compensation_failed");
  REQUIRE(eng->dead_letters().size() == 1);
  CHECK(eng->dead_letters()[0].compensation);
  REQUIRE(p1_incidents().size() == 1);
  CHECK(p1_incidents()[0].status == "escalated");
}

TEST_CASE_FIXTURE(undo_fixture, "a requeue of a failed compensation's letter restores the old "
                                "value, one that must remove a key is refused") {
  half_state();
  auto letters = eng->dead_letters();
  REQUIRE(letters.size() == 1);
  failing_undo.clear();
  calls.clear();
  // A level-2 requeue waits for its review like any level-2 proposal.
  eng->requeue("admin", letters[0].seq, "controller fixed");
  REQUIRE(eng->pending().size() == 1);
  REQUIRE(eng->approve("ops", eng->pending().at(0).proposal).ok);
  eng->run();
  REQUIRE(calls.size() == 1);
  CHECK_FALSE(calls[0].compensation);
  CHECK(calls[0].resource == "coaster-2");
  CHECK(calls[0].value == "normal"); // the old value, not the reverted change again
  CHECK(world["coaster-2/mode"] == "normal");
  CHECK(eng->attribute("coaster-2", "mode") == std::optional<std::string>{"normal"});
  CHECK(eng->dead_letters().empty());

  // A key the flight created has nothing to restore: its letter cannot be requeued.
  failing_undo.insert("coaster-4/speed");
  auto f = eng->submit(make(2, {set(4, "fast", "speed"), set(6, "x")}, {"coaster"}, {"north"},
                            "created"));
  failing.insert("coaster-6/mode");
  eng->run();
  REQUIRE(eng->approve("ops", eng->pending().at(0).proposal).ok);
  eng->run();
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(f.get().status == "compensation_failed");
  auto removal = eng->dead_letters();
  REQUIRE(removal.size() == 1);
  CHECK(removal[0].compensation);
  CHECK_FALSE(removal[0].restore);
  CHECK(removal[0].message.find("remove coaster-4.speed") != std::string::npos);
  auto head = eng->head().first;
  auto refused = eng->requeue("admin", removal[0].seq);
  CHECK(refused.code == "INVALID_INPUT");
  CHECK(refused.message.find("must remove coaster-4.speed") != std::string::npos);
  CHECK(eng->head().first == head); // nothing journaled
  CHECK(eng->dead_letters().size() == 1);
  CHECK(eng->discard("admin", removal[0].seq, "removed by hand").ok);
  CHECK(eng->dead_letters().empty());
}

TEST_CASE_FIXTURE(undo_fixture, "a rollback whose step fails ends compensation_failed, the "
                                "other steps still undo") {
  auto a = submit_now(make(4, {set(5, "x"), set(6, "y")}));
  REQUIRE(a.ok);
  std::vector<uint64_t> seqs;
  for (auto& e : events)
    if (e.type == "action_applied")
      seqs.push_back(e.seq);
  REQUIRE(seqs.size() == 2);
  failing_undo.insert("coaster-6/mode"); // the newer change: undone first
  auto r = eng->rollback_seqs("ops", seqs);
  CHECK_FALSE(r.ok);
  CHECK(r.status == "compensation_failed");
  CHECK(r.code == "EFFECTOR_FAILED");
  CHECK(r.applied == 1);
  CHECK(world["coaster-5/mode"] == "normal"); // undone after the failure
  CHECK(world["coaster-6/mode"] == "y");
  auto letters = eng->dead_letters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].compensation);
  CHECK(letters[0].resource == "coaster-6");
  CHECK(letters[0].restore == std::optional<std::string>{"normal"});
  CHECK(p1_incidents().size() == 1);
  CHECK(count("rollback_finished") == 1);
  CHECK(count("compensation_failed") == 1);
}
