#include "persistence/prepared_tail.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark {

namespace {

constexpr uint64_t page = 4096;
constexpr uint64_t chunk = uint64_t{1} << 20;   ///< one write of zeros
constexpr uint64_t min_target = 256 * 1024;     ///< less than this is not worth a thread's I/O

uint64_t round_down(uint64_t x) {
  return x / page * page;
}

uint64_t round_up(uint64_t x) {
  return (x + page - 1) / page * page;
}

struct free_deleter {
  void operator()(void* p) const noexcept {
    std::free(p);
  }
};

} // namespace

uint64_t prepared_tail::growth_bound(uint64_t bytes, uint64_t records) {
  // A leaf node costs its value plus 18 bytes (node header, key, index slot) and a page
  // splits no worse than in half; an overflow run wastes at most one page per value.
  // So three times (values + 32 per record) covers leaves and overflow runs alike; 64
  // pages more cover the copied branch path, the meta and main databases and the free
  // list's own records.
  return 3 * (bytes + 32 * records) + 64 * page;
}

prepared_tail::prepared_tail(std::string path, uint64_t max_bytes)
  : path_(std::move(path)), max_bytes_(max_bytes) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);
  direct_ = fd_ >= 0;
  if (fd_ < 0) // a file system without O_DIRECT (tmpfs): buffered writes, flushed at once
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  struct stat st{};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0)
    prepared_ = round_down(static_cast<uint64_t>(st.st_size));
  if (fd_ >= 0 && max_bytes_ > 0)
    worker_ = std::thread{[this] { run(); }};
}

prepared_tail::~prepared_tail() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable())
    worker_.join();
  if (fd_ >= 0)
    ::close(fd_);
}

void prepared_tail::before_write(uint64_t used_end, uint64_t bound) {
  std::unique_lock<std::mutex> guard{mtx_};
  cv_.wait(guard, [&] { return !busy_ || used_end + bound <= job_from_; });
}

void prepared_tail::after_commit(uint64_t used_end, uint64_t bound, uint64_t map_size) {
  if (!worker_.joinable())
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  if (busy_ || stop_)
    return;
  auto target = round_down(std::min(max_bytes_, used_end / 8));
  if (target < min_target || prepared_ >= used_end + target / 2)
    return;
  // LMDB may have grown the file itself past what was prepared (a large transaction).
  struct stat st{};
  if (::stat(path_.c_str(), &st) != 0)
    return;
  auto size = round_up(static_cast<uint64_t>(st.st_size));
  // Start far enough past the used end that a next transaction like this one never
  // reaches the region being zeroed (before_write waits for one that would). Pages
  // between the file's end and that start are left to LMDB.
  auto from = std::max({prepared_, size, round_up(used_end + bound + 16 * page)});
  auto to = round_down(std::min(used_end + target, map_size));
  prepared_ = std::max(prepared_, size);
  if (to <= from)
    return;
  job_from_ = from;
  job_to_ = to;
  busy_ = true;
  cv_.notify_all();
}

void prepared_tail::settle() {
  std::unique_lock<std::mutex> guard{mtx_};
  cv_.wait(guard, [&] { return !busy_; });
}

uint64_t prepared_tail::prepared_end() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return prepared_;
}

uint64_t prepared_tail::extensions() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return extensions_;
}

uint64_t prepared_tail::failures() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return failures_;
}

void prepared_tail::run() {
  std::unique_lock<std::mutex> guard{mtx_};
  for (;;) {
    cv_.wait(guard, [&] { return stop_ || busy_; });
    if (stop_)
      return;
    auto from = job_from_, to = job_to_;
    guard.unlock();
    bool ok = zero(from, to);
    guard.lock();
    busy_ = false;
    if (ok) {
      prepared_ = std::max(prepared_, to);
      ++extensions_;
    } else {
      ++failures_;
    }
    cv_.notify_all();
  }
}

/// Writes zeros over [from, to) (page-aligned) and syncs them. With O_DIRECT the zeros
/// never sit in the page cache, where the next commit's `fdatasync` would have to write
/// them; buffered, each chunk is written out before the next.
bool prepared_tail::zero(uint64_t from, uint64_t to) {
  static const std::unique_ptr<void, free_deleter> zeros{[] {
    void* p = std::aligned_alloc(page, chunk);
    if (p != nullptr)
      std::memset(p, 0, chunk);
    return p;
  }()};
  if (zeros == nullptr)
    return false;
  for (auto off = from; off < to;) {
    auto len = std::min(chunk, to - off);
    auto n = ::pwrite(fd_, zeros.get(), len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EINVAL && direct_) {
      // The file system refused direct I/O after all: go on buffered.
      int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        return false;
      ::close(fd_);
      fd_ = fd;
      direct_ = false;
      continue;
    }
    if (n <= 0)
      return false;
    if (!direct_)
      ::sync_file_range(fd_, static_cast<off_t>(off), n,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE
                          | SYNC_FILE_RANGE_WAIT_AFTER);
    off += static_cast<uint64_t>(n);
  }
  return ::fdatasync(fd_) == 0;
}

} // namespace bulwark
