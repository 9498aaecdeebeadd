#pragma once

/// Journal append rate and acknowledgement latency over a recent window, for monitoring.

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "caf/timespan.hpp"

namespace bulwark {

/// Counts acknowledged appends and keeps their recent latencies; thread-safe (the journal
/// records, the metrics endpoint reads). Time comes in as arguments: it reads no clock.
class append_meter {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// Latencies kept for the quantiles (the newest ones).
  static constexpr size_t latency_samples = 1024;
  /// Seconds covered by the rate.
  static constexpr int64_t rate_seconds = 10;

  /// What the metrics endpoint shows.
  struct summary {
    uint64_t events_total = 0;     ///< events acknowledged since start
    uint64_t appends_total = 0;    ///< append requests acknowledged since start
    uint64_t commits_total = 0;    ///< durable transactions that acknowledged them
    double events_per_second = 0;  ///< over the last `rate_seconds` s, this one included
    size_t samples = 0;            ///< latencies behind the quantiles
    caf::timespan p50{0};          ///< median acknowledgement latency
    caf::timespan p99{0};          ///< 99th percentile acknowledgement latency
    caf::timespan sum{0};          ///< sum of the sampled latencies
    uint64_t max_batch = 0;        ///< most append requests one commit answered, same window
  };

  /// Records one commit at `at`: `events` events, one latency (arrival at the journal to
  /// acknowledgement) per append request it answered.
  void record(time_point at, uint64_t events, const std::vector<caf::timespan>& latencies);

  /// Summarizes as of `now`.
  summary summarize(time_point now) const;

private:
  struct bucket {
    int64_t second = -1;
    uint64_t events = 0;
    uint64_t max_batch = 0; ///< appends waiting for one commit (the journal's queue)
  };

  mutable std::mutex mtx_;
  uint64_t events_total_ = 0;
  uint64_t appends_total_ = 0;
  uint64_t commits_total_ = 0;
  std::array<bucket, rate_seconds + 1> buckets_{};
  std::vector<caf::timespan> ring_; ///< up to latency_samples, oldest overwritten first
  size_t next_ = 0;
};

} // namespace bulwark
