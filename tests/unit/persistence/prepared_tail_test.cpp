// The prepared tail: zeros kept written past LMDB's last page so that commits overwrite
// data.mdb instead of growing it. None for a small journal, never more than an eighth of
// the used size nor past the map, only zeros, and never under a page LMDB writes (the
// growth bound holds for every kind of transaction the store makes).

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "persistence/journal_store.hpp"
#include "persistence/prepared_tail.hpp"
#include "persistence/record.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::temp_dir;

namespace {

store_options preparing(uint64_t max = default_prepare_max) {
  store_options opts;
  opts.prepare_max = max;
  return opts;
}

uint64_t file_size(const temp_dir& dir) {
  return std::filesystem::file_size(dir.sub("data.mdb"));
}

/// True when every byte of data.mdb in [from, to) is zero.
bool zeros_between(const temp_dir& dir, uint64_t from, uint64_t to) {
  std::ifstream in{dir.sub("data.mdb"), std::ios::binary};
  in.seekg(static_cast<std::streamoff>(from));
  std::vector<char> buf(to - from);
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (static_cast<uint64_t>(in.gcount()) != buf.size())
    return false;
  return std::all_of(buf.begin(), buf.end(), [](char c) { return c == 0; });
}

uint64_t payload_bytes(const std::vector<event>& events) {
  uint64_t n = 0;
  for (auto& ev : events)
    n += chain_size + record_header_size + ev.payload.size(); // the stored value
  return n;
}

} // namespace

TEST_CASE("a small journal gets no prepared space: data.mdb ends at LMDB's last page") {
  temp_dir dir;
  auto store = test::open_store(dir.path(), preparing());
  for (uint64_t i = 0; i < 10; ++i)
    REQUIRE(store->append(test::random_events(i, 100)));
  auto stats = store->prepared(true);
  CHECK(stats.extensions == 0);
  CHECK(file_size(dir) == stats.used_end);
}

TEST_CASE("a growing journal keeps zeros ahead of its pages, within an eighth of its size") {
  temp_dir dir;
  digest chain;
  uint64_t extensions = 0;
  {
    auto store = test::open_store(dir.path(), preparing());
    for (uint64_t i = 0; i < 400; ++i) {
      REQUIRE(store->append(test::random_events(100 + i, 100)));
      auto stats = store->prepared(true);
      auto size = file_size(dir);
      CAPTURE(i);
      REQUIRE(size >= stats.used_end);
      CHECK(size - stats.used_end <= stats.used_end / 8);
      CHECK(zeros_between(dir, stats.used_end, size));
      CHECK(stats.failures == 0);
      extensions = stats.extensions;
    }
    CHECK(store->prepared().used_end > 8 << 20);
    CHECK(file_size(dir) > store->prepared().used_end); // space is prepared
    chain = store->head_chain();
    auto report = store->verify(seq_no{1}, seq_no{UINT64_MAX});
    CHECK(report.ok);
    CHECK(report.checked == 40000);
  }
  CHECK(extensions > 0);
  // Reopened (the zeros past the last page are nothing to LMDB), read only and writable.
  store_options ro;
  ro.dir = dir.path();
  ro.read_only = true;
  auto reader = journal_store::open(ro);
  REQUIRE(reader);
  CHECK((*reader)->head() == seq_no{40000});
  CHECK((*reader)->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
  reader->reset();
  auto store = test::open_store(dir.path(), preparing());
  CHECK(store->head_chain() == chain);
  auto more = store->append(test::random_events(7, 10));
  REQUIRE(more);
  CHECK(more->front().seq == seq_no{40001});
  CHECK(store->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
}

TEST_CASE("the prepared space stops at the map's end while the map grows") {
  temp_dir dir;
  auto opts = preparing();
  opts.initial_map_size = uint64_t{4} << 20;
  auto store = test::open_store(dir.path(), opts);
  for (uint64_t i = 0; i < 300; ++i) {
    REQUIRE(store->append(test::random_events(200 + i, 100)));
    auto stats = store->prepared(true);
    CAPTURE(i);
    CHECK(file_size(dir) <= store->space().map_bytes);
    CHECK(stats.failures == 0);
  }
  CHECK(store->space().map_bytes > uint64_t{4} << 20); // the map did grow
  CHECK(store->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
}

TEST_CASE("prepare_max bounds the prepared space, 0 prepares none") {
  for (uint64_t max : {uint64_t{0}, uint64_t{1} << 20}) {
    temp_dir dir;
    auto store = test::open_store(dir.path(), preparing(max));
    for (uint64_t i = 0; i < 400; ++i)
      REQUIRE(store->append(test::random_events(300 + i, 100)));
    auto stats = store->prepared(true);
    CAPTURE(max);
    CHECK(file_size(dir) - stats.used_end <= max);
    if (max == 0)
      CHECK(stats.extensions == 0);
    else
      CHECK(stats.extensions > 0);
  }
}

TEST_CASE("no transaction grows the file past its growth bound (what keeps the zeroing clear)") {
  // The tail zeroes only beyond used_end + bound; a transaction writing past that would
  // have its pages zeroed. Measure real growth for every kind of write the store makes:
  // batches of small and large records (leaves, overflow runs just past a page's half
  // and of many pages), one record, and snapshots.
  temp_dir dir;
  auto store = test::open_store(dir.path()); // no tail: LMDB grows the file itself
  auto grows_within_bound = [&](const std::vector<event>& batch) {
    auto before = store->prepared().used_end;
    REQUIRE(store->append(batch));
    auto grown = store->prepared().used_end - before;
    CHECK(grown <= prepared_tail::growth_bound(payload_bytes(batch), batch.size()));
  };
  for (size_t pad : {0, 40, 200, 1900, 2100, 4000, 4100, 9000, 300000})
    for (size_t n : {1, 7, 200}) {
      CAPTURE(pad);
      CAPTURE(n);
      grows_within_bound(test::random_events(pad + n, n, pad));
    }
  projection p;
  REQUIRE(!store->read(seq_no{1}, store->head(), [&](journal_entry&& e) {
    (void) p.apply(e.seq, e.ev);
    return true;
  }));
  auto chain = store->chain_at(seq_no{p.state().seq});
  REQUIRE(chain);
  auto value = journal_store::encode_snapshot(p.state(), *chain);
  auto before = store->prepared().used_end;
  REQUIRE(!store->put_snapshot(p.state().seq, value));
  CHECK(store->prepared().used_end - before <= prepared_tail::growth_bound(value.size(), 1));
}
