// The LMDB journal store: append, read, head, reopen, map growth and its limit, and the
// refusal of directories that are not (or not readable as) a Bulwark journal.

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::temp_dir;

TEST_CASE("appended events come back in order with contiguous seqs and a linked chain") {
  temp_dir dir;
  auto store = test::open_store(dir.path());
  auto events = test::random_events(1, 500);
  auto first = store->append({events.begin(), events.begin() + 200});
  REQUIRE(first);
  CHECK(first->front().seq == seq_no{1});
  CHECK(first->back().seq == seq_no{200});
  auto second = store->append({events.begin() + 200, events.end()});
  REQUIRE(second);
  CHECK(store->head() == seq_no{500});
  CHECK(store->head_chain() == second->back().chain);
  size_t i = 0;
  auto err = store->read(seq_no{1}, seq_no{500}, [&](journal_entry&& e) {
    CHECK(e.seq == seq_no{i + 1});
    CHECK(e.ev.payload == events[i].payload);
    CHECK(e.ev.type == events[i].type);
    CHECK(e.ev.at == events[i].at);
    ++i;
    return true;
  });
  CHECK(!err);
  CHECK(i == 500);
  auto report = store->verify(seq_no{1}, seq_no{UINT64_MAX});
  CHECK(report.ok);
  CHECK(report.checked == 500);
  CHECK(report.head_chain == store->head_chain());
}

TEST_CASE("a reopened journal continues from its stored head") {
  temp_dir dir;
  digest chain;
  {
    auto store = test::open_store(dir.path());
    REQUIRE(store->append(test::random_events(2, 50)));
    chain = store->head_chain();
  }
  auto store = test::open_store(dir.path());
  CHECK(store->head() == seq_no{50});
  CHECK(store->head_chain() == chain);
  auto more = store->append(test::random_events(3, 10));
  REQUIRE(more);
  CHECK(more->front().seq == seq_no{51});
  CHECK(store->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
}

TEST_CASE("an empty append changes nothing and an empty journal verifies") {
  temp_dir dir;
  auto store = test::open_store(dir.path());
  auto none = store->append({});
  REQUIRE(none);
  CHECK(none->empty());
  CHECK(store->head() == seq_no{0});
  CHECK(store->head_chain().is_zero());
  CHECK(store->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
}

TEST_CASE("the map grows on demand and a batch beyond the limit fails whole") {
  temp_dir dir;
  store_options opts;
  opts.initial_map_size = 256 << 10; // 256 KiB
  opts.max_map_size = 4 << 20;       // 4 MiB
  auto store = test::open_store(dir.path(), opts);
  // ~1 MiB: needs two doublings, within the limit.
  auto grown = store->append(test::random_events(4, 3000, 300));
  REQUIRE(grown);
  CHECK(store->space().map_bytes > opts.initial_map_size);
  // Records are encoded into the transaction again after each growth: the chains
  // acknowledged are exactly the stored ones.
  size_t same = 0;
  for (auto& e : *grown)
    if (auto c = store->chain_at(e.seq); c && *c == e.chain)
      ++same;
  CHECK(same == grown->size());
  CHECK(store->head_chain() == grown->back().chain);
  auto head = store->head();
  auto chain = store->head_chain();
  // ~6 MiB in one batch: over the limit, refused whole.
  auto big = store->append(test::random_events(5, 20000, 300));
  REQUIRE(!big);
  CHECK(is(big.error(), ec::audit_unavailable));
  CHECK(store->head() == head);
  CHECK(store->head_chain() == chain);
  CHECK(store->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
  // A later append that fits still works.
  auto small = store->append(test::random_events(6, 10));
  REQUIRE(small);
  CHECK(small->front().seq == seq_no{head.value + 1});
  store.reset();
  // With a higher limit the big batch goes through.
  opts.max_map_size = 64 << 20;
  store = test::open_store(dir.path(), opts);
  auto again = store->append(test::random_events(5, 20000, 300));
  REQUIRE(again);
  CHECK(store->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
}

TEST_CASE("a read-only store refuses appends with AUDIT_UNAVAILABLE") {
  temp_dir dir;
  test::open_store(dir.path())->append(test::random_events(7, 5));
  store_options opts;
  opts.dir = dir.path();
  opts.read_only = true;
  auto store = journal_store::open(opts);
  REQUIRE(store);
  auto r = (*store)->append(test::random_events(8, 1));
  REQUIRE(!r);
  CHECK(is(r.error(), ec::audit_unavailable));
}

TEST_CASE("directories that are not a journal are refused by name and left untouched") {
  temp_dir dir;
  store_options opts;
  SUBCASE("missing directory") {
    opts.dir = dir.sub("nope");
    auto s = journal_store::open(opts);
    REQUIRE(!s);
    CHECK(describe(s.error()).message.find("no such directory") != std::string::npos);
    CHECK(!std::filesystem::exists(opts.dir));
  }
  SUBCASE("empty directory") {
    opts.dir = dir.path();
    auto s = journal_store::open(opts);
    REQUIRE(!s);
    CHECK(describe(s.error()).message.find("not a Bulwark journal") != std::string::npos);
    CHECK(std::filesystem::is_empty(dir.path()));
  }
  SUBCASE("a file instead of a directory") {
    std::ofstream{dir.sub("file")} << "x";
    opts.dir = dir.sub("file");
    auto s = journal_store::open(opts);
    REQUIRE(!s);
    CHECK(describe(s.error()).message.find("not a directory") != std::string::npos);
  }
  SUBCASE("garbage in data.mdb") {
    std::ofstream out{dir.sub("data.mdb")};
    for (int i = 0; i < 4096; ++i)
      out << "garbage!";
    out.close();
    opts.dir = dir.path();
    opts.read_only = true;
    auto s = journal_store::open(opts);
    REQUIRE(!s);
    CHECK(is(s.error(), ec::invalid_input));
    CHECK(!std::filesystem::exists(dir.sub("lock.mdb")));
  }
  SUBCASE("an empty data.mdb") {
    std::ofstream{dir.sub("data.mdb")};
    opts.dir = dir.path();
    auto s = journal_store::open(opts);
    REQUIRE(!s);
    CHECK(is(s.error(), ec::integrity_violation));
  }
  SUBCASE("an LMDB environment of another program") {
    test::make_foreign_env(dir.path());
    opts.dir = dir.path();
    opts.read_only = true;
    auto s = journal_store::open(opts);
    REQUIRE(!s);
    CHECK(describe(s.error()).message.find("not a Bulwark journal") != std::string::npos);
  }
  SUBCASE("a journal written by a newer format version") {
    test::open_store(dir.path())->append(test::random_events(9, 3));
    test::set_meta(dir.path(), "format", {0, 0, 0, 2});
    opts.dir = dir.path();
    auto s = journal_store::open(opts);
    REQUIRE(!s);
    CHECK(describe(s.error()).message.find("format version 2 is newer") != std::string::npos);
  }
}

namespace {

/// Resident kilobytes of this process's mappings of `file` (from /proc/self/smaps).
size_t resident_kib(const std::string& file) {
  std::ifstream in{"/proc/self/smaps"};
  std::string line;
  bool inside = false;
  size_t kib = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0]))
        && line.find('-') != std::string::npos && line.find(' ') > line.find('-'))
      inside = line.size() >= file.size()
               && line.compare(line.size() - file.size(), file.size(), file) == 0;
    else if (inside && line.rfind("Rss:", 0) == 0)
      kib += std::stoul(line.substr(4));
  }
  return kib;
}

} // namespace

