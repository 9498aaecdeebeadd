#pragma once

/// Recent samples of every series with the threshold each was judged by, so a window of a
/// service's signals can be summarized: the analysis of a level-3 step's observation
/// window. A pure core: time comes with the samples.

#include <deque>
#include <map>
#include <string>
#include <utility>

#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/incidents.hpp"

namespace bulwark {

class signal_history {
public:
  /// Keeps each series' samples for `retention` behind its newest one, and at most
  /// `per_series` of them.
  explicit signal_history(caf::timespan retention, size_t per_series = 4096)
    : retention_(retention), per_series_(per_series) {
  }

  /// Records an accepted sample: `threshold` is the error rate above which it breaches.
  void record(const std::string& service, const std::string& region, caf::timestamp at,
              double error_rate, double threshold);

  /// Summarizes the samples of `service` (every region) with from <= at <= to.
  signal_summary summary(const std::string& service, caf::timestamp from,
                         caf::timestamp to) const;

private:
  struct sample {
    caf::timestamp at;
    double error_rate;
    double threshold;
  };
  caf::timespan retention_;
  size_t per_series_;
  /// Keyed by (service, region): ordered, so a summary's worst series is deterministic.
  std::map<std::pair<std::string, std::string>, std::deque<sample>> series_;
};

} // namespace bulwark
