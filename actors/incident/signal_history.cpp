#include "actors/incident/signal_history.hpp"

#include <cmath>

namespace bulwark {

namespace {

uint32_t ppm(double rate) {
  return static_cast<uint32_t>(std::lround(rate * 1e6));
}

} // namespace

void signal_history::record(const std::string& service, const std::string& region,
                            caf::timestamp at, double error_rate, double threshold) {
  auto& q = series_[{service, region}];
  q.push_back(sample{at, error_rate, threshold});
  while (!q.empty() && (q.size() > per_series_ || q.front().at < at - retention_))
    q.pop_front();
}

signal_summary signal_history::summary(const std::string& service, caf::timestamp from,
                                       caf::timestamp to) const {
  signal_summary out;
  double worst_excess = 0;
  bool any = false;
  for (auto i = series_.lower_bound({service, std::string{}});
       i != series_.end() && i->first.first == service; ++i) {
    for (auto& x : i->second) {
      if (x.at < from || x.at > to)
        continue;
      ++out.samples;
      bool breach = x.error_rate > x.threshold;
      if (breach)
        ++out.breaches;
      // The worst sample: the largest excess over its threshold (the first on ties).
      double excess = x.error_rate - x.threshold;
      if (!any || excess > worst_excess) {
        any = true;
        worst_excess = excess;
        out.worst_region = i->first.second;
        out.worst_ppm = ppm(x.error_rate);
        out.threshold_ppm = ppm(x.threshold);
      }
    }
  }
  return out;
}

} // namespace bulwark
