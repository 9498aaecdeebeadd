// Head gossip between nodes on 127.0.0.1: signed heads that agree pass, a forged head is
// refused, a fork is raised as INTEGRITY_VIOLATION naming both nodes and the seq (and
// journaled by the leader), and leadership terms only grow.

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cluster/cluster_node.hpp"
#include "messages/error.hpp"
#include "persistence/codec.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_node;
using bulwark::test::cluster_plan;
using bulwark::test::start;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;

namespace {

const peer_status& peer(const cluster_status& s, const std::string& id) {
  for (auto& p : s.peers)
    if (p.node_id == id)
      return p;
  FAIL("no peer " << id);
  return s.peers.front();
}

signed_head head_of(cluster_node& n, const std::string& id, const ed25519_key& key) {
  signed_head h;
  h.node_id = id;
  h.term = 1;
  h.seq = n.head();
  h.chain = n.chain();
  h.at = caf::make_timestamp();
  REQUIRE(!sign_head(key, h));
  return h;
}

} // namespace

TEST_CASE("gossiped heads of replicated nodes agree: no fork, no refusal") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1");
  auto n2 = start(plan, dir, "n2");
  REQUIRE(!n1->append(test::random_events(31, 500)));
  REQUIRE(wait_until([&] { return n2->head() == n1->head(); }));
  // Heads are gossiped every few ticks; both sides learn the other's head.
  CHECK(wait_until([&] { return peer(n1->status(), "n2").head == n1->head(); }));
  CHECK(wait_until([&] { return peer(n2->status(), "n1").head == n1->head(); }));
  auto s1 = n1->status();
  auto s2 = n2->status();
  CHECK(s1.forks == 0);
  CHECK(s2.forks == 0);
  CHECK(s1.refused_heads == 0);
  CHECK(s2.refused_heads == 0);
}

TEST_CASE("a forged head (bad signature, unknown signer) is refused and changes nothing") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  plan.nodes[1].port = 1; // n2 does not run: its heads are forged by hand
  auto n1 = start(plan, dir, "n1");
  REQUIRE(!n1->append(test::random_events(32, 50)));
  auto h = head_of(*n1, "n2", *plan.keys.at("n2"));
  h.chain.bytes[0] ^= 1; // claims another chain: a fork, if it were believed
  n1->deliver_gossip(h);
  CHECK(wait_until([&] { return n1->status().refused_heads == 1; }));
  // The peer's problem is its latest one: a failed reconnect to n2 (which does not run)
  // may replace the refusal's reason before it is read, so the head is sent again until
  // the reason is seen; every delivery is refused and counted.
  uint64_t sent = 1;
  CHECK(wait_until([&] {
    if (peer(n1->status(), "n2").problem.find("bad signature") != std::string::npos)
      return true;
    n1->deliver_gossip(h);
    ++sent;
    return false;
  }));
  CHECK(wait_until([&] { return n1->status().refused_heads == sent; }));
  // Signed with n1's key but claiming to be n2.
  auto wrong_key = head_of(*n1, "n2", *plan.keys.at("n1"));
  n1->deliver_gossip(wrong_key);
  CHECK(wait_until([&] { return n1->status().refused_heads == sent + 1; }));
  auto stranger = head_of(*n1, "n9", *plan.keys.at("n2"));
  n1->deliver_gossip(stranger);
  CHECK(wait_until([&] { return n1->status().refused_heads == sent + 2; }));
  auto s = n1->status();
  CHECK(s.forks == 0);
  CHECK(s.writable);
  CHECK(s.term == 1);
}

