// The console access trail of a cluster: a follower's console accesses are journaled
// by the leader (the follower's journal refuses local writes), in order, under the
// follower's id, kept while the leader is unreachable; the leader refuses what no console
// of a configured peer could have written.

#include <doctest/doctest.h>

#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "cluster/cluster_node.hpp"
#include "messages/error.hpp"
#include "persistence/make_event.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_node;
using bulwark::test::cluster_plan;
using bulwark::test::start;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;

namespace {

event access_event(const std::string& command, caf::timestamp at = caf::make_timestamp()) {
  return make_event(event_type::console_access, at,
                    console_access{principal_id{"ops"}, command, "127.0.0.1:4000", true, "{}"});
}

/// The console_access records of `store`, with their times, in journal order.
std::vector<std::pair<caf::timestamp, console_access>> accesses(journal_store& store) {
  std::vector<std::pair<caf::timestamp, console_access>> out;
  REQUIRE(!store.read(seq_no{1}, store.head(), [&](journal_entry&& e) {
    if (e.ev.type == event_type::console_access) {
      console_access x;
      REQUIRE(!payload_of(e.ev, x));
      out.emplace_back(e.ev.at, std::move(x));
    }
    return true;
  }));
  return out;
}

/// Sends `events` to `node`'s cluster actor as follower `from` would; returns the reply.
caf::expected<seq_no> send_batch(cluster_node& node, const std::string& from,
                                 std::vector<event> events) {
  caf::scoped_actor self{node.system()};
  caf::expected<seq_no> out{seq_no{}};
  self->request(node.actor(), std::chrono::seconds{10}, atom::access_v, from, std::move(events))
    .receive([&](seq_no s) { out = s; }, [&](caf::error& err) { out = std::move(err); });
  return out;
}

} // namespace

TEST_CASE("a follower's console accesses are journaled by the leader, in order, under its id") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1");
  auto n2 = start(plan, dir, "n2");
  REQUIRE(wait_until([&] { return n2->status().peers[0].connected; }));
  // A follower whose clock runs an hour ahead does not put that hour into the journal.
  auto ahead = caf::make_timestamp() + std::chrono::hours{1};
  for (int i = 0; i < 300; ++i) // more than one batch
    caf::anon_send(n2->actor(), atom::access_v,
                   access_event("c" + std::to_string(i), i == 0 ? ahead : caf::make_timestamp()));
  caf::anon_send(n1->actor(), atom::access_v, access_event("leader-own"));
  REQUIRE(wait_until([&] { return accesses(n1->store()).size() == 301; }));
  auto got = accesses(n1->store());
  size_t next = 0;
  for (auto& [at, x] : got) {
    if (x.command == "leader-own") {
      CHECK(x.remote == "127.0.0.1:4000"); // the leader's own, unchanged
      continue;
    }
    CHECK(x.command == "c" + std::to_string(next++));
    CHECK(x.remote == "n2 127.0.0.1:4000");
    CHECK(x.principal.value == "ops");
    CHECK(at < ahead);
  }
  CHECK(next == 300);
  CHECK(wait_until([&] { return n2->status().access_unreported == 0; }));
  // Replicated back: the follower's copy of the journal holds its own trail.
  CHECK(wait_until([&] { return n2->head() == n1->head(); }));
  CHECK(accesses(n2->store()).size() == 301);
}

TEST_CASE("a follower keeps its console accesses while the leader is away, then sends them") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n2 = start(plan, dir, "n2");
  for (int i = 0; i < 5; ++i)
    caf::anon_send(n2->actor(), atom::access_v, access_event("away" + std::to_string(i)));
  CHECK(wait_until([&] { return n2->status().access_unreported == 5; }));
  CHECK(n2->head() == seq_no{0}); // a follower's journal refuses local writes
  auto n1 = start(plan, dir, "n1");
  REQUIRE(wait_until([&] { return n2->status().access_unreported == 0; }));
  auto got = accesses(n1->store());
  REQUIRE(got.size() == 5);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].second.command == "away" + std::to_string(i));
    CHECK(got[i].second.remote == "n2 127.0.0.1:4000");
  }
  CHECK(n2->status().access_dropped == 0);
}

TEST_CASE("the leader refuses access records no peer's console could have written") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto n1 = start(plan, dir, "n1");
  auto head = n1->head();
  auto refused = [&](const std::string& from, std::vector<event> evs) {
    auto r = send_batch(*n1, from, std::move(evs));
    REQUIRE(!r);
    return r.error();
  };
  CHECK(is(refused("n9", {access_event("x")}), ec::invalid_input)); // not a configured peer
  CHECK(is(refused("n2", {}), ec::invalid_input));
  CHECK(is(refused("n2", std::vector<event>(257, access_event("x"))), ec::invalid_input));
  auto grant = make_event(event_type::grant_changed, caf::make_timestamp(),
                          grant_changed{principal_id{"ops"}, authority_level::enforce,
                                        {}, principal_id{"root"}, "forged"});
  CHECK(is(refused("n2", {access_event("x"), grant}), ec::invalid_input)); // another type
  auto big = make_event(event_type::console_access, caf::make_timestamp(),
                        console_access{principal_id{"ops"}, "status", "127.0.0.1:1", true,
                                       std::string(1000, 'd')});
  CHECK(is(refused("n2", {big}), ec::invalid_input));
  auto garbled = access_event("x");
  garbled.payload.resize(3);
  CHECK(is(refused("n2", {garbled}), ec::invalid_input)); // does not decode
  CHECK(n1->head() == head); // nothing appended, not even the good records of a bad batch
  auto ok = send_batch(*n1, "n2", {access_event("fine")});
  REQUIRE(ok);
  CHECK(ok->value == head.value + 1);
  // A follower is not where a trail is journaled.
  auto n2 = start(plan, dir, "n2");
  REQUIRE(wait_until([&] { return n2->status().peers[0].connected; }));
  auto r = send_batch(*n2, "n1", {access_event("x")});
  REQUIRE(!r);
  CHECK(is(r.error(), ec::unavailable));
}
