// The supervision tree's root: the journal, blast radius, the pipeline and the rollback
// executor are restarted behind their doors; a kill at any point of a load loses no
// acknowledged proposal and runs no effect twice; callers of a dead actor get an answer.

#include <doctest/doctest.h>

#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "caf/scheduler/test_coordinator.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "around_caf/door.hpp"
#include "engine/engine_impl.hpp"
#include "integration/engine_doors.hpp"
#include "integration/engine_fixture.hpp"
#include "persistence/event_json.hpp"
#include "persistence/journal_store.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::door_of;
using test::engine_fixture;
using test::set;

namespace {

using root_fixture = test::chaos_engine_fixture;

const std::vector<std::string> behind_doors = {
  "journal",          "blast_radius",     "flights:read", "flights:approved",
  "flights:observed", "flights:autonomous", "rollback"};


/// The journaled `proposal_finished` records of `proposal` (hex).
int outcomes(const std::vector<committed_event>& events, const std::string& proposal) {
  int n = 0;
  for (auto& e : events)
    n += e.type == "proposal_finished"
         && e.json.find("\"proposal\":\"" + proposal + "\"") != std::string::npos;
  return n;
}

/// Forward effector calls that applied, per idempotency key.
std::map<std::string, int> applied(const std::vector<effect_request>& calls) {
  std::map<std::string, int> out;
  for (auto& c : calls)
    if (!c.compensation)
      ++out[c.idempotency_key];
  return out;
}

/// How many messages the door `name` handed to the actor behind it (the test coordinator
/// runs every actor on this thread: its state is read between runs).
uint64_t forwarded_by(engine& eng, const std::string& name) {
  auto* self = dynamic_cast<caf::stateful_actor<door_state>*>(
    caf::actor_cast<caf::abstract_actor*>(door_of(eng, name)));
  REQUIRE(self != nullptr);
  return self->state.forwarded;
}

/// Ends the door `name` (the doors' supervisor restarts none) and lets it be noticed.
void kill_door(engine& eng, const std::string& name) {
  caf::anon_send_exit(door_of(eng, name), caf::exit_reason::kill);
  eng.run();
}

} // namespace

TEST_CASE_FIXTURE(root_fixture, "chaos kill reaches every actor behind a door, the root restarts and journals it") {
  for (auto& name : behind_doors) {
    CAPTURE(name);
    REQUIRE(eng->chaos_kill(name).ok);
    eng->advance(1s);
    CHECK(test::restarts_of(events, name) == 1);
    auto r = submit_now(make(4, {set(static_cast<int>(events.size() % 20), name)}));
    CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
  }
  for (auto& e : events) {
    if (e.type != "actor_restarted")
      continue;
    // The flight families are under the flights supervisor; the others under the root.
    bool family = e.json.find("\"child\":\"flights:") != std::string::npos;
    CHECK(e.json.find(family ? "\"supervisor\":\"flights\"" : "\"supervisor\":\"root\"")
          != std::string::npos);
  }
  CHECK(eng->verify().ok);
}

TEST_CASE("a kill at any point of a load loses no acknowledged proposal and runs no effect twice") {
  for (auto& name : behind_doors)
    for (int steps : {0, 2, 5, 9, 14, 20, 30, 45}) {
      CAPTURE(name);
      CAPTURE(steps);
      root_fixture fx;
      auto& d = fx.eng->internals();
      std::vector<proposal_request> sent;
      std::vector<std::future<result>> answers;
      for (int i = 0; i < 4; ++i) {
        sent.push_back(engine_fixture::make(4, {set(i, "load")}));
        answers.push_back(fx.eng->submit(sent.back()));
      }
      for (int i = 0; i < steps && d.sched->try_run_once(); ++i) {
      }
      REQUIRE(d.chaos->kill(name) == caf::error{});
      fx.eng->advance(3s);
      std::vector<result> results;
      for (auto& f : answers) {
        REQUIRE(f.wait_for(0s) == std::future_status::ready); // none hangs
        results.push_back(f.get());
      }
      CHECK(test::restarts_of(fx.events, name) == 1);
      // Every refused one again, with its key: answered from the journal or run once.
      for (size_t i = 0; i < sent.size(); ++i)
        if (!results[i].ok) {
          auto again = fx.eng->submit(sent[i]);
          fx.eng->advance(3s);
          REQUIRE(again.wait_for(0s) == std::future_status::ready);
          auto r = again.get();
          if (r.ok)
            results[i] = r;
        }
      auto doubtful = fx.eng->in_doubt();
      for (size_t i = 0; i < sent.size(); ++i) {
        if (results[i].ok) {
          CHECK(outcomes(fx.events, results[i].proposal) == 1);
          CHECK(fx.world["coaster-" + std::to_string(i) + "/mode"] == "load");
        }
      }
      for (auto& [key, n] : applied(fx.calls)) {
        CAPTURE(key);
        CHECK(n == 1);
      }
      // What ran and is not journaled is named in doubt, never silently lost.
      for (size_t i = 0; i < sent.size(); ++i) {
        auto k = "coaster-" + std::to_string(i) + "/mode";
        if (fx.world.count(k) != 0 && !results[i].ok)
          CHECK(!doubtful.empty());
      }
      CHECK(fx.eng->verify().ok);
      CHECK(fx.submit_now(engine_fixture::make(4, {set(10, "after")})).ok);
      CHECK(d.gate->waiting() == 0); // every place at admission given back once
    }
}