TEST_CASE("release_resident drops the read journal's pages from memory, not from the journal") {
  temp_dir dir;
  auto store = test::open_store(dir.path());
  auto events = test::random_events(3, 20000, 400);
  REQUIRE(store->append(events));
  auto file = std::filesystem::canonical(dir.path() + "/data.mdb").string();
  size_t read = 0;
  REQUIRE(!store->read(seq_no{1}, seq_no{20000}, [&](journal_entry&&) { return ++read, true; }));
  REQUIRE(read == 20000);
  auto before = resident_kib(file);
  REQUIRE(before > 4096); // 20k records of 400 bytes: several MiB were mapped in
  store->release_resident();
  auto after = resident_kib(file);
  CHECK(after < before / 4);
  // Everything reads back and verifies: only the process's page tables changed.
  auto report = store->verify(seq_no{1}, seq_no{20000});
  CHECK(report.ok);
  CHECK(report.checked == 20000);
  CHECK(store->head() == seq_no{20000});
}

TEST_CASE("records handed over before the commit are handed once and are the stored bytes, map growth included") {
  temp_dir dir;
  store_options opts;
  opts.initial_map_size = 64 << 10; // grows many times: some commits run out of map space
  opts.max_map_size = 64 << 20;
  auto store = test::open_store(dir.path(), opts);
  size_t calls = 0, records = 0, differing = 0;
  for (uint64_t i = 0; i < 600; ++i) {
    std::vector<std::vector<uint8_t>> handed;
    auto first = store->head().value + 1;
    auto r = store->append(test::random_events(100 + i, 8, 200),
                           [&](std::vector<std::vector<uint8_t>>&& recs) {
                             ++calls;
                             handed = std::move(recs);
                           });
    REQUIRE(r);
    records += handed.size();
    REQUIRE(handed.size() == 8);
    size_t k = 0;
    REQUIRE(!store->scan(seq_no{first}, store->head(),
                         [&](seq_no, const uint8_t* chain, const uint8_t* data, size_t size) {
                           std::vector<uint8_t> v(chain, chain + 32);
                           v.insert(v.end(), data, data + size);
                           differing += v != handed[k++];
                           return true;
                         }));
  }
  CHECK(calls == 600);
  CHECK(records == 4800);
  CHECK(differing == 0);
  CHECK(store->space().map_bytes > opts.initial_map_size);
}

TEST_CASE("space and prepared read safely from another thread while the writer grows the map") {
  temp_dir dir;
  store_options opts;
  opts.initial_map_size = 64 << 10;
  opts.max_map_size = 256 << 20;
  auto store = test::open_store(dir.path(), opts);
  std::atomic<bool> done{false};
  uint64_t samples = 0, bad = 0;
  std::thread reader{[&] {
    while (!done) {
      auto s = store->space();
      bad += s.map_bytes == 0 || s.used_bytes > s.map_bytes;
      store->prepared();
      ++samples;
    }
  }};
  for (uint64_t i = 0; i < 400; ++i)
    REQUIRE(store->append(test::random_events(700 + i, 16, 400)));
  done = true;
  reader.join();
  CHECK(samples > 0);
  CHECK(bad == 0);
  CHECK(store->space().map_bytes > opts.initial_map_size);
}
