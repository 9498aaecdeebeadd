// Tamper detection: verify names the exact first bad seq for each kind of damage.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "persistence/journal_store.hpp"
#include "persistence/record.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::temp_dir;

bulwark::digest test_sha256(const std::vector<uint8_t>& bytes);

namespace {

constexpr uint64_t total = 3000;

/// Writes `total` events, lets `damage` alter the files, and returns the verify report.
template <class F>
verify_report damaged(temp_dir& dir, F damage, unsigned threads = 2) {
  test::open_store(dir.path())->append(test::random_events(11, total));
  damage(dir.path());
  store_options opts;
  opts.dir = dir.path();
  opts.read_only = true;
  auto store = journal_store::open(opts);
  REQUIRE(store);
  return (*store)->verify(seq_no{1}, seq_no{UINT64_MAX}, threads);
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += s;
  return out;
}

} // namespace

TEST_CASE("a flipped byte in an event's payload is named by its seq") {
  for (uint64_t target : std::initializer_list<uint64_t>{1, 777, 1500, 1501, total}) {
    for (unsigned threads : {1u, 2u}) {
      temp_dir dir;
      auto report = damaged(dir, [&](const std::string& d) {
        test::tamper_value(d, target, [](std::vector<uint8_t>& v) { v.back() ^= 0x01; });
      }, threads);
      CHECK_FALSE(report.ok);
      CHECK(report.first_bad == seq_no{target});
    }
  }
}

TEST_CASE("a flipped byte in an event header is named by its seq") {
  temp_dir dir;
  auto report = damaged(dir, [](const std::string& d) {
    // The time field (offset 10 of the event bytes).
    test::tamper_value(d, 42, [](std::vector<uint8_t>& v) { v[chain_size + 12] ^= 0x80; });
  });
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad == seq_no{42});
}

TEST_CASE("an altered stored chain hash is named by its seq") {
  temp_dir dir;
  auto report = damaged(dir, [](const std::string& d) {
    test::tamper_value(d, 2000, [](std::vector<uint8_t>& v) { v[5] ^= 0xFF; });
  });
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad == seq_no{2000});
}

TEST_CASE("a recomputed chain cannot hide an edit: the next record no longer links") {
  temp_dir dir;
  auto report = damaged(dir, [](const std::string& d) {
    // Edit record 100 and store a chain that matches the edit: record 101 breaks.
    auto prev = test::raw_value(d, 99);
    test::tamper_value(d, 100, [&](std::vector<uint8_t>& v) {
      v.back() ^= 0x01;
      // joined = stored chain of record 99 || the edited event bytes of record 100
      std::vector<uint8_t> joined(prev.begin(), prev.begin() + 32);
      joined.resize(32 + v.size() - 32);
      std::copy(v.begin() + 32, v.end(), joined.begin() + 32);
      auto c = test_sha256(joined);
      std::copy(c.bytes.begin(), c.bytes.end(), v.begin());
    });
  });
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad == seq_no{101});
}

TEST_CASE("a deleted record is named as missing") {
  temp_dir dir;
  auto report = damaged(dir, [](const std::string& d) { test::delete_record(d, 1234); });
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad == seq_no{1234});
  CHECK(report.reason.find("missing") != std::string::npos);
}

TEST_CASE("a deleted newest record is caught by the stored head") {
  temp_dir dir;
  auto report = damaged(dir, [](const std::string& d) { test::delete_record(d, total); });
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad == seq_no{total});
}

TEST_CASE("two swapped records are named by the first of them") {
  temp_dir dir;
  auto report = damaged(dir, [](const std::string& d) { test::swap_records(d, 500, 501); });
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad == seq_no{500});
}

TEST_CASE("a truncated data file is refused as an integrity violation on open") {
  temp_dir dir;
  test::open_store(dir.path())->append(test::random_events(12, total));
  auto file = dir.sub("data.mdb");
  auto size = std::filesystem::file_size(file);
  std::filesystem::resize_file(file, size / 2);
  store_options opts;
  opts.dir = dir.path();
  opts.read_only = true;
  auto store = journal_store::open(opts);
  REQUIRE(!store);
  CHECK(is(store.error(), ec::integrity_violation));
  CHECK(describe(store.error()).message.find("truncated") != std::string::npos);
}

