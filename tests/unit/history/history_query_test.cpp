// History queries over a journal: each filter, pages and their cursors, progress, the
// stop test, and bad arguments (clear errors, the filter unchanged).

#include <doctest/doctest.h>

#include <chrono>

#include "messages/lifecycle.hpp"
#include "persistence/history_filter.hpp"
#include "persistence/history_query.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;

namespace {

constexpr int64_t base_s = 1'700'000'000;

caf::timestamp at_ms(uint64_t ms) {
  return caf::timestamp{std::chrono::seconds{base_s} + std::chrono::milliseconds{ms}};
}

digest dig(uint8_t b) {
  digest d;
  d.bytes.fill(b);
  return d;
}

/// seq 1-2: two resources; 3-6: proposal P1 by alice on res-a (gates); 7: bob's grant by
/// admin; 8: a note on incident I1 by carol; 9..(8+filler): action_applied of P2 on res-b.
/// Event i (seq i) is at base + (i - 1) ms.
std::unique_ptr<journal_store> sample_journal(const std::string& dir, size_t filler) {
  auto store = test::open_store(dir);
  std::vector<event> evs;
  uint64_t t = 0;
  evs.push_back(make_event(event_type::resource_registered, at_ms(t++),
                           resource_registered{resource_id{"res-a"}, "gates", "north", {}}));
  evs.push_back(make_event(event_type::resource_registered, at_ms(t++),
                           resource_registered{resource_id{"res-b"}, "coaster", "south", {}}));
  proposal_decided d;
  d.proposal = dig(0x11);
  d.principal = principal_id{"alice"};
  d.service = "gates";
  d.region = "north";
  d.allowed = true;
  d.mutations = {mutation{resource_id{"res-a"}, "mode", "closed"}};
  evs.push_back(make_event(event_type::proposal_decided, at_ms(t++), d));
  mutation change{resource_id{"res-a"}, "mode", "closed"};
  evs.push_back(make_event(event_type::action_started, at_ms(t++),
                           action_started{dig(0x11), 0, change}));
  action_applied a;
  a.proposal = dig(0x11);
  a.resource = resource_id{"res-a"};
  a.key = "mode";
  a.new_value = "closed";
  evs.push_back(make_event(event_type::action_applied, at_ms(t++), a));
  proposal_finished fin;
  fin.proposal = dig(0x11);
  fin.succeeded = true;
  evs.push_back(make_event(event_type::proposal_finished, at_ms(t++), fin));
  evs.push_back(make_event(event_type::grant_changed, at_ms(t++),
                           grant_changed{principal_id{"bob"}, authority_level::act, caf::none,
                                         principal_id{"admin"}, "trial"}));
  evs.push_back(make_event(event_type::incident_noted, at_ms(t++),
                           incident_remark{dig(0x22), principal_id{"carol"}, "looking"}));
  for (size_t i = 0; i < filler; ++i) {
    action_applied x;
    x.proposal = dig(0x33);
    x.step = static_cast<uint32_t>(i);
    x.resource = resource_id{"res-b"};
    x.key = "speed";
    x.new_value = std::to_string(i);
    evs.push_back(make_event(event_type::action_applied, at_ms(t++), x));
  }
  REQUIRE(store->append(std::move(evs)));
  return store;
}

std::vector<uint64_t> seqs(const history_page& p) {
  std::vector<uint64_t> out;
  for (auto& e : p.events)
    out.push_back(e.seq.value);
  return out;
}

history_filter with(std::initializer_list<std::pair<const char*, const char*>> args) {
  history_filter f;
  std::string why;
  for (auto& [k, v] : args)
    REQUIRE_MESSAGE(set_history_arg(f, k, v, why), why);
  REQUIRE_MESSAGE(check_history_filter(f, why), why);
  return f;
}

const std::string p1 = std::string(64, '1'); // dig(0x11) in hex
const std::string i1 = std::string(64, '2');

} // namespace

