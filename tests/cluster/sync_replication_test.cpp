// Synchronous replication over CAF remote actors on 127.0.0.1: with sync_followers = k
// the leader acknowledges an append only once k followers confirmed it durable (their
// pulls name their head and its chain), refuses routed writes while fewer are in step,
// and answers what it held UNAVAILABLE when it stops leading.

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/journal/journal.hpp"
#include "cluster/cluster_node.hpp"
#include "messages/commands.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"
#include "persistence/ed25519.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_plan;
using bulwark::test::start;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;

namespace {

void sync_one(cluster_config& cfg) {
  cfg.sync_followers = 1;
}

/// An append running on a thread of its own, so the test can look while it waits.
struct pending {
  std::atomic<bool> done{false};
  caf::expected<appended> result{appended{}};
  std::thread runner;

  pending(test::cluster_node& node, event ev) {
    runner = std::thread{[this, &node, ev]() mutable {
      result = node.append_acked({std::move(ev)}, std::chrono::seconds{60});
      done = true;
    }};
  }
  ~pending() {
    if (runner.joinable())
      runner.join();
  }
};

/// Pulls from `leader` as follower `node` would, naming `chain` as its chain at `from - 1`.
caf::expected<replica_batch> pull_as(test::cluster_node& leader, const std::string& node,
                                     seq_no from, const digest& chain) {
  caf::scoped_actor self{leader.system()};
  caf::expected<replica_batch> out{replica_batch{}};
  self->request(leader.actor(), std::chrono::seconds{10}, atom::pull_v, node, from, chain,
                uint32_t{100})
    .receive([&](replica_batch& b) { out = std::move(b); },
             [&](caf::error& err) { out = std::move(err); });
  return out;
}

peer_status peer_of(test::cluster_node& node, const std::string& id) {
  for (auto& p : node.status().peers)
    if (p.node_id == id)
      return p;
  FAIL("no peer " << id);
  return {};
}

/// n1 (the leader) dies; `n2` last heard of it at a head 50 records past what it holds
/// (records n1 never got acknowledged), delivered after its death so that no later head of
/// n1 replaces it.
void leader_dies_ahead(const cluster_plan& plan, std::unique_ptr<test::cluster_node>& n1,
                       test::cluster_node& n2) {
  signed_head h;
  h.node_id = "n1";
  h.term = 1;
  h.seq = seq_no{n1->head().value + 50};
  h.chain = n1->chain();
  h.at = caf::make_timestamp();
  REQUIRE(!sign_head(*plan.keys.at("n1"), h));
  n1.reset();
  REQUIRE(wait_until([&] { return !peer_of(n2, "n1").connected; }));
  n2.deliver_gossip(h);
  REQUIRE(wait_until([&] { return peer_of(n2, "n1").head == h.seq; }));
}

} // namespace

TEST_CASE("with sync_followers = 1 every acknowledged append is already durable on a follower") {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  auto n1 = start(plan, dir, "n1", sync_one);
  auto n2 = start(plan, dir, "n2");
  auto n3 = start(plan, dir, "n3");
  REQUIRE(wait_until([&] { return n1->status().writable; }));
  // Four appenders at once, so the leader's commits are groups and a follower's one pull
  // confirms several of them.
  std::atomic<int> acked{0}, failed{0}, early{0};
  std::vector<std::thread> appenders;
  for (int t = 0; t < 4; ++t)
    appenders.emplace_back([&, t] {
      auto events = test::random_events(100 + t, 100);
      for (auto& ev : events) {
        auto a = n1->append_acked({ev});
        if (!a) {
          ++failed;
          continue;
        }
        ++acked;
        // What the followers hold durably, read right after the acknowledgement.
        auto held = std::max(n2->store().head().value, n3->store().head().value);
        if (held < a->last.value)
          ++early;
      }
    });
  for (auto& t : appenders)
    t.join();
  CHECK(failed == 0);
  CHECK(acked == 400);
  CHECK(early == 0); // never acknowledged before a follower held it
  auto s = n1->status();
  CHECK(s.sync_followers == 1);
  CHECK(s.replicated.value >= 400);
  CHECK(std::max(peer_of(*n1, "n2").confirmed.value, peer_of(*n1, "n3").confirmed.value)
        == s.replicated.value);
  // Both followers end with the leader's journal.
  CHECK(wait_until([&] { return n2->head() == n1->head() && n3->head() == n1->head(); }));
  CHECK(n2->chain() == n1->chain());
}

