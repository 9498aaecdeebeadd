#pragma once

/// The detector's pure core: per (service, region) baselines of the error rate, anomaly
/// confirmation, and recovery verification after a rollback.
///
/// Baseline: an exponentially weighted mean (EWMA) of the error rate after a warm-up of
/// `warmup` samples (their plain mean seeds it). An EWMA follows slow drift, needs O(1)
/// state per series, and, because it learns only from samples that are *not* over the
/// threshold, an ongoing anomaly never drags the baseline up behind it. A median over a
/// window would be more robust to single outliers, but the confirmation window already
/// filters those, at a cost of a window of samples per series.
///
/// A sample at time t reports the error rate over the interval since the previous sample
/// of its series. An anomaly is an error rate above max(factor x baseline, floor) over
/// consecutive samples whose intervals cover at least `confirmation`; its onset is the
/// time of the first of them. A shorter spike opens nothing.
///
/// Latency is a signal like the error rate: each sample's `latency_ms` (the series' p99
/// over the interval) has its own baseline, learned the same way from samples under its
/// own threshold, max(latency_factor x baseline, latency_floor_ms). A sample is over when
/// either signal is over its threshold; the excess, its confirmation and recovery are the
/// series', whichever signal carries them.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/ids.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// Detector settings (`[incident]` in bulwark.toml).
struct detector_settings {
  double factor = 2.0;     ///< anomaly: error rate above factor x baseline ...
  double floor = 0.02;     ///< ... and above this absolute rate
  caf::timespan confirmation = std::chrono::seconds{30};
  caf::timespan verification = std::chrono::seconds{30};   ///< healthy this long: recovered
  caf::timespan verification_timeout = std::chrono::minutes{2}; ///< else escalated
  uint32_t warmup = 10;    ///< samples before the baseline counts
  double alpha = 0.1;      ///< EWMA weight of a new sample
  caf::timespan max_skew = std::chrono::seconds{5}; ///< samples further in the future: refused
  double max_latency_ms = 3'600'000; ///< latencies above an hour are absurd: refused
  double latency_factor = 3.0;     ///< anomaly: p99 latency above factor x its baseline ...
  double latency_floor_ms = 250.0; ///< ... and above this many milliseconds
};

/// What became of one sample (counted per kind).
enum class sample_verdict : uint8_t {
  accepted = 0,
  bad_value = 1,      ///< NaN, infinite, negative, error rate above 1, absurd latency
  unknown_series = 2, ///< no registered resource has this service and region
  future = 3,         ///< more than max_skew ahead of the engine's clock
  out_of_order = 4,   ///< not newer than the series' last sample
};

const char* to_string(sample_verdict x) noexcept;

/// A confirmed anomaly of one series.
struct anomaly {
  std::string service;
  std::string region;
  caf::timestamp onset;
  caf::timestamp confirmed;
  double error_rate = 0;
  double baseline = 0;
  double threshold = 0;
  bool by_latency = false;     ///< confirmed by latency (the error rate was not over)
  double latency_ms = 0;       ///< the confirming sample's p99 latency
  double latency_baseline = 0;
  double latency_threshold = 0;
};

/// The end of a recovery watch: recovered (closed) or escalated.
struct recovery {
  digest incident;
  bool recovered = false;
  caf::timestamp at;
  double error_rate = 0;
};

/// What one sample caused.
struct observation {
  sample_verdict verdict = sample_verdict::accepted;
  caf::optional<anomaly> confirmed;  ///< a newly confirmed anomaly
  std::vector<recovery> verified;    ///< watches that ended with this sample
};

/// Baselines, anomalies and recovery watches of every series.
class detector_policy {
public:
  explicit detector_policy(detector_settings s) : s_(s) {
  }

  /// Makes (service, region) a known series (a resource with them is registered).
  void add_series(const std::string& service, const std::string& region);

  /// Judges one sample; `now` is the engine's clock (for the future-timestamp rule).
  observation observe(const metric_in& m, caf::timestamp now);

  /// Watches a series for recovery after `incident`'s rollback finished at `since`.
  /// A watch begun before the series' warm-up ended (a restarted detector) has no
  /// baseline to judge by: it counts every sample above the floor as not recovered, and
  /// while it lasts the warm-up learns only from samples under the floor, so a baseline
  /// is never learned from an ongoing outage. A watch that `escalates` ends unrecovered
  /// after `verification_timeout`; one that does not (an incident escalated already)
  /// lasts until the series recovers.
  void watch(const digest& incident, const std::string& service, const std::string& region,
             caf::timestamp since, bool escalates = true);

  /// Lets the current excess of a series be reported again: the next sample over the
  /// threshold confirms it at once (its onset unchanged) when it has lasted the
  /// confirmation window. Called after a confirmed anomaly could not be handed on.
  void rearm(const std::string& service, const std::string& region);

  /// Undoes `rearm` once the anomaly was handed on: the excess of a series with this
  /// `onset`, if it still lasts, counts as reported again (so it is not raised twice).
  void settle(const std::string& service, const std::string& region, caf::timestamp onset);

  /// Returns the threshold of a series now (0 before warm-up).
  double threshold(const std::string& service, const std::string& region) const;

  /// Returns the p99 latency threshold of a series now in ms (0 before warm-up).
  double latency_threshold(const std::string& service, const std::string& region) const;

  /// Samples judged so far, by verdict.
  const std::map<sample_verdict, uint64_t>& counts() const noexcept {
    return counts_;
  }

  const detector_settings& settings() const noexcept {
    return s_;
  }

private:
  struct watch_state {
    digest incident;
    caf::timestamp since;
    caf::optional<caf::timestamp> healthy_since;
    bool by_floor = false; ///< begun without a baseline: judged by the floor
    bool escalates = true; ///< ends unrecovered after verification_timeout
  };
  struct series {
    uint32_t samples = 0;
    double sum = 0;        ///< during warm-up
    double baseline = 0;
    caf::optional<caf::timestamp> last;
    caf::optional<caf::timestamp> onset;  ///< first sample of the current excess
    caf::timespan covered{};              ///< time the current excess covers
    bool raised = false;                  ///< the current excess was reported
    uint32_t latency_samples = 0;         ///< latency samples learned from
    double latency_sum = 0;               ///< during warm-up
    double latency_baseline = 0;
    std::vector<watch_state> watches;
  };

  double threshold_of(const series& x) const;
  double latency_threshold_of(const series& x) const;
  void learn(series& x, double e);
  void learn_latency(series& x, double ms);
  void check_watches(series& x, double e, bool over, caf::timestamp t, observation& out);

  detector_settings s_;
  std::map<std::pair<std::string, std::string>, series> series_;
  std::map<sample_verdict, uint64_t> counts_;
};

} // namespace bulwark