TEST_CASE_FIXTURE(root_fixture, "a dead journal's callers get AUDIT_UNAVAILABLE, never a hang, it resumes at its head") {
  auto head = eng->head();
  auto& d = eng->internals();
  REQUIRE(d.chaos->kill("journal") == caf::error{});
  // Before its restart (the root waits 50 ms): the flight's append, sent straight to the
  // dead journal, comes back as the door would answer it.
  auto r = submit_now(make(4, {set(1, "x")}));
  CHECK(r.code == "AUDIT_UNAVAILABLE");
  CHECK(r.message.find("the journal is restarting") != std::string::npos);
  CHECK(calls.empty());
  eng->advance(100ms);
  CHECK(test::restarts_of(events, "journal") == 1);
  // The restarted journal resumed at the old head (plus the restart's own record) and
  // its subscribers (this fixture's) hear of every commit.
  auto before = events.size();
  auto ok = submit_now(make(4, {set(2, "y")}));
  CHECK(ok.ok);
  CHECK(events.size() > before);
  CHECK(eng->head().first > head.first);
  CHECK(world["coaster-2/mode"] == "y");
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(engine_fixture, "a proposal and its flight's appends go past the doors, straight to the actors") {
  auto journal0 = forwarded_by(*eng, "journal");
  auto pipeline0 = forwarded_by(*eng, "pipeline");
  REQUIRE(submit_now(make(4, {set(1, "x")})).ok);
  // Intake to the level-4 family, and both of its appends: none through a door.
  CHECK(forwarded_by(*eng, "journal") == journal0);
  CHECK(forwarded_by(*eng, "pipeline") == pipeline0);
  // What still goes through them does: a grant change's append (the authority's).
  REQUIRE(eng->grant("admin", "ops", 3, {}, "more").ok);
  CHECK(forwarded_by(*eng, "journal") == journal0 + 1);
  CHECK(world["coaster-1/mode"] == "x");
}

TEST_CASE_FIXTURE(engine_fixture, "a door that ends closes the way past it: its room answers nobody") {
  SUBCASE("the journal's door: a flight fails closed, nothing runs") {
    kill_door(*eng, "journal");
    auto r = submit_now(make(4, {set(1, "x")}));
    CHECK(r.code == "AUDIT_UNAVAILABLE");
  }
  SUBCASE("the pipeline's door: a proposal is refused, nothing runs") {
    kill_door(*eng, "pipeline");
    auto r = submit_now(make(4, {set(1, "x")}));
    CHECK(r.code == "UNAVAILABLE");
  }
  CHECK(calls.empty());
  CHECK(world.count("coaster-1/mode") == 0);
}

TEST_CASE_FIXTURE(engine_fixture, "blast radius keeps its change windows across a restart") {
  // The default window: 5 % of the 40 coasters, two resources per principal and hour.
  CHECK(submit_now(make(4, {set(1, "a"), set(2, "a")})).ok);
  REQUIRE(eng->chaos_enable(true).ok);
  REQUIRE(eng->chaos_kill("blast_radius").ok);
  eng->advance(1s);
  CHECK(test::restarts_of(events, "blast_radius") == 1);
  CHECK(submit_now(make(4, {set(3, "b")})).code == "BLAST_RADIUS_EXCEEDED");
  CHECK(world.count("coaster-3/mode") == 0);
}

TEST_CASE_FIXTURE(root_fixture, "a flight awaiting approval when the pipeline dies: its caller is answered, the new pipeline rebuilds it") {
  auto f = eng->submit(make(1, {set(1, "wait")}, {"coaster"}, {"north"}, {}, "low"));
  eng->run();
  REQUIRE(f.wait_for(0s) != std::future_status::ready);
  auto pending = eng->pending();
  REQUIRE(pending.size() == 1);
  REQUIRE(eng->chaos_kill("pipeline").ok);
  eng->advance(1s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(!r.ok);
  CHECK(r.code == "UNAVAILABLE");
  // Rebuilt from the journal, it waits again; its approval runs it once.
  REQUIRE(eng->pending().size() == 1);
  CHECK(calls.empty());
  CHECK(eng->approve("admin", pending.front().proposal).ok);
  eng->run();
  CHECK(world["coaster-1/mode"] == "wait");
  CHECK(calls.size() == 1);
  CHECK(outcomes(events, pending.front().proposal) == 1);
  CHECK(eng->pending().empty());
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(root_fixture, "a journal restart storm escalates to the root: every call is answered, none hangs") {
  for (int i = 0; i < 6; ++i) {
    REQUIRE(eng->chaos_kill("journal").ok);
    eng->advance(1s);
  }
  auto f = eng->submit(make(4, {set(1, "x")}));
  eng->advance(1s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(!f.get().ok);
  CHECK(calls.empty());
  bool escalated = false;
  for (auto& e : events)
    escalated |= e.type == "actor_restarted" && e.json.find("\"escalated\":true") != std::string::npos;
  CHECK(!escalated); // the journal is down: the root's escalation cannot be journaled
  CHECK(eng->head().first > 0);
}

TEST_CASE("on threads: the journal and the pipeline killed under concurrent load, every caller is answered") {
  test::temp_dir dir;
  auto conf = dir.sub("bulwark.toml");
  std::ofstream{conf} << test::chaos_wide;
  engine_options opts;
  opts.config_file = conf;
  opts.data_dir = dir.sub("journal");
  opts.admins = {"admin"};
  opts.grants = {{"agent", 4}};
  opts.enforce_enabled = true;
  std::string err;
  auto eng = engine::start(opts, &err);
  REQUIRE_MESSAGE(eng, err);
  std::mutex mtx;
  std::map<std::string, int> applied; // forward calls per idempotency key
  eng->register_effector("coaster", [&](const effect_request& r) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!r.compensation)
      ++applied[r.idempotency_key];
    return effect_result{};
  });
  for (int i = 0; i < 40; ++i)
    REQUIRE(eng->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
  int restarts_heard = 0;
  eng->subscribe([&](const committed_event& e) {
    std::lock_guard<std::mutex> guard{mtx};
    restarts_heard += e.type == "actor_restarted";
  });
  std::vector<std::future<result>> answers;
  for (int i = 0; i < 40; ++i) {
    answers.push_back(eng->submit(engine_fixture::make(4, {set(i, "t")})));
    if (i == 10)
      REQUIRE(eng->chaos_kill("journal").ok);
    if (i == 25)
      REQUIRE(eng->chaos_kill("pipeline").ok);
  }
  std::vector<result> results;
  for (auto& f : answers) {
    REQUIRE(f.wait_for(60s) == std::future_status::ready); // a bound against a hang only
    results.push_back(f.get());
  }
  // Both restarted: a new proposal runs (retried while the restarts are under way).
  bool ran = false;
  result last;
  for (int i = 0; i < 200 && !ran; ++i) {
    auto f = eng->submit(engine_fixture::make(4, {set(39, "after")}));
    REQUIRE(f.wait_for(60s) == std::future_status::ready);
    last = f.get();
    ran = last.ok;
    if (!ran)
      std::this_thread::sleep_for(20ms);
  }
  CHECK_MESSAGE(ran, last.code << ": " << last.message);
  CHECK(eng->internals().gate->waiting() == 0); // every place at admission given back once
  // A restart's record waits for the journal's own restart: it lands (bounded wait).
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (restarts_heard >= 2)
        break;
    }
    std::this_thread::sleep_for(20ms);
  }
  eng->stop();
  eng.reset();
  store_options so;
  so.dir = opts.data_dir;
  so.read_only = true;
  auto store = journal_store::open(so);
  REQUIRE(store);
  std::map<std::string, int> outcomes;
  std::set<std::string> restarted;
  REQUIRE(!(*store)->read(seq_no{1}, (*store)->head(), [&](journal_entry&& e) {
    auto j = to_json(e);
    if (j["type"] == "proposal_finished")
      ++outcomes[j["payload"]["proposal"].get<std::string>()];
    if (j["type"] == "actor_restarted")
      restarted.insert(j["payload"]["child"].get<std::string>());
    return true;
  }));
  CHECK(restarted.count("journal") == 1);
  // "pipeline" is every flight family at once: each restarted.
  for (auto* family : {"flights:read", "flights:approved", "flights:observed",
                       "flights:autonomous"})
    CHECK(restarted.count(family) == 1);
  for (auto& r : results)
    if (r.ok)
      CHECK(outcomes[r.proposal] == 1);
  for (auto& [id, n] : outcomes)
    CHECK(n == 1);
  for (auto& [key, n] : applied) {
    CAPTURE(key);
    CHECK(n == 1);
  }
  CHECK((*store)->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
}
