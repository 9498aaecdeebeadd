// The journal actor: group commit, acknowledgement after durability, subscriptions,
// write failures, under CAF's deterministic scheduler and under real concurrency.

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "caf/event_based_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/journal/journal.hpp"
#include "messages/error.hpp"
#include "messages/state.hpp"
#include "persistence/make_event.hpp"
#include "persistence/replay.hpp"
#include "support/fixture.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using bulwark::test::temp_dir;

namespace {

struct journal_fixture : test::deterministic_fixture {
  temp_dir dir;
  std::shared_ptr<journal_store> store;
  journal_actor aut;
  std::shared_ptr<append_meter> meter = std::make_shared<append_meter>();
  std::shared_ptr<replica_tail> tail = std::make_shared<replica_tail>();

  journal_fixture() {
    store = std::shared_ptr<journal_store>{test::open_store(dir.path())};
    journal_settings settings{100};
    settings.meter = meter;
    settings.tail = tail;
    auto j = spawn_journal(sys, store, settings, true);
    REQUIRE(j);
    aut = *j;
    run();
  }

  ~journal_fixture() {
    self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  /// Durable transactions the journal has acknowledged appends from.
  uint64_t commits() {
    return meter->summarize(sys.clock().now()).commits_total;
  }

  /// Takes the replicator's notice of a commit (self is the replicator) and returns its seq.
  seq_no take_notice() {
    seq_no out;
    self->receive([&](atom::committed, seq_no s) { out = s; },
                  caf::after(0s) >> [] { FAIL("the replicator heard of no commit"); });
    return out;
  }

  /// Takes one answer that must be an error (an acknowledgement fails the test).
  caf::error take_error() {
    caf::error err;
    self->receive([](const appended&) { FAIL("acknowledged without the followers"); },
                  [&](caf::error& e) { err = std::move(e); },
                  caf::after(0s) >> [] { FAIL("no answer: the caller would wait forever"); });
    return err;
  }

  /// Makes the journal hold acknowledgements for the followers (self hears of the commits),
  /// then queues `n` appends and commits them, taking the commit's notice.
  void commit_held(size_t n, uint64_t seed) {
    self->send(aut, atom::replicate_v, true);
    run();
    for (auto& ev : test::random_events(seed, n))
      self->send(aut, atom::append_v, ev);
    run();
    take_notice();
  }

  /// Takes `n` acknowledgements, in the order they came.
  std::vector<appended> take_acks(size_t n) {
    std::vector<appended> acks;
    for (size_t i = 0; i < n; ++i)
      self->receive([&](const appended& a) { acks.push_back(a); },
                    [](const caf::error& err) { FAIL(caf::to_string(err)); },
                    caf::after(0s) >> [] { FAIL("no reply"); });
    return acks;
  }
};

/// Collects committed entries.
struct collector_state {
  std::vector<journal_entry>* out;
  static inline const char* name = "collector";
};

subscriber_actor::behavior_type collector(subscriber_actor::stateful_pointer<collector_state> self,
                                          std::vector<journal_entry>* out) {
  self->state.out = out;
  return {
    [self](atom::committed, std::vector<journal_entry>& entries) {
      for (auto& e : entries)
        self->state.out->push_back(std::move(e));
    },
  };
}

} // namespace

TEST_CASE_FIXTURE(journal_fixture, "appends queued before a commit share one transaction") {
  auto events = test::random_events(1, 10);
  for (auto& ev : events)
    self->send(aut, atom::append_v, ev);
  // Nothing is acknowledged before the commit runs.
  CHECK(store->head() == seq_no{0});
  run();
  auto acks = take_acks(10);
  for (size_t i = 0; i < acks.size(); ++i) {
    CHECK(acks[i].first == seq_no{i + 1});
    CHECK(acks[i].last == seq_no{i + 1});
  }
  CHECK(store->head() == seq_no{10});
  CHECK(acks.back().chain == store->head_chain());
}

TEST_CASE_FIXTURE(journal_fixture, "appends queued behind the scheduled commit join its transaction") {
  auto events = test::random_events(11, 3);
  self->send(aut, atom::append_v, events[0]);
  REQUIRE(sched.try_run_once()); // the first append schedules the commit behind it
  self->send(aut, atom::append_v, events[1]);
  self->send(aut, atom::append_v, events[2]);
  run();
  auto acks = take_acks(3);
  for (size_t i = 0; i < acks.size(); ++i)
    CHECK(acks[i].first == seq_no{i + 1});
  CHECK(store->head() == seq_no{3});
  CHECK(commits() == 1); // the commit waited for the two queued behind it
}

TEST_CASE_FIXTURE(journal_fixture, "a commit yields to messages behind it a bounded number of times") {
  constexpr int bound = journal_state::max_commit_deferrals;
  auto events = test::random_events(12, bound + 2);
  self->send(aut, atom::append_v, events[0]);
  REQUIRE(sched.try_run_once());
  for (int i = 1; i <= bound; ++i) {
    self->send(aut, atom::append_v, events[i]);
    REQUIRE(sched.try_run_once()); // the commit goes behind the append just queued
    CHECK(store->head() == seq_no{0});
    REQUIRE(sched.try_run_once()); // which joins its transaction
  }
  // An append is queued again, but the commit has yielded `bound` times: it runs now.
  self->send(aut, atom::append_v, events[bound + 1]);
  REQUIRE(sched.try_run_once());
  CHECK(store->head() == seq_no{uint64_t(bound) + 1});
  CHECK(commits() == 1);
  run(); // the last append gets a transaction of its own
  CHECK(store->head() == seq_no{uint64_t(bound) + 2});
  CHECK(commits() == 2);
  auto acks = take_acks(size_t(bound) + 2);
  for (size_t i = 0; i < acks.size(); ++i)
    CHECK(acks[i].last == seq_no{i + 1});
  CHECK(acks.back().chain == store->head_chain());
}

TEST_CASE_FIXTURE(journal_fixture, "a batch append is all-or-nothing and reports its range") {
  auto events = test::random_events(2, 25);
  self->send(aut, atom::append_v, std::vector<event>(events.begin(), events.begin() + 5));
  self->send(aut, atom::append_v, std::vector<event>(events.begin() + 5, events.end()));
  run();
  appended a1, a2;
  self->receive([&](const appended& a) { a1 = a; }, caf::after(0s) >> [] { FAIL("no reply"); });
  self->receive([&](const appended& a) { a2 = a; }, caf::after(0s) >> [] { FAIL("no reply"); });
  CHECK(a1.first == seq_no{1});
  CHECK(a1.last == seq_no{5});
  CHECK(a2.first == seq_no{6});
  CHECK(a2.last == seq_no{25});
}

TEST_CASE_FIXTURE(journal_fixture, "subscribers get every committed entry once, in order") {
  auto events = test::random_events(3, 40);
  self->send(aut, atom::append_v, std::vector<event>(events.begin(), events.begin() + 15));
  run();
  self->receive([](const appended&) {}, caf::after(0s) >> [] { FAIL("no reply"); });
  std::vector<journal_entry> seen;
  auto sub = sys.spawn(collector, &seen);
  self->send(aut, atom::subscribe_v, sub, seq_no{0}); // catch up from genesis
  run();
  for (size_t i = 15; i < 40; ++i)
    self->send(aut, atom::append_v, events[i]);
  run();
  REQUIRE(seen.size() == 40);
  for (size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].seq == seq_no{i + 1});
    CHECK(seen[i].ev.payload == events[i].payload);
  }
  self->send_exit(sub, caf::exit_reason::user_shutdown);
  run();
}

