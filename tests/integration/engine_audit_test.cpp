// The audit queue of level-4 changes through the embedding API: what enters it, an
// operator's acknowledgement, a restart, and every acknowledgement refused (nothing
// journaled).

#include <doctest/doctest.h>

#include <algorithm>

#include "integration/engine_fixture.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

/// The journaled records of `type` among `events`.
size_t count_type(const std::vector<committed_event>& events, const std::string& type) {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                           [&](const committed_event& e) {
                                             return e.type == type;
                                           }));
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Checks that acknowledgement `r` was refused with `code` and a message holding `part`,
/// and that the journal's head did not move.
void refused(engine& eng, const result& r, uint64_t head, const std::string& code,
             const std::string& part) {
  CHECK_MESSAGE(r.code == code, r.code << ": " << r.message);
  CHECK_MESSAGE(has(r.message, part), r.message);
  CHECK(!r.ok);
  CHECK(eng.head().first == head);
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "audit: a level-4 change waits in the queue until an "
                                  "operator acknowledges it, across restarts") {
  CHECK(eng->audit_pending().items.empty());
  events.clear();
  auto r = submit_now(make(4, {set(1, "fast"), set(2, "fast")}));
  REQUIRE_MESSAGE(r.ok, r.message);
  auto q = eng->audit_pending();
  REQUIRE(q.items.size() == 1);
  auto item = q.items[0];
  CHECK(item.proposal == r.proposal);
  CHECK(item.principal == "agent");
  CHECK(item.decided_seq == r.seq);
  CHECK(item.decided_seq == events.front().seq);
  CHECK(item.finished_seq == events.back().seq);
  CHECK(events.back().type == "proposal_finished");
  CHECK(item.steps == 2);
  CHECK(item.applied == 2);
  CHECK(item.status == "succeeded");
  CHECK(item.code.empty());
  CHECK(q.head_seq == eng->head().first);
  // A read and a level-4 proposal whose first step failed changed nothing: not queued.
  REQUIRE(submit_now(make(0, {}, {}, {})).ok);
  failing.insert("coaster-2/mode");
  auto failed = submit_now(make(4, {set(2, "slow")}));
  CHECK(failed.status == "failed");
  CHECK(failed.applied == 0);
  failing.clear();
  CHECK(eng->audit_pending().items.size() == 1);
  // A later one that kept a change after a failure is queued after it, as failed.
  failing.insert("coaster-2/mode");
  auto partial = submit_now(make(4, {set(1, "slow"), set(2, "slow")}));
  CHECK(partial.status == "failed");
  CHECK(partial.applied == 1);
  failing.clear();
  q = eng->audit_pending();
  REQUIRE(q.items.size() == 2);
  CHECK(q.items[0].proposal == r.proposal); // oldest finish first
  CHECK(q.items[1].proposal == partial.proposal);
  CHECK(q.items[1].status == "failed");
  CHECK(q.items[1].code == "EFFECTOR_FAILED");
  CHECK(q.items[1].applied == 1);
  CHECK(q.items[1].steps == 2);
  // The queue is the journal's: a restart rebuilds it as it was.
  restart();
  auto again = eng->audit_pending();
  REQUIRE(again.items.size() == 2);
  CHECK(again.items[0].proposal == r.proposal);
  CHECK(again.items[0].finished_seq == item.finished_seq);
  // An operator acknowledges the first one, with a note: journaled, and it leaves.
  events.clear();
  auto ack = eng->audit_ack("ops-alice", r.proposal, "the ride's speed is as planned");
  REQUIRE_MESSAGE(ack.ok, ack.code << ": " << ack.message);
  CHECK(ack.proposal == r.proposal);
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "audit_acknowledged");
  CHECK(events[0].seq == ack.seq);
  CHECK(has(events[0].json, "\"by\":\"ops-alice\""));
  CHECK(has(events[0].json, "\"note\":\"the ride's speed is as planned\""));
  CHECK(has(events[0].json, "\"proposal\":\"" + r.proposal + "\""));
  q = eng->audit_pending();
  REQUIRE(q.items.size() == 1);
  CHECK(q.items[0].proposal == partial.proposal);
  // An admin acknowledges the other without a note; the empty queue survives a restart.
  REQUIRE(eng->audit_ack("admin", partial.proposal).ok);
  CHECK(eng->audit_pending().items.empty());
  restart();
  CHECK(eng->audit_pending().items.empty());
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(engine_fixture, "audit: every bad acknowledgement is refused with its "
                                  "error and journals nothing") {
  auto mine = submit_now(make(4, {set(1, "fast")}, {"coaster"}, {"north"}, "", "ops"));
  REQUIRE_MESSAGE(mine.ok, mine.message);
  auto theirs = submit_now(make(4, {set(2, "fast")}));
  REQUIRE_MESSAGE(theirs.ok, theirs.message);
  failing.insert("coaster-1/mode");
  auto nothing = submit_now(make(4, {set(1, "slow")}));
  failing.clear();
  REQUIRE(nothing.applied == 0);
  auto one = eng->submit(make(1, {set(2, "reviewed")}));
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  auto low = eng->pending().at(0).proposal;
  REQUIRE(eng->approve("ops-alice", low).ok);
  eng->run();
  REQUIRE(one.get().status == "succeeded");
  REQUIRE(eng->audit_pending().items.size() == 2);
  auto head = eng->head().first;
  auto acks = count_type(events, "audit_acknowledged");

  // Who: a principal without an approver role (unknown, or with a grant only), a bad name.
  refused(*eng, eng->audit_ack("nobody-known", theirs.proposal), head, "AUTHORITY_DENIED",
          "holds no approver role");
  refused(*eng, eng->audit_ack("low", theirs.proposal), head, "AUTHORITY_DENIED",
          "holds no approver role");
  refused(*eng, eng->audit_ack("agent", theirs.proposal), head, "AUTHORITY_DENIED",
          "holds no approver role");
  refused(*eng, eng->audit_ack("", theirs.proposal), head, "INVALID_INPUT",
          "not a valid name");
  refused(*eng, eng->audit_ack("ops", theirs.proposal, std::string(4097, 'n')), head,
          "INVALID_INPUT", "longer than 4096 bytes");
  // What: not a digest, an unknown one, one below level 4, one that applied nothing.
  refused(*eng, eng->audit_ack("ops", "zz"), head, "INVALID_INPUT", "64 hex characters");
  refused(*eng, eng->audit_ack("ops", std::string(64, 'e')), head, "INVALID_INPUT",
          "no proposal with digest eeee");
  refused(*eng, eng->audit_ack("ops", low), head, "INVALID_INPUT",
          "is a level-1 proposal: only level-4 proposals wait for a review");
  refused(*eng, eng->audit_ack("ops", nothing.proposal), head, "INVALID_INPUT",
          "applied no change");
  // The proposer's own, by default.
  refused(*eng, eng->audit_ack("ops", mine.proposal), head, "AUTHORITY_DENIED",
          "authority.allow_self_approval is false");
  CHECK(eng->audit_pending().items.size() == 2);
  CHECK(count_type(events, "audit_acknowledged") == acks);

  // Twice: the second one names the first.
  REQUIRE(eng->audit_ack("ops", theirs.proposal, "ok").ok);
  head = eng->head().first;
  refused(*eng, eng->audit_ack("admin", theirs.proposal), head, "INVALID_INPUT",
          "was acknowledged already, by ops (seq " + std::to_string(head) + ")");

  // A halt stops changes to the fleet, not reviews; a proposal refused by it ran nothing.
  REQUIRE(eng->halt("admin", "drill").ok);
  auto halted = submit_now(make(4, {set(2, "slow")}));
  REQUIRE(halted.code == "HALTED");
  REQUIRE(events.size() >= 2); // the refusal is journaled, with its basis
  REQUIRE(events[events.size() - 2].type == "proposal_decided");
  REQUIRE(events.back().type == "decision_basis");
  head = eng->head().first;
  refused(*eng, eng->audit_ack("ops", test::decided_digest(events)), head, "INVALID_INPUT",
          "was refused at its decision");
  auto during = eng->audit_ack("ops-alice", mine.proposal, "reviewed during the drill");
  REQUIRE_MESSAGE(during.ok, during.code << ": " << during.message);
  CHECK(during.seq == head + 1);
  CHECK(eng->audit_pending().items.empty());
  CHECK(count_type(events, "audit_acknowledged") == acks + 2);
}

