// Flights and rollbacks survive a restart of their actor and of the process: a flight
// waiting for its approval is rebuilt from the journal (approved after the restart it runs
// once; a deadline that passed while down expires it with its record), a level-3 flight in
// its observation window is rolled back, and a rollback the executor did not finish is
// closed with its reason and, for an open incident, asked for again.

#include <doctest/doctest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "caf/scheduler/test_coordinator.hpp"
#include "caf/send.hpp"

#include "engine/engine_impl.hpp"
#include "integration/engine_fixture.hpp"
#include "integration/journal_records.hpp"
#include "integration/handoff_fixture.hpp"
#include "persistence/event_json.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using nlohmann::json;
using test::engine_fixture;
using test::handoff_fixture;
using test::set;

namespace {

const char* wide = "[chaos]\nenabled = true\n[blast_radius]\nmax_percent = 100.0\n";

std::vector<json> of_type(const std::vector<committed_event>& events, const std::string& type) {
  std::vector<json> out;
  for (auto& e : events)
    if (e.type == type)
      out.push_back(json::parse(e.json));
  return out;
}


/// Journaled outcomes per proposal (hex).
std::map<std::string, int> outcomes(const std::vector<committed_event>& events) {
  std::map<std::string, int> out;
  for (auto& r : of_type(events, "proposal_finished"))
    ++out[r["payload"]["proposal"].get<std::string>()];
  return out;
}

/// Forward effector calls per idempotency key.
std::map<std::string, int> forward_calls(const std::vector<effect_request>& calls) {
  std::map<std::string, int> out;
  for (auto& c : calls)
    if (!c.compensation)
      ++out[c.idempotency_key];
  return out;
}

/// Every journaled rollback plan has its end: requests and finishes pair up by id.
void check_rollbacks_closed(const std::vector<committed_event>& events) {
  std::map<std::string, int> open;
  for (auto& e : events) {
    if (e.type != "rollback_requested" && e.type != "rollback_finished")
      continue;
    auto id = json::parse(e.json)["payload"]["rollback"].get<std::string>();
    open[id] += e.type == "rollback_requested" ? 1 : -1;
    CHECK(open[id] >= 0); // never finished twice
  }
  for (auto& [id, n] : open) {
    CAPTURE(id);
    CHECK(n == 0);
  }
}

} // namespace

TEST_CASE("a pipeline killed under load rebuilds its waiting flights, approved after it each runs once") {
  for (int steps : {0, 3, 8, 15, 25, 40}) {
    CAPTURE(steps);
    engine_fixture fx{wide};
    auto& d = fx.eng->internals();
    auto one = engine_fixture::make(1, {set(1, "one")}, {"coaster"}, {"north"}, {}, "low");
    auto two = engine_fixture::make(2, {set(2, "two"), set(3, "two")});
    std::vector<std::future<result>> answers;
    answers.push_back(fx.eng->submit(one));
    answers.push_back(fx.eng->submit(two));
    fx.eng->run();
    REQUIRE(fx.eng->pending().size() == 2);
    // Load: level-4 proposals and one more waiting one, in every stage when the kill comes.
    for (int i = 4; i < 8; ++i)
      answers.push_back(fx.eng->submit(engine_fixture::make(4, {set(i, "load")})));
    answers.push_back(fx.eng->submit(
      engine_fixture::make(1, {set(9, "late")}, {"coaster"}, {"north"}, {}, "low")));
    for (int i = 0; i < steps && d.sched->try_run_once(); ++i) {
    }
    REQUIRE(d.chaos->kill("pipeline") == caf::error{});
    fx.eng->advance(3s);
    for (auto& f : answers)
      REQUIRE(f.wait_for(0s) == std::future_status::ready); // no caller left waiting
    // Every flight that waits now was rebuilt from the journal: approving runs it.
    auto waiting = fx.eng->pending();
    CHECK(waiting.size() >= 2);
    for (auto& p : waiting) {
      auto r = fx.eng->approve("admin", p.proposal);
      CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
    }
    fx.eng->advance(3s);
    CHECK(fx.eng->pending().empty());
    CHECK(fx.world["coaster-1/mode"] == "one");
    CHECK(fx.world["coaster-2/mode"] == "two");
    CHECK(fx.world["coaster-3/mode"] == "two");
    // One outcome per allowed decision (none twice; none missing unless in doubt).
    auto done = outcomes(fx.events);
    auto doubtful = fx.eng->in_doubt();
    for (auto& r : of_type(fx.events, "proposal_decided")) {
      if (!r["payload"]["allowed"].get<bool>() || r["payload"]["level"] == 0)
        continue;
      auto id = r["payload"]["proposal"].get<std::string>();
      CAPTURE(id);
      bool in_doubt = std::find(doubtful.begin(), doubtful.end(), id) != doubtful.end();
      CHECK(done[id] == (in_doubt ? 0 : 1));
    }
    for (auto& [id, n] : done)
      CHECK(n == 1);
    for (auto& [key, n] : forward_calls(fx.calls)) {
      CAPTURE(key);
      CHECK(n == 1);
    }
    // A repeat of a rebuilt flight's key is answered, never run again.
    auto before = fx.calls.size();
    fx.submit_now(one);
    CHECK(fx.calls.size() == before);
    CHECK(fx.eng->verify().ok);
  }
}