TEST_CASE("a fork (another chain at the same seq) is detected, named and journaled") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  {
    // n2 holds a different history of 100 records; n1 holds 300 of its own.
    auto other = test::open_store(dir.sub("n2"));
    REQUIRE(other->append(test::random_events(33, 100)));
  }
  auto n1 = start(plan, dir, "n1");
  REQUIRE(!n1->append(test::random_events(34, 300)));
  auto n2 = start(plan, dir, "n2");
  CHECK(wait_until([&] { return n1->status().forks >= 1; }));
  auto p = peer(n1->status(), "n2");
  CHECK(p.problem.find("INTEGRITY_VIOLATION") != std::string::npos);
  CHECK(p.problem.find("node n2") != std::string::npos);
  CHECK(p.problem.find("node n1") != std::string::npos);
  CHECK(p.problem.find("seq 100") != std::string::npos);
  CHECK(n2->head() == seq_no{100}); // the follower appended nothing of n1's
  CHECK(wait_until([&] { return n2->status().replication_stopped; }));
  // The leader journaled the alert, naming both nodes and the seq.
  CHECK(wait_until([&] {
    bool found = false;
    auto err = n1->store().read(seq_no{301}, n1->head(), [&](journal_entry&& e) {
      if (e.ev.type == event_type::integrity_alert) {
        integrity_alert a;
        REQUIRE(!decode(e.ev.payload, a));
        found |= a.local_node == "n1" && a.peer_node == "n2" && a.seq == seq_no{100}
                 && a.local_chain != a.peer_chain;
      }
      return true;
    });
    return !err && found;
  }));
  // The follower's own alert (the records did not link) cannot go into its journal, which
  // refuses local writes: it is visible in its status and the leader journals it.
  auto st2 = n2->status();
  CHECK(st2.alert.find("leader n1") != std::string::npos);
  CHECK(st2.forks >= 1);
  CHECK(wait_until([&] {
    bool found = false;
    auto err = n1->store().read(seq_no{301}, n1->head(), [&](journal_entry&& e) {
      if (e.ev.type == event_type::integrity_alert) {
        integrity_alert a;
        REQUIRE(!decode(e.ev.payload, a));
        found |= a.local_node == "n2" && a.peer_node == "n1" && a.seq == seq_no{101}
                 && a.reason.find("does not link") != std::string::npos;
      }
      return true;
    });
    return !err && found;
  }));
  CHECK(wait_until([&] { return n2->status().alerts_unreported == 0; }));
  CHECK(n2->head() == seq_no{100}); // still nothing appended
}

TEST_CASE("min_followers counts no diverged follower though it stays connected, and counts it again once it agrees") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  {
    // n2 holds a different history of 100 records.
    auto other = test::open_store(dir.sub("n2"));
    REQUIRE(other->append(test::random_events(35, 100)));
  }
  auto cfg = plan.config_of("n1");
  cfg.min_followers = 1;
  auto n1 = std::make_unique<cluster_node>(dir.sub("n1"), cfg, plan.keys.at("n1"), plan.pubkeys);
  REQUIRE(!n1->append(test::random_events(36, 300)));
  CHECK_FALSE(n1->status().writable); // nobody connected
  {
    auto n2 = start(plan, dir, "n2");
    CHECK(wait_until([&] { return n1->status().forks >= 1; }));
    CHECK(wait_until([&] { return peer(n1->status(), "n2").connected; }));
    for (int i = 0; i < 5; ++i) { // connected (and gossiping), but diverged
      CHECK_FALSE(n1->status().writable);
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }
  // n2 comes back with an empty journal: it catches up, its head agrees, it counts again.
  std::filesystem::remove_all(dir.sub("n2"));
  auto n2 = start(plan, dir, "n2");
  CHECK(wait_until([&] { return n2->head() == n1->head(); }));
  CHECK(wait_until([&] { return n1->status().writable; }));
}

TEST_CASE("cluster-promote compares the heads its connected peers give when asked, and the newest may promote") {
  temp_dir dir;
  auto plan = cluster_plan::make(3); // n1, the leader of term 1, never runs
  auto events = test::random_events(40, 200);
  {
    auto s2 = test::open_store(dir.sub("n2"));
    REQUIRE(s2->append(events));
    auto s3 = test::open_store(dir.sub("n3"));
    REQUIRE(s3->append(std::vector<event>(events.begin(), events.begin() + 100)));
  }
  auto n2 = start(plan, dir, "n2");
  auto n3 = start(plan, dir, "n3");
  REQUIRE(wait_until([&] { return peer(n3->status(), "n2").connected; }));
  auto refused = n3->promote(2);
  REQUIRE(!refused);
  auto why = describe(refused.error()).message;
  CHECK(why.find("peer n2 has a newer head (seq 200 > 100, as it answered just now)")
        != std::string::npos);
  CHECK(n3->status().role == "follower");
  auto promoted = n2->promote(2);
  REQUIRE(promoted);
  CHECK(*promoted == 2);
  CHECK(wait_until([&] { return n3->head() == n2->head(); })); // n3 follows n2 now
}

