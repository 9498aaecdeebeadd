#pragma once

/// Small helpers shared by the benchmark programs: timing, percentiles, machine facts.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/utsname.h>
#include <thread>
#include <vector>

namespace bulwark::bench {

using clock_type = std::chrono::steady_clock;

inline double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

/// Returns the p-th percentile (0-100) of `xs` (sorted in place).
inline double percentile(std::vector<double>& xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<size_t>(p / 100.0 * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

/// Prints the machine: cores, CPU model, kernel.
inline void print_machine() {
  std::string model = "unknown";
  std::ifstream cpu{"/proc/cpuinfo"};
  for (std::string line; std::getline(cpu, line);)
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  utsname u{};
  ::uname(&u);
  std::printf("machine: %u cores, %s, %s %s\n", std::thread::hardware_concurrency(),
              model.c_str(), u.sysname, u.release);
}

} // namespace bulwark::bench