TEST_CASE("a leader short of sync followers holds its acknowledgements, refuses routed writes, and a returning follower releases them") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1", sync_one);
  CHECK(!n1->status().writable);
  // Routed writes are refused with UNAVAILABLE and a retry hint, naming the setting.
  {
    caf::scoped_actor self{n1->system()};
    caf::error refused;
    self->request(n1->actor(), std::chrono::seconds{10}, atom::submit_v, proposal{})
      .receive([](outcome&) { FAIL("a write ran without its sync follower"); },
               [&](caf::error& err) { refused = std::move(err); });
    CHECK(describe(refused).code == ec::unavailable);
    CHECK(describe(refused).retry_after);
    CHECK(describe(refused).message.find("sync_followers 1") != std::string::npos);
  }
  // An append straight to the journal is committed here but not acknowledged.
  auto before = n1->head().value;
  pending p{*n1, test::random_events(7, 1)[0]};
  REQUIRE(wait_until([&] { return n1->head().value > before; }));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  CHECK(!p.done);
  auto n2 = start(plan, dir, "n2");
  REQUIRE(wait_until([&] { return p.done.load(); }));
  p.runner.join();
  REQUIRE_MESSAGE(p.result, describe(p.result.error()).message);
  CHECK(n2->store().head().value >= p.result->last.value);
  CHECK(wait_until([&] { return n1->status().writable; }));
}

TEST_CASE("a pull confirms only a head on the leader's chain: a diverged follower releases nothing") {
  temp_dir dir;
  auto plan = cluster_plan::make(2); // n2 never runs: the test pulls in its name
  auto n1 = start(plan, dir, "n1", sync_one);
  pending p{*n1, test::random_events(8, 1)[0]};
  REQUIRE(wait_until([&] { return n1->head().value >= 1; }));
  auto head = n1->head();
  // A follower with another chain at that seq: its pull at the head waits, then confirms
  // nothing.
  digest other = n1->chain();
  other.bytes[0] ^= 0xff;
  auto wrong = pull_as(*n1, "n2", seq_no{head.value + 1}, other);
  REQUIRE_MESSAGE(wrong, describe(wrong.error()).message);
  CHECK(peer_of(*n1, "n2").confirmed == seq_no{});
  CHECK(!p.done);
  // The same pull with the leader's own chain confirms the head: the append goes out.
  auto right = pull_as(*n1, "n2", seq_no{head.value + 1}, n1->chain());
  REQUIRE(right);
  REQUIRE(wait_until([&] { return p.done.load(); }));
  p.runner.join();
  REQUIRE(p.result);
  CHECK(peer_of(*n1, "n2").confirmed == head);
  CHECK(n1->status().replicated == head);
}

TEST_CASE("a leader that learns of a higher term answers its held acknowledgements UNAVAILABLE") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1", sync_one);
  auto before = n1->head().value;
  pending p{*n1, test::random_events(9, 1)[0]};
  REQUIRE(wait_until([&] { return n1->head().value > before; }));
  // n2 says it leads term 7: n1 steps down.
  caf::scoped_actor self{n1->system()};
  self->request(n1->actor(), std::chrono::seconds{10}, atom::hello_v,
                cluster_hello{cluster_protocol_version, plan.cluster_id, "n2", 7, "n2"})
    .receive([](cluster_hello&) {}, [](caf::error& err) { FAIL(describe(err).message); });
  REQUIRE(wait_until([&] { return p.done.load(); }));
  p.runner.join();
  REQUIRE(!p.result);
  CHECK(describe(p.result.error()).code == ec::unavailable);
  CHECK(describe(p.result.error()).message.find("stopped leading") != std::string::npos);
  auto s = n1->status();
  CHECK(s.role == "follower");
  CHECK(s.term == 7);
}

namespace {

/// Starts n1 (leading), n2 and n3 with sync_followers = 1, waits until n1 is linked to
/// both, appends `events` through n1 with its acknowledgement, and waits until every node
/// holds them.
appended three_in_step(const cluster_plan& plan, const temp_dir& dir,
                       std::unique_ptr<test::cluster_node>& n1, std::unique_ptr<test::cluster_node>& n2,
                       std::unique_ptr<test::cluster_node>& n3, std::vector<event> events) {
  n1 = start(plan, dir, "n1", sync_one);
  n2 = start(plan, dir, "n2", sync_one);
  n3 = start(plan, dir, "n3", sync_one);
  REQUIRE(wait_until([&] { return n1->status().writable; }));
  // The leader journals each peer's link coming up (`peer_changed`): once it sees both,
  // nothing it writes after the heads meet below can leave one follower ahead.
  REQUIRE(wait_until([&] {
    return peer_of(*n1, "n2").connected && peer_of(*n1, "n3").connected;
  }));
  auto acked = n1->append_acked(std::move(events));
  REQUIRE(acked);
  REQUIRE(wait_until([&] { return n2->head() == n1->head() && n3->head() == n1->head(); }));
  return *acked;
}

} // namespace

TEST_CASE("with sync_followers a dead leader's newer last head does not block the promotion of the follower that holds every acknowledged record") {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  std::unique_ptr<test::cluster_node> n1, n2, n3;
  auto acked = three_in_step(plan, dir, n1, n2, n3, test::random_events(11, 20));
  leader_dies_ahead(plan, n1, *n2);
  // n3 answers with its head: n2 and n3 are both followers of n1, and with
  // sync_followers = 1 one of them holds every acknowledged record.
  auto promoted = n2->promote(2);
  REQUIRE_MESSAGE(promoted, describe(promoted.error()).message);
  CHECK(*promoted == 2);
  CHECK(n2->head().value >= acked.last.value);
}

