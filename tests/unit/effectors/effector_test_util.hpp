#pragma once

// Test support for the effector suites: scripts and configs written into a temp dir.

#include <fstream>
#include <string>

#include <sys/stat.h>

#include "bulwark/engine.hpp"
#include "support/temp_dir.hpp"

namespace bulwark::test {

/// Writes an executable /bin/sh script `name` into `dir` and returns its path.
inline std::string write_script(const temp_dir& dir, const std::string& name,
                                const std::string& body) {
  auto path = dir.sub(name);
  std::ofstream{path} << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

/// Writes `text` into `dir`/`name` and returns its path.
inline std::string write_file(const temp_dir& dir, const std::string& name,
                              const std::string& text) {
  auto path = dir.sub(name);
  std::ofstream{path} << text;
  return path;
}

/// Returns the file's content ("" if missing).
inline std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

/// A forward change of `service`'s resource r1, key mode, to `value`.
inline effect_request change_request(const std::string& value,
                                     std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
  return effect_request{"web", "web-01", "mode", value, false, std::nullopt, "key-1", timeout};
}

} // namespace bulwark::test