TEST_CASE("history: each filter selects exactly its events") {
  test::temp_dir dir;
  auto store = sample_journal(dir.path(), 20);
  auto run = [&](history_filter f) {
    auto page = read_history(*store, f);
    REQUIRE(page);
    CHECK(page->head == 28);
    CHECK(page->total == std::min<uint64_t>(f.to, 28) - f.from + 1);
    CHECK(page->next == 0);
    return seqs(*page);
  };
  using v = std::vector<uint64_t>;
  CHECK(run(with({})).size() == 28);
  CHECK(run(with({{"from", "3"}, {"to", "5"}})) == v{3, 4, 5});
  CHECK(run(with({{"type", "proposal_decided,grant_changed"}})) == v{3, 7});
  CHECK(run(with({{"principal", "alice"}})) == v{3});
  CHECK(run(with({{"principal", "admin"}})) == v{7}); // the grant's `by`
  CHECK(run(with({{"principal", "carol"}})) == v{8});
  CHECK(run(with({{"resource", "res-a"}})) == v{1, 3, 4, 5});
  CHECK(run(with({{"service", "gates"}})) == v{1, 3});
  CHECK(run(with({{"proposal", p1.c_str()}})) == v{3, 4, 5, 6});
  CHECK(run(with({{"incident", i1.c_str()}})) == v{8});
  CHECK(run(with({{"proposal", p1.c_str()}, {"type", "action_applied"}})) == v{5});
  // Times: event seq s is at base + (s - 1) ms; until is inclusive to its millisecond.
  auto ms = [](uint64_t n) { return std::to_string(base_s * 1000 + n); };
  CHECK(run(with({{"since", ms(2).c_str()}, {"until", ms(4).c_str()}})) == v{3, 4, 5});
  CHECK(run(with({{"since", "2023-11-14T22:13:20.006Z"}, {"until", "2023-11-14T22:13:20.007Z"}}))
        == v{7, 8});
  // A subject's bytes inside another field do not match: "res-a" is no service.
  CHECK(run(with({{"service", "res-a"}})).empty());
  CHECK(run(with({{"principal", "nobody"}})).empty());
}

TEST_CASE("history: pages of `limit` events, each answer's next seq continues the query") {
  test::temp_dir dir;
  auto store = sample_journal(dir.path(), 2500);
  auto f = with({{"resource", "res-b"}, {"limit", "1000"}});
  std::vector<uint64_t> all;
  int pages = 0;
  for (;;) {
    auto page = read_history(*store, f);
    REQUIRE(page);
    ++pages;
    auto s = seqs(*page);
    all.insert(all.end(), s.begin(), s.end());
    if (page->next == 0)
      break;
    CHECK(page->events.size() == 1000);
    CHECK(page->next == page->events.back().seq.value + 1);
    f.from = page->next;
  }
  CHECK(pages == 3);
  REQUIRE(all.size() == 2501); // res-b's registration and its 2500 changes
  CHECK(all.front() == 2);
  for (size_t i = 1; i < all.size(); ++i)
    CHECK(all[i] == (i == 1 ? 9 : all[i - 1] + 1)); // no gap, no repeat across pages
  // A page that ends exactly at the range's last record has no next.
  auto last = read_history(*store, with({{"from", "2506"}, {"limit", "3"}}));
  REQUIRE(last);
  CHECK(seqs(*last) == std::vector<uint64_t>{2506, 2507, 2508});
  CHECK(last->next == 0);
  // A range past the head is empty, with no next.
  auto beyond = read_history(*store, with({{"from", "9000"}}));
  REQUIRE(beyond);
  CHECK(beyond->events.empty());
  CHECK(beyond->next == 0);
  CHECK(beyond->total == 0);
}

TEST_CASE("history: progress every N records read, with the matches so far") {
  test::temp_dir dir;
  auto store = sample_journal(dir.path(), 992); // 1000 records
  history_control ctl;
  ctl.progress_every = 300;
  std::vector<std::array<uint64_t, 3>> seen;
  ctl.progress = [&](uint64_t done, uint64_t total, uint64_t matched) {
    seen.push_back({done, total, matched});
  };
  auto page = read_history(*store, with({{"type", "grant_changed,action_applied"},
                                         {"limit", "10000"}}), ctl);
  REQUIRE(page);
  CHECK(page->events.size() == 994);
  REQUIRE(seen.size() == 3);
  // Matches among the records before the one just read: seq 5, 7 and 9 on.
  CHECK(seen[0] == std::array<uint64_t, 3>{300, 1000, 293});
  CHECK(seen[1] == std::array<uint64_t, 3>{600, 1000, 593});
  CHECK(seen[2] == std::array<uint64_t, 3>{900, 1000, 893});
}

