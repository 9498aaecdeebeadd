#pragma once

/// Small helpers shared by the benchmark programs: timing, percentiles, machine facts.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <thread>
#include <vector>

namespace bulwark::bench {

using clock_type = std::chrono::steady_clock;

inline double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

inline double us_since(clock_type::time_point t0) {
  return ms_since(t0) * 1000;
}

/// Best wall time in ms of `runs` calls of `f()`.
template <class F>
double best_ms(int runs, F f) {
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    auto t0 = clock_type::now();
    f();
    best = std::min(best, ms_since(t0));
  }
  return best;
}

/// Latencies in us of `n` calls of `f(i)`.
template <class F>
std::vector<double> sample_us(int n, F f) {
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto t0 = clock_type::now();
    f(i);
    lat.push_back(us_since(t0));
  }
  return lat;
}

/// printf into a string, for table cells (up to four numbers).
inline std::string format(const char* fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}

/// A TCP port on 127.0.0.1 that the kernel just gave out (free a moment ago).
inline uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// Returns the p-th percentile (0-100) of `xs` (sorted in place).
inline double percentile(std::vector<double>& xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<size_t>(p / 100.0 * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

/// A fresh directory under $TMPDIR, removed with everything in it on scope exit (also
/// when a measurement throws), so benchmarks leave nothing behind.
struct temp_root {
  std::string path;
  explicit temp_root(const std::string& tag)
    : path((std::filesystem::temp_directory_path() / (tag + "-XXXXXX")).string()) {
    if (::mkdtemp(path.data()) == nullptr)
      throw std::runtime_error("cannot create a temporary directory: "
                               + std::string{std::strerror(errno)});
  }
  ~temp_root() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_root(const temp_root&) = delete;
  temp_root& operator=(const temp_root&) = delete;
  std::string sub(const std::string& name) const {
    return path + "/" + name;
  }
};

/// The machine a benchmark ran on, as printed at the top and stored in JSON results.
struct machine_facts {
  unsigned cores = 0;
  std::string cpu = "unknown";
  std::string kernel;
};

/// Reads cores, CPU model (/proc/cpuinfo) and kernel (uname).
inline machine_facts describe_machine() {
  machine_facts m;
  m.cores = std::thread::hardware_concurrency();
  std::ifstream cpu{"/proc/cpuinfo"};
  for (std::string line; std::getline(cpu, line);)
    if (line.rfind("model name", 0) == 0) {
      m.cpu = line.substr(line.find(':') + 2);
      break;
    }
  utsname u{};
  ::uname(&u);
  m.kernel = std::string{u.sysname} + " " + u.release;
  return m;
}

/// Prints the machine: cores, CPU model, kernel.
inline void print_machine() {
  auto m = describe_machine();
  std::printf("machine: %u cores, %s, %s\n", m.cores, m.cpu.c_str(), m.kernel.c_str());
}

} // namespace bulwark::bench
