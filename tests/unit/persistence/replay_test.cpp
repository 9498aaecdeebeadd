// Determinism: live state, replayed state and snapshot-based replay agree byte for byte.

#include <doctest/doctest.h>

#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"
#include "persistence/replay.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::temp_dir;

TEST_CASE("replay of random event sequences reproduces the live state digest") {
  for (uint64_t seed = 100; seed < 110; ++seed) {
    temp_dir dir;
    auto store = test::open_store(dir.path());
    projection live;
    auto events = test::random_events(seed, 400 + seed * 7);
    for (size_t i = 0; i < events.size(); i += 37) {
      std::vector<event> batch(events.begin() + i,
                               events.begin() + std::min(events.size(), i + 37));
      auto entries = store->append(std::move(batch));
      REQUIRE(entries);
      for (auto& e : *entries)
        REQUIRE(!live.apply(e.seq, e.ev));
    }
    auto r = replay(*store, replay_options{seq_no{UINT64_MAX}, false, false});
    REQUIRE(r);
    CHECK(r->state_digest == live.state_digest());
    CHECK(r->proj.encode_state() == live.encode_state());
    CHECK(r->chain == store->head_chain());
  }
}

TEST_CASE("replay from a snapshot equals replay from genesis at every point") {
  temp_dir dir;
  auto store = test::open_store(dir.path());
  auto events = test::random_events(7, 2000);
  REQUIRE(store->append({events.begin(), events.begin() + 1000}));
  auto mid = replay(*store, replay_options{seq_no{1000}, false, false});
  REQUIRE(mid);
  REQUIRE(!store->write_snapshot(mid->proj));
  REQUIRE(store->append({events.begin() + 1000, events.end()}));
  for (uint64_t to : std::initializer_list<uint64_t>{999, 1000, 1001, 1500, 2000}) {
    auto genesis = replay(*store, replay_options{seq_no{to}, false, false});
    auto snap = replay(*store, replay_options{seq_no{to}, true, false});
    REQUIRE(genesis);
    REQUIRE(snap);
    CHECK(genesis->state_digest == snap->state_digest);
    CHECK(snap->seq == seq_no{to});
    CHECK(static_cast<bool>(snap->snapshot) == (to >= 1000));
  }
}

TEST_CASE("a damaged snapshot is skipped and replay falls back to genesis") {
  temp_dir dir;
  auto store = test::open_store(dir.path());
  REQUIRE(store->append(test::random_events(8, 300)));
  auto r = replay(*store);
  REQUIRE(r);
  REQUIRE(!store->write_snapshot(r->proj));
  auto snaps = store->snapshots();
  REQUIRE(snaps);
  REQUIRE(snaps->size() == 1);
  store.reset();
  test::tamper_value(dir.path(), 300, [](std::vector<uint8_t>& v) { v[3] ^= 1; });
  store = test::open_store(dir.path());
  // The snapshot no longer sits on the (altered) chain: not used.
  auto loaded = store->load_snapshot(seq_no{300});
  REQUIRE(loaded);
  CHECK(!*loaded);
}

TEST_CASE("replay refuses a journal whose chain is broken, naming the seq") {
  temp_dir dir;
  {
    auto store = test::open_store(dir.path());
    REQUIRE(store->append(test::random_events(9, 500)));
  }
  test::tamper_value(dir.path(), 250, [](std::vector<uint8_t>& v) { v.back() ^= 1; });
  store_options opts;
  opts.dir = dir.path();
  opts.read_only = true;
  auto store = journal_store::open(opts);
  REQUIRE(store);
  auto r = replay(**store);
  REQUIRE(!r);
  CHECK(is(r.error(), ec::integrity_violation));
  CHECK(describe(r.error()).message.find("record 250") != std::string::npos);
}

TEST_CASE("the projection refuses a payload that does not decode and a skipped seq") {
  projection p;
  event ev;
  ev.type = event_type::action_applied;
  ev.payload = {1, 2, 3};
  auto err = p.apply(seq_no{1}, ev);
  CHECK(is(err, ec::integrity_violation));
  CHECK(p.state().seq == 0);
  auto events = test::random_events(1, 3);
  CHECK(is(p.apply(seq_no{2}, events[0]), ec::integrity_violation));
  CHECK(!p.apply(seq_no{1}, events[0]));
}

TEST_CASE("a projection without history equals the full one, minus the proposals and the "
          "audit queue") {
  auto events = test::random_events(7, 600);
  for (size_t i = 60; i < events.size(); i += 10) { // a decided proposal every tenth record
    digest id;
    id.bytes[0] = static_cast<uint8_t>(i);
    id.bytes[1] = static_cast<uint8_t>(i >> 8);
    proposal_decided d{id, "k" + std::to_string(i), principal_id{"agent"}, authority_level::enforce,
                       "coaster", "north", true, ec::none, "allowed", 1, {}, {}, ""};
    events[i] = make_event(event_type::proposal_decided, events[i].at, d);
  }
  projection full;
  uint64_t seq = 0;
  for (size_t i = 0; i < 300; ++i)
    REQUIRE(!full.apply(seq_no{++seq}, events[i]));
  auto light = projection::without_history(full.state());
  for (size_t i = 300; i < events.size(); ++i, ++seq) {
    REQUIRE(!full.apply(seq_no{seq + 1}, events[i]));
    REQUIRE(!light.apply(seq_no{seq + 1}, events[i]));
  }
  REQUIRE(!full.state().decided.empty()); // the random events decide proposals
  REQUIRE(!full.state().audit.running.empty()); // the level-4 decisions are followed
  CHECK(light.state().proposals.empty());
  CHECK(light.state().decided.empty());
  CHECK(light.state().audit.running.empty());
  CHECK(light.state().audit.size() == 0);
  auto expected = full.state();
  expected.proposals.clear();
  expected.decided.clear();
  expected.audit = audit_queue{};
  CHECK(encode(light.state()) == encode(expected));
  CHECK(light.state().seq == full.state().seq);
}

TEST_CASE("replay refuses a journal holding a record under a key before seq 1") {
  temp_dir dir;
  {
    auto store = test::open_store(dir.path());
    REQUIRE(store->append(test::random_events(9, 500)));
  }
  test::put_raw_event(dir.path(), std::vector<uint8_t>(8, 0), test::raw_value(dir.path(), 1));
  store_options opts;
  opts.dir = dir.path();
  opts.read_only = true;
  auto store = journal_store::open(opts);
  REQUIRE(store);
  for (bool snapshot : {true, false}) {
    auto r = replay(**store, replay_options{seq_no{UINT64_MAX}, snapshot, true});
    REQUIRE(!r);
    CHECK(is(r.error(), ec::integrity_violation));
    CHECK(describe(r.error()).message == "record 1: stray key 0000000000000000");
  }
}