TEST_CASE("audit: a proposer acknowledges its own change where self-approval is allowed") {
  engine_fixture f{"[authority]\nallow_self_approval = true\n"};
  auto mine = f.submit_now(engine_fixture::make(4, {set(1, "fast")}, {"coaster"}, {"north"},
                                                "k-own", "ops"));
  REQUIRE_MESSAGE(mine.ok, mine.message);
  auto r = f.eng->audit_ack("ops", mine.proposal);
  REQUIRE_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(f.eng->audit_pending().items.empty());
}

TEST_CASE_FIXTURE(engine_fixture, "audit: a level-4 proposal in doubt is running until it is "
                                  "resolved, then waits for its review") {
  eng->stop();
  eng.reset();
  digest id;
  id.bytes[0] = 0xa4;
  {
    // The journal of a node that stopped while a level-4 change was being applied.
    store_options o;
    o.dir = dir.sub("journal");
    auto s = journal_store::open(o);
    REQUIRE(s);
    mutation m{resource_id{"coaster-3"}, "mode", "fast"};
    proposal_decided d{id, "audit-doubt", principal_id{"agent"}, authority_level::enforce,
                       "coaster", "north", true, ec::none, "allowed", 1, {}, {m}, "t"};
    auto at = caf::make_timestamp();
    REQUIRE((*s)->append({make_event(event_type::proposal_decided, at, d),
                          make_event(event_type::action_started, at,
                                     action_started{id, 0, m})}));
  }
  start();
  auto hex = to_hex(id);
  auto head = eng->head().first;
  refused(*eng, eng->audit_ack("ops", hex), head, "INVALID_INPUT", "is still running");
  REQUIRE(eng->resolve("ops", hex, true, "the controller reports fast").ok);
  auto q = eng->audit_pending();
  REQUIRE(q.items.size() == 1);
  CHECK(q.items[0].proposal == hex);
  CHECK(q.items[0].applied == 1);
  CHECK(q.items[0].status == "succeeded");
  REQUIRE(eng->audit_ack("ops-alice", hex).ok);
  CHECK(eng->audit_pending().items.empty());
}