TEST_CASE("a data file cut short at creation is refused for writing, with what to do") {
  temp_dir dir;
  auto file = dir.sub("data.mdb");
  std::ofstream{file} << std::string(100, '\0'); // as a first start killed in LMDB's create
  store_options opts;
  opts.dir = dir.path();
  auto store = journal_store::open(opts); // a writer: still never a new journal over it
  REQUIRE(!store);
  CHECK(is(store.error(), ec::integrity_violation));
  auto message = describe(store.error()).message;
  CHECK(message.find("data.mdb: truncated or not an LMDB file (100 bytes)") != std::string::npos);
  CHECK(message.find("remove it and start again") != std::string::npos);
  CHECK(std::filesystem::file_size(file) == 100); // nothing modified
}

TEST_CASE("a writer refuses to append after its tail was altered (verify before write)") {
  temp_dir dir;
  auto store = test::open_store(dir.path());
  REQUIRE(store->append(test::random_events(13, 20)));
  test::tamper_value(dir.path(), 20, [](std::vector<uint8_t>& v) { v[0] ^= 1; });
  auto r = store->append(test::random_events(14, 1));
  REQUIRE(!r);
  CHECK(is(r.error(), ec::integrity_violation));
  CHECK(store->head() == seq_no{20});
}

TEST_CASE("a stray key outside 1..N is named at the first place the walk meets it") {
  const std::vector<uint8_t> seq0(8, 0x00);
  const std::vector<uint8_t> one_byte{0x00};
  const std::vector<uint8_t> after1500{0, 0, 0, 0, 0, 0, 0x05, 0xDC, 0x07}; // seq 1500, then 7
  const std::vector<uint8_t> past_tail{0xFF};
  struct trial {
    std::vector<uint8_t> key;
    uint64_t place;
    std::string reason;
  };
  std::vector<trial> trials{
    {seq0, 1, "stray key 0000000000000000"},
    {one_byte, 1, "stray key 00"},
    {after1500, 1501, "stray key 00000000000005dc07"},
    {past_tail, total + 1, "stray key ff"},
    // A long key is shown by its first 32 bytes.
    {std::vector<uint8_t>(40, 0xAB), total + 1, "stray key " + repeat("ab", 32) + "..."},
  };
  for (auto& t : trials) {
    for (unsigned threads : {1u, 2u}) {
      CAPTURE(t.reason);
      CAPTURE(threads);
      temp_dir dir;
      // The stray value is a well-formed record (a copy of record 1): only its key is wrong.
      auto report = damaged(dir, [&](const std::string& d) {
        test::put_raw_event(d, t.key, test::raw_value(d, 1));
      }, threads);
      CHECK_FALSE(report.ok);
      CHECK(report.first_bad == seq_no{t.place});
      CHECK(report.reason == t.reason);
    }
  }
}

TEST_CASE("a journal holding only a record under seq 0 does not verify") {
  temp_dir dir;
  test::open_store(dir.path())->append(test::random_events(15, 1));
  auto record = test::raw_value(dir.path(), 1);
  test::delete_record(dir.path(), 1);
  test::put_raw_event(dir.path(), std::vector<uint8_t>(8, 0), record);
  test::set_meta(dir.path(), "head", std::vector<uint8_t>(40, 0));
  store_options opts;
  opts.dir = dir.path();
  opts.read_only = true;
  auto store = journal_store::open(opts);
  REQUIRE(store);
  auto report = (*store)->verify(seq_no{1}, seq_no{UINT64_MAX});
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad == seq_no{1});
  CHECK(report.reason == "stray key 0000000000000000");
}

TEST_CASE("a writer refuses a journal whose newest key is not a record") {
  temp_dir dir;
  test::open_store(dir.path())->append(test::random_events(16, 10));
  test::put_raw_event(dir.path(), {0xFF}, test::raw_value(dir.path(), 10));
  store_options opts;
  opts.dir = dir.path();
  auto store = journal_store::open(opts);
  REQUIRE(!store);
  CHECK(is(store.error(), ec::integrity_violation));
  CHECK(describe(store.error()).message.find("the newest record is malformed")
        != std::string::npos);
}