TEST_CASE_FIXTURE(engine_fixture, "a level-2 flight approved while the pipeline restarts runs once") {
  auto f = eng->submit(make(2, {set(5, "a"), set(6, "a")}));
  eng->run();
  auto pending = eng->pending();
  REQUIRE(pending.size() == 1);
  REQUIRE(eng->chaos_enable(true).ok);
  REQUIRE(eng->chaos_kill("pipeline").ok);
  // The dying pipeline may still take the approval and journal it (its approver is then
  // answered UNAVAILABLE as it dies): the rebuilt flight runs it without another one.
  // Else the approval found no flight (nothing journaled) and the approver asks again.
  auto first = eng->approve("admin", pending.front().proposal);
  eng->advance(1s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  bool durable = !of_type(events, "approval_granted").empty();
  CAPTURE(durable);
  if (!first.ok && !durable) {
    auto again = eng->approve("admin", pending.front().proposal);
    CHECK_MESSAGE(again.ok, again.message);
  } else if (!first.ok) {
    CHECK(eng->pending().empty()); // approved already: it runs, nobody is asked again
  }
  eng->run();
  CHECK(world["coaster-5/mode"] == "a");
  CHECK(world["coaster-6/mode"] == "a");
  CHECK(of_type(events, "approval_granted").size() == 1);
  CHECK(outcomes(events)[pending.front().proposal] == 1);
  CHECK(forward_calls(calls).size() == 2);
  for (auto& [key, n] : forward_calls(calls))
    CHECK(n == 1);
  CHECK(eng->pending().empty());
}

TEST_CASE_FIXTURE(engine_fixture, "a process restart keeps a waiting approval, approved after it it runs once") {
  auto f = eng->submit(make(1, {set(1, "after")}, {"coaster"}, {"north"}, {}, "low"));
  eng->run();
  auto pending = eng->pending();
  REQUIRE(pending.size() == 1);
  restart();
  REQUIRE(f.wait_for(0s) == std::future_status::ready); // the stop answered its caller
  auto again = eng->pending();
  REQUIRE(again.size() == 1);
  CHECK(again.front().proposal == pending.front().proposal);
  CHECK(calls.empty());
  auto r = eng->approve("admin", pending.front().proposal);
  CHECK_MESSAGE(r.ok, r.message);
  eng->run();
  CHECK(world["coaster-1/mode"] == "after");
  CHECK(forward_calls(calls).size() == 1);
  CHECK(outcomes(events)[pending.front().proposal] == 1);
  CHECK(eng->pending().empty());
  CHECK(eng->verify().ok);
  // Another restart finds it finished: nothing is rebuilt.
  restart();
  CHECK(eng->pending().empty());
  eng->run();
  CHECK(calls.size() == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "a waiting flight whose approval deadline passed while the process was down expires with its record") {
  auto f = eng->submit(make(1, {set(1, "late")}, {"coaster"}, {"north"}, {}, "low"));
  eng->run();
  auto pending = eng->pending();
  REQUIRE(pending.size() == 1);
  // The process comes back two minutes later (the approval timeout is 60 s).
  epoch_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
               (eng->now() + 2min).time_since_epoch()).count();
  restart(); // the expiry is journaled during the start, before this fixture subscribes
  eng->run();
  CHECK(eng->pending().empty());
  auto expired = test::stored(*eng, "approval_expired");
  REQUIRE(expired.size() == 1);
  CHECK(expired[0]["payload"]["proposal"] == pending.front().proposal);
  auto finished = test::stored(*eng, "proposal_finished");
  REQUIRE(finished.size() == 1);
  CHECK(finished[0]["payload"]["code"] == "APPROVAL_EXPIRED");
  CHECK(finished[0]["payload"]["proposal"] == pending.front().proposal);
  CHECK(!eng->approve("admin", pending.front().proposal).ok);
  CHECK(calls.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "a level-3 flight in its observation window when the pipeline dies is rolled back") {
  auto f = eng->submit(make(3, {set(1, "canary"), set(2, "canary")}));
  eng->run(); // step 0 applied, its window running
  REQUIRE(world["coaster-1/mode"] == "canary");
  REQUIRE(world.count("coaster-2/mode") == 0); // step 1 waits for the window
  REQUIRE(eng->chaos_enable(true).ok);
  REQUIRE(eng->chaos_kill("pipeline").ok);
  eng->advance(1s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  CHECK(world["coaster-1/mode"] == "normal");
  CHECK(world.count("coaster-2/mode") == 0);
  auto finished = of_type(events, "proposal_finished");
  REQUIRE(finished.size() == 1);
  CHECK(finished[0]["payload"]["code"] == "UNAVAILABLE");
  CHECK(finished[0]["payload"]["applied"] == 1);
  CHECK(finished[0]["payload"]["compensated"] == 1);
  CHECK(of_type(events, "rollback_applied").size() == 1);
  CHECK(eng->in_doubt().empty());
  eng->advance(10s); // the old window's timer finds nothing
  CHECK(forward_calls(calls).size() == 1);
  CHECK(of_type(events, "proposal_finished").size() == 1);
}

TEST_CASE_FIXTURE(handoff_fixture, "a rollback awaiting approval when the executor dies is rebuilt and still awaits it") {
  auto_approve = false;
  bad_change();
  tick(35);
  auto pending = eng->pending_rollbacks();
  REQUIRE(pending.size() == 1);
  REQUIRE(eng->chaos_kill("rollback").ok);
  tick(1);
  // Nothing is closed or asked again: the same flight waits, planned again from the journal.
  CHECK(of_type(events, "rollback_finished").empty());
  CHECK(of_type(events, "rollback_requested").size() == 1);
  CHECK(eng->pending_rollbacks() == pending);
  CHECK(world["coaster-1/mode"] == "bad");
  CHECK(eng->approve("ops", pending.front()).ok);
  tick(40);
  CHECK(world["coaster-1/mode"] == "normal");
  CHECK(only_incident().status == "recovered");
  check_rollbacks_closed(events);
}

TEST_CASE_FIXTURE(handoff_fixture, "a rebuilt rollback keeps its approval window: it expires when the first one would have") {
  auto_approve = false;
  bad_change();
  // The second its plan is journaled: it expires 60 s (the fixture's window) after it.
  for (int i = 0; i < 35 && eng->pending_rollbacks().empty(); ++i)
    tick(1);
  auto pending = eng->pending_rollbacks();
  REQUIRE(pending.size() == 1);
  auto planned_by = eng->now();
  tick(20);
  REQUIRE(of_type(events, "approval_expired").empty());
  REQUIRE(eng->chaos_kill("rollback").ok);
  tick(1);
  REQUIRE(eng->pending_rollbacks() == pending);
  // 62 s after the plan, 41 s after the restart: a window counted from the restart would
  // still be open.
  eng->advance(std::chrono::duration_cast<std::chrono::milliseconds>(
    planned_by + std::chrono::seconds{61} - eng->now()));
  tick(1);
  auto expired = of_type(events, "approval_expired");
  REQUIRE(expired.size() == 1);
  auto finished = of_type(events, "rollback_finished");
  REQUIRE(finished.size() >= 1);
  CHECK(finished[0]["payload"]["code"] == "APPROVAL_EXPIRED");
  CHECK(world["coaster-1/mode"] == "bad");
  // Asked again at the expiry, as always; approved, it runs.
  auto_approve = true;
  tick(40);
  CHECK(world["coaster-1/mode"] == "normal");
  check_rollbacks_closed(events);
}

TEST_CASE("a rollback executor killed at any point of a running rollback: closed, asked again, done once") {
  for (int steps : {0, 1, 2, 4, 8, 16, 32}) {
    CAPTURE(steps);
    handoff_fixture fx;
    fx.auto_approve = false;
    fx.bad_change();
    fx.tick(35);
    auto pending = fx.eng->pending_rollbacks();
    REQUIRE(pending.size() == 1);
    digest id;
    REQUIRE(parse_digest(pending.front(), id));
    auto& d = fx.eng->internals();
    caf::anon_send(d.rollbacks, atom::approve_v, approval{principal_id{"ops"}, id, true, ""});
    for (int i = 0; i < steps && d.sched->try_run_once(); ++i) {
    }
    REQUIRE(d.chaos->kill("rollback") == caf::error{});
    fx.auto_approve = true;
    fx.tick(60);
    CHECK(fx.world["coaster-1/mode"] == "normal");
    CHECK(fx.only_incident().status == "recovered");
    check_rollbacks_closed(fx.events);
    int succeeded = 0;
    for (auto& r : of_type(fx.events, "rollback_finished"))
      succeeded += r["payload"]["succeeded"].get<bool>();
    CHECK(succeeded == 1);
    CHECK(fx.eng->pending_rollbacks().empty());
    CHECK(fx.eng->verify().ok);
  }
}

namespace {

/// Stops the fixture's engine and appends `events` to its journal, as a node that died
/// in the middle of a flight left it; the caller starts the engine again.
void append_while_stopped(engine_fixture& f, std::vector<event> events) {
  f.eng->stop();
  f.eng.reset();
  store_options o;
  o.dir = f.dir.sub("journal");
  auto s = journal_store::open(o);
  REQUIRE(s);
  REQUIRE((*s)->append(std::move(events)));
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "an action in doubt is listed with what the journal knows of it") {
  CHECK(eng->in_doubt_actions().empty());
  // A level-2 batch whose starts are durable, and the first one's effect, but not the
  // second's: as after a crash while its effector was being called.
  digest id;
  id.bytes[0] = 0xab;
  mutation m{resource_id{"coaster-1"}, "mode", "fast"};
  mutation other{resource_id{"coaster-2"}, "mode", "fast"};
  proposal_decided d{id, "doubt-1", principal_id{"agent"}, authority_level::recommend,
                     "coaster", "north", true, ec::none, "allowed", 2, {}, {m, other}, "t"};
  auto at = caf::make_timestamp();
  append_while_stopped(*this, {make_event(event_type::proposal_decided, at, d),
                               make_event(event_type::action_started, at,
                                          action_started{id, 0, m}),
                               make_event(event_type::action_started, at,
                                          action_started{id, 1, other}),
                               make_event(event_type::action_applied, at,
                                          action_applied{id, 0, m.resource, m.key,
                                                         std::string{"normal"}, m.value})});
  start();
  auto xs = eng->in_doubt_actions();
  REQUIRE(xs.size() == 1); // step 0 has its effect: only step 1 is in doubt
  auto& a = xs[0];
  CHECK(a.proposal == to_hex(id));
  CHECK(a.principal == "agent");
  CHECK(a.level == 2);
  CHECK(a.step == 1);
  CHECK(a.resource == "coaster-2");
  CHECK(a.key == "mode");
  CHECK(a.value == "fast");
  CHECK(a.started_seq == a.decided_seq + 2);
  REQUIRE(a.journaled_value);
  CHECK(*a.journaled_value == "normal");
  CHECK(eng->in_doubt() == std::vector<std::string>{a.proposal});

  // Bad resolutions change nothing.
  auto unknown = std::string(64, 'e');
  CHECK(eng->resolve("ops", unknown, true, "checked").code == "INVALID_INPUT");
  CHECK(eng->resolve("ops", a.proposal, true, "").code == "INVALID_INPUT");
  CHECK(eng->resolve("agent", a.proposal, true, "checked").code == "AUTHORITY_DENIED");
  CHECK(eng->resolve("ops", "zz", true, "checked").code == "INVALID_INPUT");
  auto finished = submit_now(make(4, {set(5, "x")}));
  REQUIRE(finished.ok);
  CHECK(eng->resolve("ops", finished.proposal, true, "checked").code == "INVALID_INPUT");
  CHECK(eng->in_doubt_actions().size() == 1);

  // Settled as applied: one transaction, the effect with the journal's old value, then
  // the outcome naming the resolver; nothing is in doubt any more.
  events.clear();
  auto r = eng->resolve("ops", a.proposal, true, "the controller reports fast");
  REQUIRE_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(types() == std::vector<std::string>{"action_applied", "proposal_finished"});
  CHECK(events[0].json.find("\"old_value\":\"normal\"") != std::string::npos);
  CHECK(events[1].json.find("\"succeeded\":true") != std::string::npos);
  CHECK(events[1].json.find("resolved by ops as applied: the controller reports fast")
        != std::string::npos);
  CHECK(r.seq == events[1].seq);
  CHECK(eng->in_doubt_actions().empty());
  CHECK(eng->in_doubt().empty());
  CHECK(eng->resolve("ops", a.proposal, true, "again").code == "INVALID_INPUT");
}

TEST_CASE_FIXTURE(engine_fixture, "an action in doubt whose resource changed since is resolved as not applied only") {
  digest id;
  id.bytes[0] = 0xac;
  mutation m{resource_id{"coaster-3"}, "mode", "slow"};
  proposal_decided d{id, "doubt-2", principal_id{"agent"}, authority_level::enforce,
                     "coaster", "north", true, ec::none, "allowed", 1, {}, {m}, "t"};
  auto at = caf::make_timestamp();
  append_while_stopped(*this, {make_event(event_type::proposal_decided, at, d),
                               make_event(event_type::action_started, at,
                                          action_started{id, 0, m})});
  start();
  REQUIRE(submit_now(make(4, {set(3, "later")}, {"coaster"}, {"north"}, "", "ops")).ok);
  auto hex = to_hex(id);
  auto refused = eng->resolve("ops", hex, true, "it did run");
  CHECK(refused.code == "INVALID_INPUT");
  CHECK(refused.message.find("changed after step 0 started") != std::string::npos);
  REQUIRE(eng->in_doubt_actions().size() == 1);
  events.clear();
  auto r = eng->resolve("admin", hex, false, "superseded by a later change");
  REQUIRE_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(types() == std::vector<std::string>{"action_failed", "proposal_finished"});
  CHECK(events[0].json.find("not applied: in doubt, resolved by admin") != std::string::npos);
  CHECK(events[1].json.find("\"succeeded\":false") != std::string::npos);
  CHECK(eng->in_doubt_actions().empty());
}

TEST_CASE_FIXTURE(engine_fixture, "reconcile: the probes settle what they can read back and "
                                  "leave the rest in doubt") {
  // Three proposals in doubt: coaster-4 holds its new value (applied), coaster-5 the
  // journal's (not applied), coaster-6 a third value (stays in doubt).
  std::vector<event> records;
  auto at = caf::make_timestamp();
  std::vector<std::string> ids;
  int n = 0;
  for (auto c : {4, 5, 6}) {
    digest id;
    id.bytes[0] = static_cast<uint8_t>(0xc0 + n++);
    ids.push_back(to_hex(id));
    mutation m{resource_id{"coaster-" + std::to_string(c)}, "mode", "fast"};
    proposal_decided d{id, "doubt-r" + std::to_string(c), principal_id{"agent"},
                       authority_level::enforce, "coaster", "north", true, ec::none,
                       "allowed", 1, {}, {m}, "t"};
    records.push_back(make_event(event_type::proposal_decided, at, d));
    records.push_back(make_event(event_type::action_started, at, action_started{id, 0, m}));
  }
  append_while_stopped(*this, std::move(records));
  start();
  REQUIRE(eng->in_doubt_actions().size() == 3);
  CHECK(eng->in_doubt_actions()[0].service == "coaster");
  // Bad input reads nothing and settles nothing.
  CHECK(eng->reconcile("agent", 1000ms).status.code == "AUTHORITY_DENIED");
  CHECK(eng->reconcile("ops", 0ms).status.code == "INVALID_INPUT");
  CHECK(eng->reconcile("no body", 1000ms).status.code == "INVALID_INPUT");
  // Without a probe nothing can be read: all stay in doubt.
  auto blind = eng->reconcile("ops", 1000ms);
  REQUIRE(blind.status.ok);
  REQUIRE(blind.proposals.size() == 3);
  for (auto& r : blind.proposals) {
    CHECK(r.outcome == "unresolved");
    CHECK(r.evidence.find("no probe is registered for service coaster") != std::string::npos);
  }
  CHECK(eng->in_doubt_actions().size() == 3);
  std::map<std::string, std::string> held{{"coaster-4", "fast"}, {"coaster-5", "normal"},
                                          {"coaster-6", "stuck"}};
  eng->register_probe("coaster", [&held](const probe_request& r) {
    return probe_result{true, held.at(r.resource), "", false};
  });
  events.clear();
  auto report = eng->reconcile("ops", 1000ms);
  REQUIRE(report.status.ok);
  REQUIRE(report.proposals.size() == 3);
  CHECK(report.proposals[0].proposal == ids[0]);
  CHECK(report.proposals[0].outcome == "applied");
  CHECK(report.proposals[1].outcome == "not-applied");
  CHECK(report.proposals[2].outcome == "unresolved");
  CHECK(report.proposals[2].evidence
        == "coaster-6/mode holds 'stuck': neither 'fast' (to set) nor 'normal' (journaled)");
  CHECK(report.proposals[0].seq > 0);
  // Journaled as resolutions by ops with the probes' evidence.
  CHECK(types() == std::vector<std::string>{"action_applied", "proposal_finished",
                                            "action_failed", "proposal_finished"});
  CHECK(events[1].json.find("resolved by ops as applied: probe: coaster-4/mode holds 'fast'")
        != std::string::npos);
  CHECK(events[1].seq == report.proposals[0].seq);
  auto left = eng->in_doubt_actions();
  REQUIRE(left.size() == 1);
  CHECK(left[0].proposal == ids[2]);
}
