// The attempts store: its own LMDB file in the data directory, newest first, pruning by
// a cutoff, kept across reopening, and a file that is not one refused.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "actors/incident/attempt_policy.hpp"
#include "persistence/attempt_store.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using namespace bulwark::test;

namespace {

caf::timestamp at_s(int64_t s) {
  return caf::timestamp{std::chrono::duration_cast<caf::timespan>(std::chrono::seconds{s})};
}

attempt_record record(uint32_t n, int64_t started_s, bool ok) {
  attempt_record x;
  x.candidate.bytes.fill(7);
  x.service = "coaster";
  x.region = "north";
  x.attempt = n;
  x.started = at_s(started_s);
  x.id = attempt_id(x.candidate, n, x.started);
  x.duration = std::chrono::milliseconds{15 * n};
  x.succeeded = ok;
  x.code = ok ? ec::none : ec::timeout;
  x.error = ok ? "" : "the orchestrator did not answer within 10 s";
  return x;
}

auto everything = [](const attempt_record&) { return true; };

} // namespace

TEST_CASE("attempt store: lists newest first, every field kept, across reopening") {
  temp_dir dir;
  auto path = dir.sub(attempt_store_file);
  {
    auto s = attempt_store::open(path);
    REQUIRE(s);
    CHECK((*s)->count() == 0);
    REQUIRE(!(*s)->put(record(1, 100, false)));
    REQUIRE(!(*s)->put(record(3, 300, true)));
    REQUIRE(!(*s)->put(record(2, 200, false)));
    CHECK((*s)->count() == 3);
  }
  // Its own environment: one file and its lock file, nothing in a subdirectory.
  CHECK(std::filesystem::is_regular_file(path));
  CHECK(std::filesystem::exists(path + "-lock"));
  auto s = attempt_store::open(path);
  REQUIRE(s);
  auto all = (*s)->list(everything, 10);
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].attempt == 3);
  CHECK((*all)[1].attempt == 2);
  CHECK((*all)[2].attempt == 1);
  auto want = record(2, 200, false);
  auto& got = (*all)[1];
  CHECK(got.id == want.id);
  CHECK(got.candidate == want.candidate);
  CHECK(got.service == "coaster");
  CHECK(got.region == "north");
  CHECK(got.started == want.started);
  CHECK(got.duration == want.duration);
  CHECK_FALSE(got.succeeded);
  CHECK(got.code == ec::timeout);
  CHECK(got.error == want.error);
  // A limit counts the attempts the filter keeps.
  auto failed = (*s)->list([](const attempt_record& x) { return !x.succeeded; }, 1);
  REQUIRE(failed);
  REQUIRE(failed->size() == 1);
  CHECK((*failed)[0].attempt == 2);
}

TEST_CASE("attempt store: pruning deletes only what started before the cutoff") {
  temp_dir dir;
  auto s = attempt_store::open(dir.sub(attempt_store_file));
  REQUIRE(s);
  for (uint32_t i = 1; i <= 5; ++i)
    REQUIRE(!(*s)->put(record(i, 100 * i, true)));
  auto none = (*s)->prune_before(at_s(100));
  REQUIRE(none);
  CHECK(*none == 0);
  auto two = (*s)->prune_before(at_s(300)); // 100 and 200; 300 is not before it
  REQUIRE(two);
  CHECK(*two == 2);
  CHECK((*s)->count() == 3);
  auto left = (*s)->list(everything, 10);
  REQUIRE(left);
  REQUIRE(left->size() == 3);
  CHECK(left->back().attempt == 3);
  auto rest = (*s)->prune_before(at_s(10'000));
  REQUIRE(rest);
  CHECK(*rest == 3);
  CHECK((*s)->count() == 0);
}

TEST_CASE("attempt store: a file that is not an attempts store is refused and left alone") {
  temp_dir dir;
  auto path = dir.sub("attempts.mdb");
  {
    std::ofstream out{path};
    out << std::string(16384, 'x');
  }
  auto s = attempt_store::open(path);
  REQUIRE_FALSE(s);
  CHECK(code_of(s.error()) == ec::invalid_input);
  CHECK(std::filesystem::file_size(path) == 16384);
  std::filesystem::create_directories(dir.sub("adir"));
  auto d = attempt_store::open(dir.sub("adir"));
  REQUIRE_FALSE(d);
  CHECK(code_of(d.error()) == ec::invalid_input);
}