TEST_CASE("cluster-promote: terms only grow, and the old leader stops writing on the new term") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1");
  auto n2 = start(plan, dir, "n2");
  REQUIRE(!n1->append(test::random_events(35, 200)));
  // Both directions up, and n1's record of the link to n2 journaled (it follows the
  // connection; a promotion before it would fork n2 from n1 at that seq), so n1 journals
  // nothing more; then n2 holds all of n1's records.
  REQUIRE(wait_until([&] { return peer(n1->status(), "n2").connected; }));
  REQUIRE(wait_until([&] {
    bool up = false;
    auto err = n1->store().read(seq_no{1}, n1->head(), [&](journal_entry&& e) {
      peer_changed pc;
      up |= e.ev.type == event_type::peer_changed && !decode(e.ev.payload, pc)
            && pc.node_id == "n2" && pc.up;
      return true;
    });
    return !err && up;
  }));
  REQUIRE(wait_until([&] { return n2->head() == n1->head(); }));
  // n2 has heard n1's current head (gossip), so the promotion's "newest head" check is fair.
  REQUIRE(wait_until([&] { return peer(n2->status(), "n1").head == n1->head(); }));
  CHECK(is(n2->promote(1).error(), ec::invalid_input)); // not above the current term
  CHECK(is(n1->promote(5).error(), ec::invalid_input)); // already the leader
  auto t = n2->promote(2);
  REQUIRE_MESSAGE(t, describe(t.error()).message);
  CHECK(*t == 2);
  auto s2 = n2->status();
  CHECK(s2.role == "leader");
  CHECK(s2.term == 2);
  CHECK(!n2->append(test::random_events(36, 10)));
  // n1 hears of term 2 (gossip) and stops writing at once; then it follows n2.
  CHECK(wait_until([&] { return n1->status().role == "follower"; }));
  auto err = n1->append(test::random_events(37, 1));
  CHECK(is(err, ec::unavailable));
  CHECK(wait_until([&] { return n1->status().leader == "n2"; }));
  CHECK(wait_until([&] { return n1->head() == n2->head(); }));
  CHECK(n1->chain() == n2->chain());
  CHECK(n1->status().term == 2);
  // The promotion is journaled on the new leader and replicated to the old one.
  bool journaled = false;
  REQUIRE(!n1->store().read(seq_no{1}, n1->head(), [&](journal_entry&& e) {
    if (e.ev.type == event_type::leadership_changed) {
      leadership_changed lc;
      REQUIRE(!decode(e.ev.payload, lc));
      journaled |= lc.leader == "n2" && lc.term == 2 && lc.previous == "n1";
    }
    return true;
  }));
  CHECK(journaled);
}

TEST_CASE("a follower that sees a fork with another follower reports it and goes on replicating from its leader") {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  {
    // n3 holds a different history of 100 records (a deposed leader's unacknowledged tail).
    auto other = test::open_store(dir.sub("n3"));
    REQUIRE(other->append(test::random_events(37, 100)));
  }
  auto n1 = start(plan, dir, "n1");
  REQUIRE(!n1->append(test::random_events(38, 300)));
  auto n2 = start(plan, dir, "n2");
  auto n3 = start(plan, dir, "n3");
  CHECK(wait_until([&] { return n2->head().value >= 300; })); // and the alerts n1 journals
  CHECK(wait_until([&] { return n2->status().forks >= 1; }));
  auto p = peer(n2->status(), "n3");
  CHECK(p.problem.find("INTEGRITY_VIOLATION fork") == 0);
  // n2's journal links with its leader's: it stays in step; n3's replication stops.
  CHECK_FALSE(n2->status().replication_stopped);
  CHECK(wait_until([&] { return n3->status().replication_stopped; }));
  REQUIRE(!n1->append(test::random_events(39, 10)));
  CHECK(wait_until([&] { return n2->head() == n1->head(); }));
  CHECK(n3->head() == seq_no{100});
}