TEST_CASE("with sync_followers a promotion still refuses a silent peer's newer head when too few followers answer") {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  auto n1 = start(plan, dir, "n1", sync_one);
  auto n2 = start(plan, dir, "n2", sync_one);
  REQUIRE(wait_until([&] { return n1->status().writable; }));
  REQUIRE(wait_until([&] { return n2->head() == n1->head(); }));
  leader_dies_ahead(plan, n1, *n2);
  // n3 never ran: an acknowledged record might be on n3 alone.
  auto refused = n2->promote(2);
  REQUIRE(!refused);
  CHECK(describe(refused.error()).code == ec::unavailable);
  CHECK(describe(refused.error()).message.find("peer n1 has a newer head") != std::string::npos);
}

TEST_CASE("with sync_followers an operator's promotion refuses a silent follower whose last head is not newer when too few followers answer") {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  std::unique_ptr<test::cluster_node> n1, n2, n3;
  three_in_step(plan, dir, n1, n2, n3, test::random_events(12, 5));
  // n3 and then n1 stop: n2 last heard of both at its own head, but either may have
  // gone on (n3 may hold records acknowledged after n2 last heard of it).
  n3.reset();
  REQUIRE(wait_until([&] { return !peer_of(*n2, "n3").connected; }));
  n1.reset();
  REQUIRE(wait_until([&] { return !peer_of(*n2, "n1").connected; }));
  auto refused = n2->promote(2);
  REQUIRE(!refused);
  CHECK(describe(refused.error()).code == ec::unavailable);
  CHECK(describe(refused.error()).message.find("did not answer, and with sync_followers 1")
        != std::string::npos);
  CHECK(n2->status().role != "leader");
}

TEST_CASE("a leader's journal holds acknowledgements from the moment its role is set, before the cluster actor runs") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  for (uint32_t k : {0u, 1u}) {
    caf::actor_system_config cfg;
    register_types(cfg);
    caf::actor_system sys{cfg};
    store_options opts;
    opts.dir = dir.sub("j" + std::to_string(k));
    opts.create = true;
    auto opened = journal_store::open(opts);
    REQUIRE(opened);
    std::shared_ptr<journal_store> store = std::move(*opened);
    auto j = spawn_journal(sys, store, journal_settings{});
    REQUIRE(j);
    cluster_deps deps;
    deps.cfg = plan.config_of("n1");
    deps.cfg.sync_followers = k;
    deps.journal = *j;
    deps.store = store;
    REQUIRE(!prepare_cluster(sys, deps)); // no cluster actor is spawned
    caf::scoped_actor self{sys};
    bool acked = false;
    self->request(*j, std::chrono::milliseconds{300}, atom::append_v, test::random_events(12, 1))
      .receive([&](appended&) { acked = true; }, [](caf::error&) {});
    CHECK(store->head().value == 1); // committed here either way
    CHECK(acked == (k == 0));        // acknowledged only without sync followers
    caf::anon_send_exit(*j, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("a leader whose commit fails after its records went out stops writing and steps down, and a follower may hold them") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1", sync_one);
  auto n2 = start(plan, dir, "n2");
  REQUIRE(wait_until([&] { return n1->status().writable; }));
  REQUIRE(n1->append_acked(test::random_events(61, 1)));
  auto head = n1->store().head();
  n1->store().inject_write_failures(true); // the commit fails after the records are encoded
  auto failed = n1->append_acked(test::random_events(62, 1));
  REQUIRE(!failed);
  CHECK(describe(failed.error()).code == ec::audit_unavailable);
  CHECK(n1->store().head() == head);
  // The leader steps down on its next tick, and writes nothing more once its store works.
  CHECK(wait_until([&] { return n1->status().role != "leader"; }));
  // The follower may have taken the record before the commit failed (nobody was told it
  // was written), and nothing else.
  auto held = n2->store().head().value;
  CHECK((held == head.value || held == head.value + 1));
  n1->store().inject_write_failures(false);
  auto refused = n1->append_acked(test::random_events(63, 1));
  REQUIRE(!refused);
  CHECK(describe(refused.error()).code == ec::unavailable);
  CHECK(n1->store().head() == head);
}

TEST_CASE("a pull from before the leader's in-memory tail reads the store up to its own head, not into the transaction being committed") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1");
  REQUIRE(wait_until([&] { return n1->status().writable; }));
  REQUIRE(n1->append_acked(test::random_events(71, 10)));
  auto head = n1->head();
  // A transaction handed to the followers and still committing: in the tail only.
  std::vector<uint8_t> pending(64, 7);
  n1->tail().clear();
  n1->tail().add(seq_no{head.value + 1}, {pending});
  auto old = pull_as(*n1, "n2", seq_no{1}, digest{});
  REQUIRE_MESSAGE(old, describe(old.error()).message);
  CHECK(old->records.size() == head.value); // what the store holds, nothing missing
  CHECK(old->leader_head.value == head.value + 1);
  auto newest = pull_as(*n1, "n2", seq_no{head.value + 1}, n1->chain());
  REQUIRE(newest);
  REQUIRE(newest->records.size() == 1);
  CHECK(newest->records[0] == pending); // from the tail
}
