#pragma once

/// A fresh temporary directory removed with its scope.

#include <string>

namespace bulwark::test {

/// Creates a unique directory under the system temp dir; removes it on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  /// Returns path() + "/" + name.
  std::string sub(const std::string& name) const {
    return path_ + "/" + name;
  }

private:
  std::string path_;
};

/// Runs a shell command; returns its exit status (or -1) and captures stdout+stderr.
int run_command(const std::string& cmd, std::string* output = nullptr);

} // namespace bulwark::test