TEST_CASE_FIXTURE(journal_fixture, "state, head, read and verify answer from the journal") {
  auto events = test::random_events(4, 120);
  self->send(aut, atom::append_v, events);
  run();
  self->receive([](const appended&) {}, caf::after(0s) >> [] { FAIL("no reply"); });
  self->send(aut, atom::state_v);
  self->send(aut, atom::head_v);
  self->send(aut, atom::read_v, seq_no{10}, seq_no{19}, uint32_t{100});
  self->send(aut, atom::verify_v);
  run();
  self->receive([&](const fleet_state& st) { CHECK(st.seq == 120); },
                caf::after(0s) >> [] { FAIL("no state"); });
  self->receive([&](seq_no s, const digest& d) {
    CHECK(s == seq_no{120});
    CHECK(d == store->head_chain());
  }, caf::after(0s) >> [] { FAIL("no head"); });
  self->receive([&](const std::vector<journal_entry>& es) {
    REQUIRE(es.size() == 10);
    CHECK(es.front().seq == seq_no{10});
  }, caf::after(0s) >> [] { FAIL("no read"); });
  self->receive([&](const verify_report& r) { CHECK(r.ok); CHECK(r.checked == 120); },
                caf::after(0s) >> [] { FAIL("no verify"); });
  // The snapshot interval (100) was crossed: one snapshot exists and replays equal.
  auto snaps = store->snapshots();
  REQUIRE(snaps);
  CHECK(snaps->size() == 1);
  auto r = replay(*store);
  REQUIRE(r);
  CHECK(r->snapshot);
}

