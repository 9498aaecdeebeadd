#include "actors/incident/detector_policy.hpp"

#include <algorithm>
#include <cmath>

namespace bulwark {

const char* to_string(sample_verdict x) noexcept {
  switch (x) {
    case sample_verdict::accepted:
      return "accepted";
    case sample_verdict::bad_value:
      return "bad_value";
    case sample_verdict::unknown_series:
      return "unknown_series";
    case sample_verdict::future:
      return "future";
    case sample_verdict::out_of_order:
      return "out_of_order";
  }
  return "unknown";
}

void detector_policy::add_series(const std::string& service, const std::string& region) {
  series_.try_emplace({service, region});
}

double detector_policy::threshold_of(const series& x) const {
  if (x.samples < s_.warmup)
    return 0;
  return std::max(s_.factor * x.baseline, s_.floor);
}

double detector_policy::threshold(const std::string& service, const std::string& region) const {
  auto i = series_.find({service, region});
  return i == series_.end() ? 0 : threshold_of(i->second);
}

double detector_policy::latency_threshold_of(const series& x) const {
  if (x.latency_samples < s_.warmup)
    return 0;
  return std::max(s_.latency_factor * x.latency_baseline, s_.latency_floor_ms);
}

double detector_policy::latency_threshold(const std::string& service,
                                          const std::string& region) const {
  auto i = series_.find({service, region});
  return i == series_.end() ? 0 : latency_threshold_of(i->second);
}

void detector_policy::learn_latency(series& x, double ms) {
  ++x.latency_samples;
  if (x.latency_samples <= s_.warmup) {
    x.latency_sum += ms;
    x.latency_baseline = x.latency_sum / x.latency_samples;
    return;
  }
  x.latency_baseline = s_.alpha * ms + (1 - s_.alpha) * x.latency_baseline;
}

void detector_policy::learn(series& x, double e) {
  ++x.samples;
  if (x.samples <= s_.warmup) {
    x.sum += e;
    x.baseline = x.sum / x.samples;
    return;
  }
  x.baseline = s_.alpha * e + (1 - s_.alpha) * x.baseline;
}

void detector_policy::watch(const digest& incident, const std::string& service,
                            const std::string& region, caf::timestamp since, bool escalates) {
  auto& x = series_[{service, region}];
  for (auto& w : x.watches)
    if (w.incident == incident)
      return;
  x.watches.push_back(
    watch_state{incident, since, caf::none, x.samples < s_.warmup, escalates});
}

void detector_policy::rearm(const std::string& service, const std::string& region) {
  if (auto i = series_.find({service, region}); i != series_.end())
    i->second.raised = false;
}

void detector_policy::settle(const std::string& service, const std::string& region,
                             caf::timestamp onset) {
  if (auto i = series_.find({service, region}); i != series_.end() && i->second.onset
                                                && *i->second.onset == onset)
    i->second.raised = true;
}

void detector_policy::check_watches(series& x, double e, bool over, caf::timestamp t,
                                    observation& out) {
  for (auto i = x.watches.begin(); i != x.watches.end();) {
    auto& w = *i;
    if (t < w.since) {
      ++i;
      continue;
    }
    if (w.by_floor ? e > s_.floor : over)
      w.healthy_since = caf::none;
    else if (!w.healthy_since)
      w.healthy_since = t;
    if (w.healthy_since && t - *w.healthy_since >= s_.verification) {
      out.verified.push_back(recovery{w.incident, true, t, e});
      i = x.watches.erase(i);
    } else if (w.escalates && t - w.since >= s_.verification_timeout) {
      out.verified.push_back(recovery{w.incident, false, t, e});
      i = x.watches.erase(i);
    } else {
      ++i;
    }
  }
}

observation detector_policy::observe(const metric_in& m, caf::timestamp now) {
  observation out;
  auto judge = [&](sample_verdict v) {
    ++counts_[v];
    out.verdict = v;
    return out;
  };
  if (!std::isfinite(m.error_rate) || m.error_rate < 0 || m.error_rate > 1
      || !std::isfinite(m.latency_ms) || m.latency_ms < 0 || m.latency_ms > s_.max_latency_ms)
    return judge(sample_verdict::bad_value);
  auto i = series_.find({m.service, m.region});
  if (i == series_.end())
    return judge(sample_verdict::unknown_series);
  if (m.at > now + s_.max_skew)
    return judge(sample_verdict::future);
  auto& x = i->second;
  if (x.last && m.at <= *x.last)
    return judge(sample_verdict::out_of_order);
  auto interval = x.last ? m.at - *x.last : caf::timespan{0};
  x.last = m.at;
  auto th = threshold_of(x);
  auto lth = latency_threshold_of(x);
  bool error_over = th > 0 && m.error_rate > th;
  bool latency_over = lth > 0 && m.latency_ms > lth;
  bool over = error_over || latency_over;
  bool floor_watch = false;
  for (auto& w : x.watches)
    floor_watch |= w.by_floor && m.at >= w.since;
  check_watches(x, m.error_rate, over, m.at, out);
  // Each baseline learns only from samples under its own threshold.
  if (!latency_over)
    learn_latency(x, m.latency_ms);
  if (!over) {
    x.onset = caf::none;
    x.covered = caf::timespan{0};
    x.raised = false;
    if (!floor_watch || m.error_rate <= s_.floor)
      learn(x, m.error_rate);
    return judge(sample_verdict::accepted);
  }
  if (!x.onset) {
    x.onset = m.at;
    x.covered = interval;
  } else {
    x.covered += interval;
  }
  if (!x.raised && x.covered >= s_.confirmation) {
    x.raised = true;
    out.confirmed = anomaly{m.service,          m.region,          *x.onset,
                            m.at,               m.error_rate,      x.baseline,
                            th,                 !error_over,       m.latency_ms,
                            x.latency_baseline, lth};
  }
  return judge(sample_verdict::accepted);
}

} // namespace bulwark
