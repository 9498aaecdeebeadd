// The idempotency index of the fleet state: one sorted view whatever the merges, and the
// projection's use of it.

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "messages/decided_index.hpp"
#include "persistence/codec.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"
#include "persistence/sha256.hpp"

using namespace bulwark;

namespace {

decided_proposal entry(uint32_t n) {
  decided_proposal x;
  x.key = idempotency_digest(principal_id{"agent"}, "k" + std::to_string(n));
  x.proposal.bytes[0] = static_cast<uint8_t>(n);
  x.proposal.bytes[1] = static_cast<uint8_t>(n >> 8);
  x.proposal.bytes[2] = static_cast<uint8_t>(n >> 16);
  x.decided_seq = n + 1;
  return x;
}

} // namespace

TEST_CASE("the decided index reads and encodes as one sorted list, wherever it merged") {
  constexpr uint32_t n = 20000; // several merges of the fresh map into the run
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i)
    order[i] = i;
  decided_index forward;
  for (auto i : order)
    CHECK(forward.insert(entry(i)));
  std::mt19937 rng{5};
  std::shuffle(order.begin(), order.end(), rng);
  decided_index shuffled;
  for (auto i : order)
    shuffled.insert(entry(i));
  CHECK(forward.size() == n);
  CHECK(shuffled.size() == n);
  CHECK(encode(forward) == encode(shuffled));
  auto all = forward.sorted();
  REQUIRE(all.size() == n);
  CHECK(std::is_sorted(all.begin(), all.end(),
                       [](auto& x, auto& y) { return x.key < y.key; }));
  // Every entry is found; a key never inserted is not.
  for (uint32_t i = 0; i < n; i += 97) {
    auto e = shuffled.find(entry(i).key);
    REQUIRE(e != nullptr);
    CHECK(e->decided_seq == i + 1);
  }
  CHECK(shuffled.find(entry(n + 1).key) == nullptr);
  // The first decision under a key keeps it.
  auto again = entry(7);
  again.decided_seq = 999999;
  CHECK_FALSE(forward.insert(again));
  CHECK(forward.find(again.key)->decided_seq == 8);
}

TEST_CASE("the writers stream the index as the very list its inspect() hands over") {
  decided_index index;
  for (uint32_t i = 0; i < 9000; ++i) // a run and a fresh map
    index.insert(entry(i));
  index.settle(entry(3).key, decided::succeeded); // a fresh entry shadowing the run's
  auto list = index.sorted();
  auto streamed = encode(index);
  CHECK(streamed == encode(list));
  canonical_sizer n;
  n(index);
  CHECK(n.size() == streamed.size());
  // And it reads back through inspect().
  decided_index back;
  REQUIRE(!decode(streamed.data(), streamed.size(), back));
  CHECK(back.sorted().size() == list.size());
  CHECK(encode(back) == streamed);
  CHECK(back.find(entry(3).key)->status == decided::succeeded);
}

TEST_CASE("settling an entry of the shared run leaves copies of the state unchanged") {
  decided_index a;
  for (uint32_t i = 0; i < 5000; ++i) // past one merge: the early entries are in the run
    a.insert(entry(i));
  auto copy = a;
  a.settle(entry(3).key, decided::succeeded);
  a.settle(entry(4999).key, decided::failed);
  a.settle(entry(6000).key, decided::failed); // unknown: nothing happens
  CHECK(a.size() == 5000);
  CHECK(a.find(entry(3).key)->status == decided::succeeded);
  CHECK(a.find(entry(4999).key)->status == decided::failed);
  CHECK(copy.find(entry(3).key)->status == decided::running);
  CHECK(copy.find(entry(4999).key)->status == decided::running);
  // The shadowing entry is what the sorted view and the encoding show, once.
  size_t seen = 0;
  a.each([&](const decided_proposal& x) {
    if (x.key == entry(3).key) {
      ++seen;
      CHECK(x.status == decided::succeeded);
    }
  });
  CHECK(seen == 1);
  decided_index decoded;
  auto bytes = encode(a);
  REQUIRE(!decode(bytes.data(), bytes.size(), decoded));
  CHECK(encode(decoded) == bytes);
  CHECK(decoded.size() == 5000);
}

TEST_CASE("a decided list out of key order does not decode") {
  decided_index a;
  a.insert(entry(1));
  a.insert(entry(2));
  auto xs = a.sorted();
  std::swap(xs[0], xs[1]);
  std::vector<uint8_t> bytes;
  canonical_writer w{bytes};
  w(xs); // the same bytes a list<decided_proposal> has
  decided_index b;
  CHECK(decode(bytes.data(), bytes.size(), b));
  xs.push_back(xs[0]); // a repeated key is refused too
  decided_index c;
  CHECK(c.assign(xs));
}

TEST_CASE("the projection keeps running proposals and the outcome of finished ones") {
  projection p;
  auto at = caf::make_timestamp();
  digest id;
  id.bytes[0] = 1;
  proposal_decided d{id, "change-1", principal_id{"agent"}, authority_level::enforce,
                     "coaster", "north", true, ec::none, "allowed", 1, {}, {}, ""};
  REQUIRE(!p.apply(seq_no{1}, make_event(event_type::proposal_decided, at, d)));
  auto key = idempotency_digest(principal_id{"agent"}, "change-1");
  REQUIRE(p.state().decided.find(key) != nullptr);
  CHECK(p.state().decided.find(key)->status == decided::running);
  CHECK(p.state().proposals.count(id) == 1);
  proposal_finished f{id, true, ec::none, 1, 0, "done"};
  REQUIRE(!p.apply(seq_no{2}, make_event(event_type::proposal_finished, at, f)));
  CHECK(p.state().proposals.empty());
  CHECK(p.state().decided.find(key)->status == decided::succeeded);
  CHECK(p.state().decided.find(key)->proposal == id);
  // A refusal is recorded with its code and never runs.
  digest other;
  other.bytes[0] = 2;
  proposal_decided r{other, "change-2", principal_id{"agent"}, authority_level::enforce,
                     "coaster", "north", false, ec::halted, "halted", 0, {}, {}, ""};
  REQUIRE(!p.apply(seq_no{3}, make_event(event_type::proposal_decided, at, r)));
  auto rk = idempotency_digest(principal_id{"agent"}, "change-2");
  CHECK(p.state().decided.find(rk)->status == decided::refused);
  CHECK(p.state().decided.find(rk)->code == ec::halted);
  CHECK(p.state().proposals.empty());
  // An allowed level-0 read is answered at its decision: recorded as a read, not running.
  digest read;
  read.bytes[0] = 3;
  proposal_decided rd{read, "look-1", principal_id{"agent"}, authority_level::read_only,
                      "coaster", "north", true, ec::none, "allowed", 0, {}, {}, ""};
  REQUIRE(!p.apply(seq_no{4}, make_event(event_type::proposal_decided, at, rd)));
  auto readk = idempotency_digest(principal_id{"agent"}, "look-1");
  REQUIRE(p.state().decided.find(readk) != nullptr);
  CHECK(p.state().decided.find(readk)->status == decided::read);
  CHECK(p.state().proposals.empty());
  CHECK(p.in_doubt().empty());
  // The key's digest is SHA-256 of principal "/" key, as docs/journal-format.md says.
  std::string bytes = "agent/change-1";
  CHECK(key == sha256(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}