TEST_CASE_FIXTURE(journal_fixture, "a failed write answers every waiting appender with the error") {
  auto events = test::random_events(5, 3);
  self->send(aut, atom::append_v, events[0]);
  run();
  self->receive([](const appended&) {}, caf::after(0s) >> [] { FAIL("no reply"); });
  // Alter the stored tail behind the writer's back: verify-before-write refuses.
  test::tamper_value(dir.path(), 1, [](std::vector<uint8_t>& v) { v[0] ^= 1; });
  self->send(aut, atom::append_v, events[1]);
  self->send(aut, atom::append_v, events[2]);
  run();
  int refused = 0;
  for (int i = 0; i < 2; ++i)
    self->receive([](const appended&) { FAIL("acknowledged"); },
                  [&](const caf::error& err) {
                    CHECK(code_of(err) == ec::integrity_violation);
                    ++refused;
                  },
                  caf::after(0s) >> [] { FAIL("no reply"); });
  CHECK(refused == 2);
  // Reads still work.
  self->send(aut, atom::head_v);
  run();
  self->receive([](seq_no s, const digest&) { CHECK(s == seq_no{1}); },
                caf::after(0s) >> [] { FAIL("no head"); });
}

TEST_CASE("many concurrent appenders: each acknowledged event is present once, in order") {
  temp_dir dir;
  caf::actor_system_config cfg;
  register_types(cfg);
  caf::actor_system sys{cfg};
  auto store = std::shared_ptr<journal_store>{test::open_store(dir.path())};
  auto j = spawn_journal(sys, store, journal_settings{1000});
  REQUIRE(j);
  constexpr int appenders = 32;
  constexpr int per = 200;
  std::vector<std::thread> threads;
  std::atomic<int> acked{0};
  std::vector<std::vector<uint64_t>> seqs(appenders);
  for (int a = 0; a < appenders; ++a)
    threads.emplace_back([&, a] {
      caf::scoped_actor self{sys};
      auto events = test::random_events(1000 + a, per);
      for (int i = 0; i < per; ++i)
        self->request(*j, caf::infinite, atom::append_v, events[i])
          .receive([&](const appended& ack) {
                     seqs[a].push_back(ack.first.value);
                     ++acked;
                   },
                   [&](const caf::error&) {});
    });
  for (auto& t : threads)
    t.join();
  CHECK(acked == appenders * per);
  CHECK(store->head() == seq_no{appenders * per});
  // Each appender's events got increasing seqs; all seqs are distinct.
  std::vector<uint64_t> all;
  for (auto& s : seqs) {
    CHECK(std::is_sorted(s.begin(), s.end()));
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(store->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
  caf::anon_send_exit(*j, caf::exit_reason::user_shutdown);
}

TEST_CASE("a detached journal encodes its snapshots off its thread, and each replays exactly") {
  temp_dir dir;
  caf::actor_system_config cfg;
  register_types(cfg);
  auto store = std::shared_ptr<journal_store>{test::open_store(dir.path())};
  {
    caf::actor_system sys{cfg};
    journal_settings settings{100};
    REQUIRE(settings.background_snapshots);
    auto j = spawn_journal(sys, store, settings);
    REQUIRE(j);
    caf::scoped_actor self{sys};
    auto events = test::random_events(77, 450);
    size_t acked = 0;
    for (auto& ev : events)
      self->request(*j, caf::infinite, atom::append_v, ev)
        .receive([&](const appended&) { ++acked; }, [&](const caf::error& err) {
          FAIL("append refused: " << describe(err).message);
        });
    CHECK(acked == events.size());
    // The encoder stores its snapshot through the journal's thread when done: wait for
    // the first one (bounded), then stop the system, which waits for any encoder.
    for (int i = 0; i < 20000; ++i) {
      auto snaps = store->snapshots();
      REQUIRE(snaps);
      if (!snaps->empty())
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    caf::anon_send_exit(*j, caf::exit_reason::user_shutdown);
  }
  auto snaps = store->snapshots();
  REQUIRE(snaps);
  REQUIRE(!snaps->empty());
  CHECK(snaps->size() <= 4); // at most one per interval of 100 events
  uint64_t prev = 0;
  for (auto s : *snaps) {
    CHECK(s.value >= prev + 100); // never two within one interval
    prev = s.value;
    replay_options with, without;
    with.to = without.to = s;
    without.use_snapshot = false;
    auto a = replay(*store, with);
    auto b = replay(*store, without);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(a->snapshot);
    CHECK(*a->snapshot == s); // started from this very snapshot
    CHECK(a->state_digest == b->state_digest);
    // The stored bytes are those the journal's thread would have written itself.
    auto chain = store->chain_at(s);
    REQUIRE(chain);
    auto loaded = store->load_snapshot(s);
    REQUIRE(loaded);
    REQUIRE(*loaded);
    CHECK(journal_store::encode_snapshot((*loaded)->state, *chain)
          == journal_store::encode_snapshot(b->proj.state(), *chain));
  }
}

TEST_CASE_FIXTURE(journal_fixture, "snapshots are spaced by their size: the next waits for 4x its bytes of payloads") {
  auto events = test::random_events(9, 3000);
  size_t n = 0;
  auto append_one = [&] {
    self->send(aut, atom::append_v, events[n++]);
    run();
    self->receive([](const appended&) {}, caf::after(0s) >> [] { FAIL("no reply"); });
  };
  while (n < 100)
    append_one();
  auto snaps = store->snapshots();
  REQUIRE(snaps);
  REQUIRE(snaps->size() == 1);
  CHECK(snaps->front() == seq_no{100});
  auto chain = store->chain_at(seq_no{100});
  auto first = store->load_snapshot(seq_no{100});
  REQUIRE(chain);
  REQUIRE(first);
  REQUIRE(*first);
  auto size = journal_store::encode_snapshot((*first)->state, *chain).size();
  // The second is due at the first seq at least 100 on whose payloads since seq 100 add
  // up to snapshot_growth times the first one's size.
  uint64_t sum = 0, due = 0;
  for (uint64_t s = 101; s <= events.size() && due == 0; ++s) {
    sum += events[s - 1].payload.size();
    if (s >= 200 && sum >= snapshot_growth * size)
      due = s;
  }
  REQUIRE(due > 0);
  REQUIRE(due > 200); // the size decides here, not the count (else this shows nothing)
  while (n < due - 1)
    append_one();
  snaps = store->snapshots();
  REQUIRE(snaps);
  CHECK(snaps->size() == 1);
  append_one();
  snaps = store->snapshots();
  REQUIRE(snaps);
  REQUIRE(snaps->size() == 2);
  CHECK(snaps->back() == seq_no{due});
}

TEST_CASE_FIXTURE(journal_fixture, "a journal killed before its commit answers every waiting append AUDIT_UNAVAILABLE") {
  auto events = test::random_events(31, 1);
  self->send(aut, atom::append_v, events[0]);
  REQUIRE(sched.try_run_once()); // queued for the next transaction, its commit scheduled
  self->send_exit(aut, caf::exit_reason::kill);
  run();
  caf::error err;
  self->receive([&](const appended&) { FAIL("acknowledged without a commit"); },
                [&](caf::error& e) { err = std::move(e); },
                caf::after(0s) >> [] { FAIL("no answer: the caller would wait forever"); });
  CHECK(describe(err).code == ec::audit_unavailable);
  CHECK(store->head() == seq_no{0}); // nothing of it is in the journal
}

TEST_CASE_FIXTURE(test::deterministic_fixture, "a restarted journal keeps its subscribers and its writable flag") {
  temp_dir dir;
  auto store = std::shared_ptr<journal_store>{test::open_store(dir.path())};
  journal_settings settings{100};
  settings.memory = std::make_shared<journal_memory>();
  auto first = spawn_journal(sys, store, settings, true);
  REQUIRE(first);
  std::vector<journal_entry> seen;
  auto sub = sys.spawn(collector, &seen);
  self->send(*first, atom::subscribe_v, sub, seq_no{0});
  self->send(*first, atom::writable_v, false);
  run();
  self->receive([](bool) {}, caf::after(0s) >> [] { FAIL("no reply"); });
  self->send_exit(*first, caf::exit_reason::kill);
  run();
  auto second = spawn_journal(sys, store, settings, true);
  REQUIRE(second);
  run();
  // Still a follower: a local append is refused.
  self->send(*second, atom::append_v, test::random_events(32, 1)[0]);
  run();
  caf::error refused;
  self->receive([](const appended&) { FAIL("a follower appended"); },
                [&](caf::error& e) { refused = std::move(e); },
                caf::after(0s) >> [] { FAIL("no answer"); });
  CHECK(describe(refused).code == ec::unavailable);
  self->send(*second, atom::writable_v, true);
  run();
  self->receive([](bool) {}, caf::after(0s) >> [] { FAIL("no reply"); });
  self->send(*second, atom::append_v, test::random_events(33, 2));
  run();
  self->receive([](const appended&) {}, caf::after(0s) >> [] { FAIL("no ack"); });
  REQUIRE(seen.size() == 2); // the subscriber of the dead journal hears of the new commit
  CHECK(seen[0].seq == seq_no{1});
  CHECK(seen[1].seq == seq_no{2});
  self->send_exit(*second, caf::exit_reason::user_shutdown);
  self->send_exit(sub, caf::exit_reason::user_shutdown);
  run();
}

namespace {

event registration_of(const std::string& resource) {
  return make_event(event_type::resource_registered,
                    caf::timestamp{std::chrono::seconds{1'700'000'000}},
                    resource_registered{resource_id{resource}, "gates", "north", {}});
}

} // namespace

TEST_CASE_FIXTURE(test::deterministic_fixture, "the committed view holds a commit before its acknowledgement, and a restarted journal fills the same view") {
  temp_dir dir;
  auto store = std::shared_ptr<journal_store>{test::open_store(dir.path())};
  journal_settings settings{100};
  settings.view = std::make_shared<committed_view>();
  auto view = settings.view;
  auto first = spawn_journal(sys, store, settings, true);
  REQUIRE(first);
  run();
  CHECK(view->read().state().seq == 0);
  self->send(*first, atom::append_v, registration_of("gates-north-01"));
  run();
  self->receive(
    [&](const appended& ack) {
      // The answer is out: the view has the record it acknowledges.
      auto fleet = view->read();
      CHECK(fleet.state().seq == ack.last.value);
      CHECK(fleet.state().resources.count("gates-north-01") == 1);
    },
    caf::after(0s) >> [] { FAIL("no ack"); });
  self->send_exit(*first, caf::exit_reason::kill);
  run();
  // The view outlives its journal; the next one puts the store's state in it and goes on.
  CHECK(view->read().state().seq == 1);
  auto second = spawn_journal(sys, store, settings, true);
  REQUIRE(second);
  run();
  self->send(*second, atom::append_v, registration_of("gates-north-02"));
  run();
  self->receive([](const appended&) {}, caf::after(0s) >> [] { FAIL("no ack"); });
  {
    auto fleet = view->read();
    CHECK(fleet.state().seq == 2);
    CHECK(fleet.state().resources.size() == 2);
  }
  self->send_exit(*second, caf::exit_reason::user_shutdown);
  run();
}

TEST_CASE("the committed view's writer waits for its readers, and readers see whole commits") {
  committed_view view;
  std::atomic<bool> written{false};
  std::thread writer;
  {
    auto fleet = view.read();
    writer = std::thread{[&] {
      view.write([](projection& p) {
        CHECK(!p.apply(seq_no{1}, registration_of("gates-north-01")));
        CHECK(!p.apply(seq_no{2}, registration_of("gates-north-02")));
      });
      written = true;
    }};
    std::this_thread::sleep_for(50ms);
    // Held: the writer cannot have changed what this reader reads.
    CHECK_FALSE(written.load());
    CHECK(fleet.state().seq == 0);
    CHECK(fleet.state().resources.empty());
  }
  writer.join();
  CHECK(written.load());
  auto fleet = view.read();
  CHECK(fleet.state().seq == 2); // both records of the one write, never one alone
  CHECK(fleet.state().resources.size() == 2);
}

TEST_CASE_FIXTURE(journal_fixture, "under synchronous replication an append is acknowledged once the watermark covers its transaction") {
  self->send(aut, atom::replicate_v, true); // self is the replicator: it hears of commits
  run();
  auto events = test::random_events(41, 3);
  for (auto& ev : events)
    self->send(aut, atom::append_v, ev);
  run();
  CHECK(store->head() == seq_no{3}); // committed (durable here) ...
  CHECK(take_notice() == seq_no{3});
  // ... but not acknowledged: no follower holds it yet.
  self->receive([](const appended&) { FAIL("acknowledged before the followers held it"); },
                [](const caf::error& err) { FAIL(caf::to_string(err)); },
                caf::after(0s) >> [] {});
  // A watermark inside the transaction releases nothing of it.
  self->send(aut, atom::replicated_v, seq_no{2});
  run();
  self->receive([](const appended&) { FAIL("acknowledged before its last record was held"); },
                caf::after(0s) >> [] {});
  self->send(aut, atom::replicated_v, seq_no{3});
  run();
  auto acks = take_acks(3);
  CHECK(acks[0].first == seq_no{1});
  CHECK(acks[2].last == seq_no{3});
  // A watermark already past a later commit releases it at once.
  self->send(aut, atom::replicated_v, seq_no{4});
  self->send(aut, atom::append_v, test::random_events(42, 1)[0]);
  run();
  take_notice();
  CHECK(take_acks(1)[0].first == seq_no{4});
}

TEST_CASE_FIXTURE(journal_fixture, "a journal that stops leading answers its held acknowledgements UNAVAILABLE and keeps the records") {
  commit_held(2, 43);
  self->send(aut, atom::writable_v, false);
  run();
  for (int i = 0; i < 2; ++i) {
    auto err = take_error();
    CHECK(describe(err).code == ec::unavailable);
    CHECK(describe(err).message.find("not confirmed by the sync followers") != std::string::npos);
  }
  self->receive([](bool on) { CHECK(!on); }, caf::after(0s) >> [] { FAIL("no reply"); });
  CHECK(store->head() == seq_no{2}); // in this node's journal, for an operator to settle
  // Leading again without holding: acknowledgements go out at once.
  self->send(aut, atom::writable_v, true);
  self->send(aut, atom::replicate_v, false);
  run();
  self->receive([](bool) {}, caf::after(0s) >> [] { FAIL("no reply"); });
  self->send(aut, atom::append_v, test::random_events(44, 1)[0]);
  run();
  take_notice();
  CHECK(take_acks(1)[0].first == seq_no{3});
}

TEST_CASE_FIXTURE(journal_fixture, "a journal killed while holding acknowledgements answers them UNAVAILABLE") {
  commit_held(1, 45);
  self->send_exit(aut, caf::exit_reason::kill);
  run();
  CHECK(describe(take_error()).code == ec::unavailable);
  CHECK(store->head() == seq_no{1});
}

TEST_CASE("a snapshot encoder that dies is forgotten by its journal, and the next snapshot due is taken") {
  temp_dir dir;
  caf::actor_system_config cfg;
  register_types(cfg);
  auto store = std::shared_ptr<journal_store>{test::open_store(dir.path())};
  auto calls = std::make_shared<std::atomic<int>>(0);
  {
    caf::actor_system sys{cfg};
    journal_settings settings{100};
    // The first encoding fails (as an encoder that runs out of memory would); the rest work.
    settings.encode = [calls](const fleet_state& s, const digest& chain) {
      if (calls->fetch_add(1) == 0)
        throw std::runtime_error("encoder broke");
      return journal_store::encode_snapshot(s, chain);
    };
    auto j = spawn_journal(sys, store, settings);
    REQUIRE(j);
    caf::scoped_actor self{sys};
    auto events = test::random_events(78, 450);
    for (auto& ev : events)
      self->request(*j, caf::infinite, atom::append_v, ev)
        .receive([](const appended&) {}, [](const caf::error& err) {
          FAIL("append refused: " << describe(err).message);
        });
    for (int i = 0; i < 20000; ++i) {
      auto snaps = store->snapshots();
      REQUIRE(snaps);
      if (!snaps->empty())
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    caf::anon_send_exit(*j, caf::exit_reason::user_shutdown);
  }
  CHECK(calls->load() >= 2); // the failed encoding did not stop the later ones
  auto snaps = store->snapshots();
  REQUIRE(snaps);
  REQUIRE(!snaps->empty());
  CHECK(snaps->front().value >= 200); // none from the failed encoding at about seq 100
  replay_options with, without;
  with.to = without.to = snaps->front();
  without.use_snapshot = false;
  auto a = replay(*store, with);
  auto b = replay(*store, without);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->state_digest == b->state_digest);
}

TEST_CASE_FIXTURE(journal_fixture, "a fenced journal writes nothing from its lease's deadline on, appends queued before it included") {
  auto in = [](std::chrono::seconds d) {
    auto at = std::chrono::steady_clock::now().time_since_epoch() + d;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at).count();
  };
  auto events = test::random_events(61, 5);
  self->send(aut, atom::fence_v, in(std::chrono::seconds{3600}));
  self->send(aut, atom::append_v, events[0]);
  run();
  CHECK(take_acks(1)[0].first == seq_no{1});
  // Queued while the lease held, committed after its deadline: refused where the write
  // lands, and nothing written.
  self->send(aut, atom::append_v, events[1]);
  self->send(aut, atom::append_v, events[2]);
  self->send(aut, atom::fence_v, int64_t{1});
  run();
  for (int i = 0; i < 2; ++i) {
    auto err = take_error();
    CHECK(describe(err).code == ec::unavailable);
    CHECK(describe(err).message.find("lease as leader may have lapsed") != std::string::npos);
  }
  CHECK(store->head() == seq_no{1});
  // Arriving after the deadline: refused at once.
  self->send(aut, atom::append_v, events[3]);
  run();
  CHECK(describe(take_error()).code == ec::unavailable);
  // A renewal moves the deadline: it writes again.
  self->send(aut, atom::fence_v, in(std::chrono::seconds{3600}));
  self->send(aut, atom::append_v, events[4]);
  run();
  CHECK(take_acks(1)[0].first == seq_no{2});
  CHECK(store->head() == seq_no{2});
}

TEST_CASE_FIXTURE(journal_fixture, "a leader's journal hands a transaction's records to its replicator's tail as stored") {
  commit_held(3, 51);
  CHECK(tail->head() == seq_no{3});
  std::vector<std::vector<uint8_t>> records;
  REQUIRE(tail->read(seq_no{2}, 10, 1 << 20, records));
  REQUIRE(records.size() == 2);
  // Byte for byte what the store holds: chain || record.
  std::vector<std::vector<uint8_t>> stored;
  REQUIRE(!store->scan(seq_no{2}, seq_no{3},
                       [&](seq_no, const uint8_t* chain, const uint8_t* data, size_t size) {
                         std::vector<uint8_t> v(chain, chain + 32);
                         v.insert(v.end(), data, data + size);
                         stored.push_back(std::move(v));
                         return true;
                       }));
  CHECK(records == stored);
  CHECK(*tail->chain_at(seq_no{3}) == *store->chain_at(seq_no{3}));
  CHECK(!tail->take_withdrawn());
}

TEST_CASE_FIXTURE(journal_fixture, "a commit that fails after its records went to the followers stops the journal writing") {
  commit_held(2, 52); // seqs 1-2, held for the followers
  store->inject_write_failures(true);
  self->send(aut, atom::append_v, test::random_events(53, 1)[0]);
  run();
  // The replicator heard of seq 3 before the commit failed: a follower may take it.
  CHECK(take_notice() == seq_no{3});
  CHECK(store->head() == seq_no{2});
  CHECK(tail->head() == seq_no{2}); // withdrawn
  CHECK(tail->take_withdrawn());
  // The failed append, then the two held ones, answered with errors.
  CHECK(describe(take_error()).code == ec::audit_unavailable);
  for (int i = 0; i < 2; ++i)
    CHECK(describe(take_error()).message.find("commit failed") != std::string::npos);
  // Nothing more is written, even once the store works again: seq 3 may be a follower's.
  store->inject_write_failures(false);
  self->send(aut, atom::append_v, test::random_events(54, 1)[0]);
  run();
  CHECK(describe(take_error()).code == ec::unavailable);
  CHECK(store->head() == seq_no{2});
}

TEST_CASE_FIXTURE(journal_fixture, "a journal that is not replicating keeps writing after a failed commit") {
  store->inject_write_failures(true);
  self->send(aut, atom::append_v, test::random_events(55, 1)[0]);
  run();
  CHECK(describe(take_error()).code == ec::audit_unavailable);
  store->inject_write_failures(false);
  self->send(aut, atom::append_v, test::random_events(56, 1)[0]);
  run();
  CHECK(take_acks(1)[0].first == seq_no{1});
  CHECK(tail->head() == seq_no{}); // no replicator: nothing handed out
}

TEST_CASE("a replica tail serves what it holds, trims the oldest, and withdraws what failed") {
  auto rec = [](uint8_t tag, size_t size) {
    std::vector<uint8_t> r(size, tag);
    return r;
  };
  replica_tail t{100};
  std::vector<std::vector<uint8_t>> out;
  CHECK(!t.read(seq_no{1}, 10, 1000, out)); // empty
  t.add(seq_no{1}, {rec(1, 40), rec(2, 40)});
  t.add(seq_no{3}, {rec(3, 40)}); // 120 bytes: seq 1 is trimmed
  CHECK(t.head() == seq_no{3});
  CHECK(!t.read(seq_no{1}, 10, 1000, out));
  REQUIRE(t.read(seq_no{2}, 10, 1000, out));
  REQUIRE(out.size() == 2);
  CHECK(out[0][0] == 2);
  CHECK(out[1][0] == 3);
  out.clear();
  REQUIRE(t.read(seq_no{2}, 1, 1000, out)); // at most `max` records
  CHECK(out.size() == 1);
  CHECK(!t.read(seq_no{4}, 10, 1000, out)); // past the head
  CHECK((*t.chain_at(seq_no{3})).bytes[0] == 3);
  CHECK(!t.chain_at(seq_no{1}));
  // The newest transaction is kept whole, whatever its size.
  t.add(seq_no{4}, {rec(4, 90), rec(5, 90)});
  CHECK(!t.chain_at(seq_no{3}));
  CHECK(t.chain_at(seq_no{4}));
  CHECK(!t.take_withdrawn());
  // A failed commit withdraws its records.
  t.withdraw(seq_no{5});
  CHECK(t.head() == seq_no{4});
  CHECK(t.take_withdrawn());
  CHECK(!t.take_withdrawn()); // taken once
  // Records that would replace held ones (a restarted journal) withdraw them too.
  t.add(seq_no{4}, {rec(9, 40)});
  CHECK(t.take_withdrawn());
  CHECK((*t.chain_at(seq_no{4})).bytes[0] == 9);
  // A gap restarts the tail; clear forgets everything.
  t.add(seq_no{10}, {rec(10, 10)});
  CHECK(!t.chain_at(seq_no{4}));
  CHECK(t.head() == seq_no{10});
  t.clear();
  CHECK(t.head() == seq_no{});
}
