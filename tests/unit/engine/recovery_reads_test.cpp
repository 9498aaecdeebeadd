// What a starting pipeline and rollback executor read from the journal: the unfinished
// flights of the running proposals (actors/pipeline/recovery.hpp) and the unfinished
// rollbacks (actors/rollback/rollback.hpp), and their clear errors on records that are not
// what the state says they are.

#include <doctest/doctest.h>

#include "actors/pipeline/recovery.hpp"
#include "actors/rollback/rollback.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;

namespace {

caf::timestamp at_s(int64_t s) {
  return caf::timestamp{std::chrono::seconds{s}};
}

digest id_of(uint8_t n) {
  digest d;
  d.bytes[0] = n;
  return d;
}

event decided_as(uint8_t n, authority_level level, bool allowed = true) {
  proposal_decided d{id_of(n), "k" + std::to_string(n), principal_id{"agent"}, level, "svc",
                     "north", allowed, allowed ? ec::none : ec::authority_denied, "test", 1,
                     {}, {mutation{resource_id{"r1"}, "mode", "x"}}, "test"};
  return make_event(event_type::proposal_decided, at_s(n), d);
}

/// Appends `events` one transaction each; returns the projection after them.
projection journal_of(journal_store& store, const std::vector<event>& events) {
  projection p;
  for (auto& ev : events) {
    auto done = store.append({ev});
    REQUIRE(done);
    for (auto& e : *done)
      REQUIRE(!p.apply(e.seq, e.ev));
  }
  return p;
}

} // namespace

TEST_CASE("recovery: the journaled flights are the running ones a restart can rebuild") {
  test::temp_dir dir;
  auto store = test::open_store(dir.path());
  auto proj = journal_of(*store, {
    make_event(event_type::resource_registered, at_s(0),
               resource_registered{resource_id{"r1"}, "svc", "north", {{"mode", "a"}}}),
    decided_as(1, authority_level::assist),            // waits: seq 2
    decided_as(2, authority_level::act),               // level 3: seq 3
    make_event(event_type::action_started, at_s(3),
               action_started{id_of(2), 0, mutation{resource_id{"r1"}, "mode", "x"}}),
    make_event(event_type::action_applied, at_s(3),
               action_applied{id_of(2), 0, resource_id{"r1"}, "mode", std::string{"a"}, "x"}),
    decided_as(3, authority_level::enforce),           // a start without outcome: in doubt
    make_event(event_type::action_started, at_s(4),
               action_started{id_of(3), 0, mutation{resource_id{"r1"}, "mode", "x"}}),
    decided_as(4, authority_level::assist),            // finished
    make_event(event_type::proposal_finished, at_s(5),
               proposal_finished{id_of(4), false, ec::approval_expired, 0, 0, "expired"}),
    decided_as(5, authority_level::read_only),         // a read: nothing to rebuild
    decided_as(6, authority_level::recommend, false),  // refused
    make_event(event_type::approval_granted, at_s(7),
               approval_recorded{id_of(1), principal_id{"ops"}, "ok"}),
  });
  auto found = journaled_flights(*store, proj.state());
  REQUIRE(found);
  REQUIRE(found->size() == 2);
  auto& waiting = (*found)[0];
  CHECK(waiting.decision.proposal == id_of(1));
  CHECK(waiting.decided == seq_no{2});
  CHECK(waiting.decided_at == at_s(1));
  REQUIRE(waiting.later.size() == 1);
  CHECK(waiting.later[0].second.type == event_type::approval_granted);
  auto& act = (*found)[1];
  CHECK(act.decision.proposal == id_of(2));
  REQUIRE(act.later.size() == 2);
  CHECK(act.later[0].second.type == event_type::action_started);
  CHECK(act.later[1].second.type == event_type::action_applied);
  flight::settings config;
  auto r = flight::recovery_of(act, config);
  REQUIRE(r);
  REQUIRE(r->done.size() == 1);
  CHECK(r->done[0].old_value == std::optional<std::string>{"a"});
  CHECK(r->done[0].applied_seq == seq_no{5});
  auto w = flight::recovery_of(waiting, config);
  REQUIRE(w);
  CHECK(w->approved);
}

TEST_CASE("recovery: a state that names a record which is not its decision is an error") {
  test::temp_dir dir;
  auto store = test::open_store(dir.path());
  auto proj = journal_of(*store, {
    make_event(event_type::resource_registered, at_s(0),
               resource_registered{resource_id{"r1"}, "svc", "north", {}}),
    decided_as(1, authority_level::assist)});
  auto state = proj.state();
  state.proposals[id_of(1)].decided_seq = 1; // the registration, not the decision
  auto found = journaled_flights(*store, state);
  REQUIRE(!found);
  CHECK(is(found.error(), ec::integrity_violation));
  CHECK(describe(found.error()).message.find("record 1") != std::string::npos);
}

TEST_CASE("rollback recovery: the unfinished rollbacks are those with a plan and no finish") {
  test::temp_dir dir;
  auto store = test::open_store(dir.path());
  auto plan = [](uint8_t n, authority_level level) {
    return make_event(event_type::rollback_requested, at_s(n),
                      rollback_requested{id_of(n), digest{}, principal_id{"ops"}, level,
                                         {seq_no{1}}, "test"});
  };
  auto finish = [](uint8_t n) {
    return make_event(event_type::rollback_finished, at_s(n),
                      rollback_finished{id_of(n), digest{}, true, ec::none, 1, "done"});
  };
  journal_of(*store, {
    plan(1, authority_level::assist),
    make_event(event_type::approval_granted, at_s(2),
               approval_recorded{id_of(1), principal_id{"ops"}, ""}),
    plan(2, authority_level::enforce),
    finish(2),
    plan(3, authority_level::assist),
    finish(3),
    plan(3, authority_level::assist), // asked again: open once more
  });
  auto open = unfinished_rollbacks(*store, store->head());
  REQUIRE(open);
  REQUIRE(open->size() == 2);
  CHECK((*open)[0].plan.rollback == id_of(1));
  CHECK((*open)[0].approved);
  CHECK((*open)[0].requested == seq_no{1});
  CHECK((*open)[1].plan.rollback == id_of(3));
  CHECK(!(*open)[1].approved);
  CHECK((*open)[1].requested == seq_no{7});
  auto none = unfinished_rollbacks(*store, seq_no{0});
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("rollback recovery: a rollback record that does not decode is an error naming it") {
  test::temp_dir dir;
  {
    auto store = test::open_store(dir.path());
    journal_of(*store, {make_event(event_type::rollback_requested, at_s(1),
                                   rollback_requested{id_of(1), digest{}, principal_id{"ops"},
                                                      authority_level::assist, {}, "test"})});
  }
  test::tamper_value(dir.path(), 1, [](std::vector<uint8_t>& v) { v.resize(v.size() - 4); });
  auto store = test::open_store(dir.path());
  auto open = unfinished_rollbacks(*store, seq_no{1});
  REQUIRE(!open);
  CHECK(is(open.error(), ec::integrity_violation));
  CHECK(describe(open.error()).message.find("record 1") != std::string::npos);
}
