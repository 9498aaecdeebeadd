// Replication over CAF remote actors on 127.0.0.1: followers pull committed ranges in
// batches, append only records that link, end with the leader's head and state digest,
// catch up after a restart, and refuse what does not belong (fail closed).

#include <doctest/doctest.h>

#include "cluster/cluster_node.hpp"
#include "messages/error.hpp"
#include "persistence/codec.hpp"
#include "persistence/replay.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_node;
using bulwark::test::cluster_plan;
using bulwark::test::start;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;

namespace {

digest state_digest_of(journal_store& store) {
  auto r = replay(store);
  REQUIRE(r);
  return r->state_digest;
}

/// Raw stored values (chain || event bytes) of [from, to] of `store`.
std::vector<std::vector<uint8_t>> raw_range(journal_store& store, uint64_t from, uint64_t to) {
  std::vector<std::vector<uint8_t>> out;
  REQUIRE(!store.scan(seq_no{from}, seq_no{to},
                      [&](seq_no, const uint8_t* chain, const uint8_t* data, size_t size) {
                        std::vector<uint8_t> v(chain, chain + 32);
                        v.insert(v.end(), data, data + size);
                        out.push_back(std::move(v));
                        return true;
                      }));
  return out;
}

} // namespace

TEST_CASE("three nodes replicate a stream and end with equal heads and state digests") {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  auto n1 = start(plan, dir, "n1");
  auto n2 = start(plan, dir, "n2");
  auto n3 = start(plan, dir, "n3");
  auto events = test::random_events(21, 3000);
  // Appends keep coming while the followers pull (batches of 500).
  for (size_t i = 0; i < events.size(); i += 250)
    REQUIRE(!n1->append({events.begin() + i, events.begin() + i + 250}));
  REQUIRE(n1->head().value >= 3000); // and the peer_changed events of the followers
  CHECK(wait_until([&] { return n2->head() == n1->head() && n3->head() == n1->head(); }));
  CHECK(n2->chain() == n1->chain());
  CHECK(n3->chain() == n1->chain());
  auto s1 = n1->status();
  CHECK(s1.role == "leader");
  CHECK(s1.writable);
  REQUIRE(s1.peers.size() == 2);
  CHECK(wait_until([&] {
    auto s = n1->status();
    return s.peers[0].connected && s.peers[1].connected && s.peers[0].lag == 0
           && s.peers[1].lag == 0;
  }));
  auto s2 = n2->status();
  CHECK(s2.role == "follower");
  CHECK(!s2.writable);
  CHECK(!s2.replication_stopped);
  CHECK(s2.head == n1->head());
  // The same `apply` on every node: equal state digests at equal seq.
  auto d1 = state_digest_of(n1->store());
  CHECK(state_digest_of(n2->store()) == d1);
  CHECK(state_digest_of(n3->store()) == d1);
  // The leader journaled its followers coming up; the followers copied those events too.
  uint64_t ups = 0;
  REQUIRE(!n1->store().read(seq_no{1}, n1->head(), [&](journal_entry&& e) {
    ups += e.ev.type == event_type::peer_changed ? 1 : 0;
    return true;
  }));
  CHECK(ups >= 2);
}

TEST_CASE("a follower refuses local appends: never two writers") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n2 = start(plan, dir, "n2");
  auto err = n2->append(test::random_events(3, 1));
  CHECK(is(err, ec::unavailable));
  CHECK(describe(err).retry_after);
  CHECK(n2->head() == seq_no{0});
}

TEST_CASE("a follower stopped and restarted catches up from where it stopped") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1");
  auto events = test::random_events(22, 4000);
  REQUIRE(!n1->append({events.begin(), events.begin() + 1000}));
  seq_no had;
  {
    auto n2 = start(plan, dir, "n2");
    REQUIRE(wait_until([&] { return n1->status().peers[0].connected; }));
    REQUIRE(wait_until([&] { return n2->head() == n1->head(); }));
    had = n2->head();
  }
  REQUIRE(!n1->append({events.begin() + 1000, events.end()}));
  CHECK(wait_until([&] {
    auto s = n1->status();
    return !s.peers[0].connected;
  }));
  auto n2 = start(plan, dir, "n2");
  CHECK(n2->head().value >= had.value); // its own journal, kept across the restart
  CHECK(wait_until([&] { return n2->head() == n1->head(); }));
  CHECK(n2->chain() == n1->chain());
  CHECK(state_digest_of(n2->store()) == state_digest_of(n1->store()));
  // The leader journaled the follower going down and coming back.
  uint64_t downs = 0;
  REQUIRE(!n1->store().read(seq_no{1}, n1->head(), [&](journal_entry&& e) {
    if (e.ev.type == event_type::peer_changed) {
      peer_changed pc;
      REQUIRE(!decode(e.ev.payload, pc));
      downs += pc.up ? 0 : 1;
    }
    return true;
  }));
  CHECK(downs >= 1);
}

