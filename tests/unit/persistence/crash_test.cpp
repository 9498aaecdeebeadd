// Crash safety: a child appending in a loop is SIGKILLed at random moments; every
// acknowledged event must survive and the chain must verify.

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "persistence/journal_store.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::temp_dir;

namespace {

constexpr size_t pool_size = 200000;

/// The child: appends batches from the deterministic pool and reports each durable head.
/// With `prepare`, as the engine opens its journal: zeros are written ahead of the used
/// pages on a thread of the store's, so kills also land during those writes.
[[noreturn]] void appender(const std::string& dir, int fd, const std::vector<event>& pool,
                           bool prepare) {
  store_options opts;
  opts.dir = dir;
  opts.create = true;
  opts.prepare_max = prepare ? default_prepare_max : 0;
  auto store = journal_store::open(opts);
  if (!store)
    ::_exit(2);
  std::mt19937_64 rng{static_cast<uint64_t>(::getpid())};
  for (;;) {
    auto head = (*store)->head().value;
    size_t n = 1 + rng() % 64;
    if (head + n > pool.size())
      ::_exit(0);
    std::vector<event> batch(pool.begin() + head, pool.begin() + head + n);
    if (!(*store)->append(std::move(batch)))
      ::_exit(3);
    uint64_t acked = head + n;
    if (::write(fd, &acked, sizeof acked) != sizeof acked)
      ::_exit(4);
  }
}

} // namespace

TEST_CASE("every acknowledged event survives 20 SIGKILLs and the chain verifies") {
  // Even rounds prepare space ahead of the pages (the engine's setting), odd ones do not.
  temp_dir dir;
  auto pool = test::random_events(2024, pool_size, 180);
  std::mt19937_64 rng{99};
  uint64_t acked = 0;
  int rounds_with_prepared_space = 0;
  // The journal exists before the first kill: a kill while LMDB creates data.mdb leaves a
  // file that a writer refuses (fail closed: an emptied journal is never taken as new).
  test::open_store(dir.path());
  for (int round = 0; round < 20; ++round) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    auto pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      appender(dir.path(), fds[1], pool, round % 2 == 0);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 120));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    uint64_t value = 0;
    while (::read(fds[0], &value, sizeof value) == sizeof value)
      acked = std::max(acked, value);
    ::close(fds[0]);
    CAPTURE(round);
    store_options opts;
    opts.dir = dir.path();
    auto store = journal_store::open(opts);
    REQUIRE(store);
    auto head = (*store)->head().value;
    CHECK(head >= acked); // a commit may finish just before the kill, unreported
    auto report = (*store)->verify(seq_no{1}, seq_no{UINT64_MAX});
    CHECK_MESSAGE(report.ok, report.reason);
    uint64_t i = 0;
    auto err = (*store)->read(seq_no{1}, seq_no{head}, [&](journal_entry&& e) {
      if (e.ev.payload != pool[i].payload || e.ev.type != pool[i].type)
        return false;
      ++i;
      return true;
    });
    CHECK(!err);
    CHECK(i == head);
    if (std::filesystem::file_size(dir.sub("data.mdb")) > (*store)->prepared().used_end)
      ++rounds_with_prepared_space;
  }
  CHECK(acked > 0);
  CHECK(rounds_with_prepared_space > 0); // the kills did land on a journal with a tail
}
