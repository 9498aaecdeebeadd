// The audit queue of level-4 changes as the projection keeps it: what enters it, what an
// acknowledgement removes, and that replay and snapshots give the same queue.

#include <doctest/doctest.h>

#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"
#include "persistence/replay.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/small_digest.hpp"

using namespace bulwark;

namespace {

caf::timestamp t(int64_t seconds) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000 + seconds}};
}

using test::id;

/// A decision of proposal `n` by `principal` at `level` with `steps` changes.
event decision(uint8_t n, authority_level level, uint32_t steps, bool allowed = true,
              const std::string& principal = "agent") {
  proposal_decided d;
  d.proposal = id(n);
  d.idempotency_key = "k" + std::to_string(n);
  d.principal = principal_id{principal};
  d.level = level;
  d.service = "coaster";
  d.region = "north";
  d.allowed = allowed;
  d.code = allowed ? ec::none : ec::authority_denied;
  for (uint32_t i = 0; i < steps; ++i)
    d.mutations.push_back(mutation{resource_id{"c" + std::to_string(i)}, "mode", "fast"});
  return make_event(event_type::proposal_decided, t(n), d);
}

event finished(uint8_t n, uint32_t applied, bool succeeded, ec code = ec::none) {
  return make_event(event_type::proposal_finished, t(n + 1),
                    proposal_finished{id(n), succeeded, code, applied, 0, "done"});
}

event acknowledged(uint8_t n, const std::string& by = "ops", const std::string& note = "") {
  return make_event(event_type::audit_acknowledged, t(n + 2),
                    audit_acknowledged{id(n), principal_id{by}, note});
}

struct fixture {
  projection p;
  uint64_t seq = 0;
  std::vector<event> applied; ///< every event, in order (for a replay through a store)
  uint64_t apply(const event& e) {
    REQUIRE_FALSE(p.apply(seq_no{++seq}, e));
    applied.push_back(e);
    return seq;
  }
  const audit_queue& audit() const {
    return p.state().audit;
  }
};

} // namespace

TEST_CASE("audit: a level-4 proposal that applied a change enters the queue with what an "
          "auditor needs") {
  fixture f;
  auto d = f.apply(decision(1, authority_level::enforce, 3));
  REQUIRE(f.audit().running.count(id(1)) == 1);
  CHECK(f.audit().size() == 0); // running is not waiting for a review
  auto fin = f.apply(finished(1, 2, false, ec::effector_failed));
  CHECK(f.audit().running.empty());
  REQUIRE(f.audit().size() == 1);
  auto& e = f.audit().pending.at(id(1));
  CHECK(e.principal.value == "agent");
  CHECK(e.decided_seq == d);
  CHECK(e.finished_seq == fin);
  CHECK(e.steps == 3);
  CHECK(e.applied == 2);
  CHECK_FALSE(e.succeeded);
  CHECK(e.code == ec::effector_failed);
}

TEST_CASE("audit: lower levels, refusals and level-4 flights that applied nothing stay out") {
  fixture f;
  f.apply(decision(1, authority_level::act, 1)); // level 3: observed by a person already
  f.apply(finished(1, 1, true));
  f.apply(decision(2, authority_level::enforce, 1, false)); // refused: nothing ran
  CHECK(f.audit().running.empty());
  f.apply(decision(3, authority_level::enforce, 2)); // its first step failed
  f.apply(finished(3, 0, false, ec::effector_failed));
  f.apply(decision(4, authority_level::read_only, 0)); // a read
  CHECK(f.audit().pending.empty());
  CHECK(f.audit().running.empty());
  // A finish of a proposal the queue never followed changes nothing.
  f.apply(finished(9, 1, true));
  CHECK(f.audit().size() == 0);
}

TEST_CASE("audit: an acknowledgement removes its proposal and nothing else") {
  fixture f;
  for (uint8_t n : {1, 2}) {
    f.apply(decision(n, authority_level::enforce, 1));
    f.apply(finished(n, 1, true));
  }
  REQUIRE(f.audit().size() == 2);
  f.apply(acknowledged(1, "ops", "checked the ride's dashboards"));
  CHECK(f.audit().size() == 1);
  CHECK(f.audit().pending.count(id(2)) == 1);
  // One that names no waiting proposal (none such is ever journaled) changes no entry.
  f.apply(acknowledged(7));
  CHECK(f.audit().size() == 1);
  f.apply(acknowledged(2, "admin"));
  CHECK(f.audit().size() == 0);
  CHECK(f.p.state().counts.at(static_cast<uint8_t>(event_type::audit_acknowledged)) == 3);
}

TEST_CASE("audit: replay from the journal gives the same queue, byte for byte") {
  fixture f;
  f.apply(decision(1, authority_level::enforce, 2));
  f.apply(finished(1, 2, true));
  f.apply(decision(2, authority_level::enforce, 1, true, "other-agent"));
  f.apply(decision(3, authority_level::enforce, 3));
  f.apply(finished(3, 1, false, ec::halted));
  f.apply(acknowledged(1, "ops", "fine"));
  REQUIRE(f.audit().size() == 1);
  REQUIRE(f.audit().running.size() == 1);
  test::temp_dir dir;
  auto store = test::open_store(dir.path());
  REQUIRE(store->append(f.applied));
  auto genesis = replay(*store, replay_options{seq_no{UINT64_MAX}, false, false});
  REQUIRE(genesis);
  CHECK(genesis->proj.encode_state() == f.p.encode_state());
  CHECK(genesis->proj.state().audit.pending.count(id(3)) == 1);
  CHECK(genesis->proj.state().audit.running.count(id(2)) == 1);
  // From a snapshot taken halfway, then the rest: the same bytes again.
  auto mid = replay(*store, replay_options{seq_no{4}, false, false});
  REQUIRE(mid);
  REQUIRE_FALSE(store->write_snapshot(mid->proj));
  auto snap = replay(*store, replay_options{seq_no{UINT64_MAX}, true, false});
  REQUIRE(snap);
  REQUIRE(snap->snapshot);
  CHECK(snap->snapshot->value == 4);
  CHECK(snap->state_digest == f.p.state_digest());
}

TEST_CASE("audit: the queue survives a snapshot's encoding, and an older version's snapshot is "
          "skipped") {
  fixture f;
  f.apply(decision(1, authority_level::enforce, 2));
  f.apply(finished(1, 1, false, ec::timeout));
  f.apply(decision(2, authority_level::enforce, 1));
  fleet_state back;
  REQUIRE_FALSE(decode(f.p.encode_state(), back));
  projection copy{back};
  CHECK(copy.state_digest() == f.p.state_digest());
  CHECK(copy.state().audit.pending.at(id(1)).code == ec::timeout);
  CHECK(copy.state().audit.running.at(id(2)).steps == 1);
  // A snapshot an earlier build wrote (version 9, without the policy, or 8, without the
  // queue) is not used: replay starts from the records and rebuilds the queue.
  test::temp_dir dir;
  auto store = test::open_store(dir.path());
  REQUIRE(store->append(f.applied));
  auto chain = store->chain_at(seq_no{3});
  REQUIRE(chain);
  auto value = journal_store::encode_snapshot(f.p.state(), *chain);
  REQUIRE(value.at(0) == 10);
  value[0] = 9;
  REQUIRE_FALSE(store->put_snapshot(3, value));
  auto loaded = store->load_snapshot(seq_no{3});
  REQUIRE(loaded);
  CHECK_FALSE(*loaded);
  auto r = replay(*store);
  REQUIRE(r);
  CHECK_FALSE(r->snapshot);
  CHECK(r->state_digest == f.p.state_digest());
}