TEST_CASE("a record that does not link is refused with INTEGRITY_VIOLATION and nothing is appended") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  plan.nodes[0].port = 1; // n1 is not running in this test: n2 imports by hand
  auto n2 = start(plan, dir, "n2");
  auto source = test::open_store(dir.sub("source"));
  REQUIRE(source->append(test::random_events(23, 100)));
  auto records = raw_range(*source, 1, 100);

  SUBCASE("a tampered event byte") {
    records[40].back() ^= 1;
    auto r = n2->import(replica_batch{seq_no{1}, records, seq_no{100}, 1});
    REQUIRE(!r);
    CHECK(is(r.error(), ec::integrity_violation));
    CHECK(describe(r.error()).message.find("record 41") != std::string::npos);
  }
  SUBCASE("a batch that does not start at head + 1") {
    auto r = n2->import(replica_batch{seq_no{2}, {records.begin() + 1, records.end()},
                                      seq_no{100}, 1});
    REQUIRE(!r);
    CHECK(is(r.error(), ec::integrity_violation));
  }
  SUBCASE("a record missing in the middle") {
    records.erase(records.begin() + 10);
    auto r = n2->import(replica_batch{seq_no{1}, records, seq_no{100}, 1});
    REQUIRE(!r);
    CHECK(is(r.error(), ec::integrity_violation));
  }
  SUBCASE("garbage instead of a record") {
    records[0] = std::vector<uint8_t>(20, 0xAB);
    auto r = n2->import(replica_batch{seq_no{1}, records, seq_no{100}, 1});
    REQUIRE(!r);
    CHECK(is(r.error(), ec::integrity_violation));
  }
  CHECK(n2->head() == seq_no{0});
  // The untouched records link and are appended.
  auto good = n2->import(replica_batch{seq_no{1}, raw_range(*source, 1, 100), seq_no{100}, 1});
  REQUIRE(good);
  CHECK(good->last == seq_no{100});
  CHECK(n2->chain() == source->head_chain());
}

TEST_CASE("a follower whose journal differs from the leader's stops replicating") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  {
    // n2's journal already holds another history (as after a tamper or a split brain).
    auto other = test::open_store(dir.sub("n2"));
    REQUIRE(other->append(test::random_events(24, 50)));
  }
  auto n1 = start(plan, dir, "n1");
  REQUIRE(!n1->append(test::random_events(25, 200)));
  auto n2 = start(plan, dir, "n2");
  CHECK(wait_until([&] { return n2->status().replication_stopped; }));
  auto s = n2->status();
  CHECK(s.head == seq_no{50});
  bool named = false;
  for (auto& p : s.peers)
    named |= p.node_id == "n1" && p.problem.find("INTEGRITY_VIOLATION") != std::string::npos;
  CHECK(named);
  CHECK(n2->head() == seq_no{50}); // nothing appended
}

TEST_CASE("a peer of another cluster or an unknown node is refused at the handshake") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1");
  REQUIRE(!n1->append(test::random_events(26, 10)));
  SUBCASE("another cluster id") {
    auto cfg = plan.config_of("n2");
    cfg.cluster_id = "other-cluster";
    cluster_node n2{dir.sub("n2"), cfg, plan.keys.at("n2"), plan.pubkeys};
    CHECK(wait_until([&] {
      auto s = n2.status();
      return s.peers[0].problem.find("belongs to cluster") != std::string::npos;
    }));
    CHECK(n2.head() == seq_no{0});
  }
  SUBCASE("a node id the leader does not know") {
    auto cfg = plan.config_of("n2");
    cfg.node_id = "intruder";
    cfg.listen_port = test::free_port();
    cluster_node n2{dir.sub("n2"), cfg, plan.keys.at("n2"), plan.pubkeys};
    CHECK(wait_until([&] {
      auto s = n2.status();
      return s.peers[0].problem.find("unknown node id") != std::string::npos;
    }));
    CHECK(n2.head() == seq_no{0});
  }
  CHECK(n1->head() == seq_no{10});
  CHECK(n1->status().writable); // the leader keeps serving
}