TEST_CASE("history: the stop test ends a query where it stood, its next seq unread") {
  test::temp_dir dir;
  auto store = sample_journal(dir.path(), 4992); // 5000 records
  history_control ctl;
  ctl.check_every = 1000;
  int asked = 0;
  ctl.stop = [&] { return ++asked == 3; }; // at the third check: 2000 records read
  auto page = read_history(*store, with({{"limit", "10000"}}), ctl);
  REQUIRE(page);
  CHECK(page->stopped);
  CHECK(page->scanned == 2000);
  CHECK(page->events.size() == 2000);
  CHECK(page->next == 2001);
  // A stop test that says stop at once reads nothing.
  history_control now;
  now.stop = [] { return true; };
  auto none = read_history(*store, with({}), now);
  REQUIRE(none);
  CHECK(none->stopped);
  CHECK(none->scanned == 0);
  CHECK(none->next == 1);
}

TEST_CASE("history: bad arguments are refused by name and leave the filter unchanged") {
  history_filter f;
  f.from = 7;
  auto before = f;
  std::string why;
  auto refused = [&](const char* name, const char* value, const char* says) {
    why.clear();
    CHECK_FALSE(set_history_arg(f, name, value, why));
    CHECK_MESSAGE(why.find(says) != std::string::npos, why);
    CHECK(f.from == before.from);
    CHECK(f.types == before.types);
    CHECK(f.limit == before.limit);
    CHECK(f.since_ns == before.since_ns);
    CHECK(f.incident.empty());
  };
  refused("type", "proposal_decided,no_such_type", "unknown event type 'no_such_type'");
  refused("type", "", "unknown event type ''");
  refused("limit", "10001", "limit must be 1 to 10000");
  refused("limit", "0", "limit must be 1 to 10000");
  refused("limit", "99999999999999999999999", "limit must be 1 to 10000");
  refused("from", "0", "from must be a seq number");
  refused("from", "-3", "from must be a seq number");
  refused("to", "12x", "to must be a seq number");
  refused("since", "yesterday", "since must be a UTC time");
  refused("since", "2026-02-30T00:00:00Z", "since must be a UTC time");
  refused("until", "2026-12-06T07:00:00", "until must be a UTC time"); // no Z
  refused("incident", "abc", "incident must be a whole digest");
  refused("proposal", std::string(63, 'a').c_str(), "proposal must be a whole digest");
  refused("principal", "", "principal must be 1 to 256 characters");
  refused("colour", "red", "unknown argument 'colour'");

  // Inverted ranges: refused as a whole.
  auto inverted = [&](history_filter g, const char* says) {
    why.clear();
    CHECK_FALSE(check_history_filter(g, why));
    CHECK_MESSAGE(why.find(says) != std::string::npos, why);
  };
  history_filter seq;
  REQUIRE(set_history_arg(seq, "from", "10", why));
  REQUIRE(set_history_arg(seq, "to", "9", why));
  inverted(seq, "inverted range: from 10 is after to 9");
  history_filter time;
  REQUIRE(set_history_arg(time, "since", "2026-12-06T08:00:00Z", why));
  REQUIRE(set_history_arg(time, "until", "2026-12-06T07:00:00Z", why));
  inverted(time, "inverted range: since is after until");
}

TEST_CASE("history: times parse as UTC, to the millisecond") {
  int64_t ns = 0;
  REQUIRE(parse_history_time("1970-01-01T00:00:01.250Z", ns));
  CHECK(ns == 1'250'000'000);
  REQUIRE(parse_history_time("2026-12-06T07:00:00Z", ns));
  CHECK(ns == int64_t{1796540400} * 1'000'000'000);
  REQUIRE(parse_history_time("1796540400000", ns));
  CHECK(ns == int64_t{1796540400} * 1'000'000'000);
  CHECK_FALSE(parse_history_time("2026-13-01T00:00:00Z", ns));
  CHECK_FALSE(parse_history_time("2026-12-06 07:00:00Z", ns));
  CHECK_FALSE(parse_history_time("2026-12-06T07:00:00.5Z", ns));
}
