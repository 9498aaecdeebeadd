#pragma once

/// Shared pieces of the `bulwark` subcommands: exit codes, error printing, opening a
/// journal for reading, progress on a terminal.

#include <cstdint>
#include <memory>
#include <string>

#include "caf/error.hpp"

#include "persistence/journal_store.hpp"

namespace bulwark::cli {

/// Exit codes of every subcommand (documented in README.md, "Usage").
enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,
  exit_runtime = 2,
  exit_integrity = 3,
  exit_outcome = 4, ///< `console -c`: the command ran and its outcome is a failure
};

/// Maps an error to its exit code: 3 for integrity violations, 2 for everything else.
int exit_code_of(const caf::error& err);

/// Prints "bulwark: <message>" to stderr and returns the exit code for `err`.
int fail(const caf::error& err);

/// Opens the journal in `dir` read-only, or prints why not. Returns nullptr on failure
/// and sets `code`.
std::unique_ptr<journal_store> open_read_only(const std::string& dir, int& code);

/// Shows "label: done/total (pct%)" on stderr when stderr is a terminal.
class progress_line {
public:
  explicit progress_line(std::string label);
  ~progress_line();
  void update(uint64_t done, uint64_t total);

private:
  std::string label_;
  bool active_;
  bool shown_ = false;
};

/// Turns a fatal signal while reading a damaged file into exit code 3 with a message.
void install_fault_handler();

} // namespace bulwark::cli
