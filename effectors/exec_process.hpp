#pragma once

/// Runs one command for an exec effector or probe: its own process group, a fixed
/// environment and directory, the input on stdin, bounded output, a deadline.

#include <chrono>
#include <string>

#include "effectors/effector_config.hpp"

namespace bulwark {

/// How a run ended.
enum class process_end : uint8_t {
  exited = 1,     ///< `code` is the exit status
  signaled = 2,   ///< `code` is the signal that ended it
  timed_out = 3,  ///< the deadline passed: the process group was killed
  overflowed = 4, ///< stdout or stderr passed the limit: the process group was killed
  not_started = 5 ///< spawning failed (`error` says why)
};

/// What one run produced.
struct process_outcome {
  process_end end = process_end::not_started;
  int code = 0;
  std::string out;   ///< stdout (at most the spec's max_output bytes)
  std::string err;   ///< stderr (at most the spec's max_output bytes)
  std::string error; ///< not_started / overflowed: the reason
};

/// Runs `spec` with `input` on stdin, waiting at most `timeout`. Blocks the calling
/// thread (effectors run on their service's own threads). Whatever is left of the
/// process group when the command ends, or at the deadline, is killed.
process_outcome run_process(const exec_spec& spec, const std::string& input,
                            std::chrono::nanoseconds timeout);

} // namespace bulwark
