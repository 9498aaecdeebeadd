#include "persistence/append_meter.hpp"

#include <algorithm>

namespace bulwark {

namespace {

int64_t second_of(append_meter::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

} // namespace

void append_meter::record(time_point at, uint64_t events,
                          const std::vector<caf::timespan>& latencies) {
  std::lock_guard<std::mutex> guard{mtx_};
  events_total_ += events;
  appends_total_ += latencies.size();
  ++commits_total_;
  auto s = second_of(at);
  auto& b = buckets_[static_cast<size_t>(s) % buckets_.size()];
  if (b.second != s)
    b = bucket{s, 0, 0};
  b.events += events;
  b.max_batch = std::max<uint64_t>(b.max_batch, latencies.size());
  for (auto& l : latencies) {
    if (ring_.size() < latency_samples) {
      ring_.push_back(l);
    } else {
      ring_[next_] = l;
      next_ = (next_ + 1) % latency_samples;
    }
  }
}

append_meter::summary append_meter::summarize(time_point now) const {
  summary out;
  std::vector<caf::timespan> sorted;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    out.events_total = events_total_;
    out.appends_total = appends_total_;
    out.commits_total = commits_total_;
    // The current second counts as it has filled so far, so a burst shows at once.
    auto current = second_of(now);
    uint64_t events = 0;
    for (auto& b : buckets_)
      if (b.second > current - rate_seconds && b.second <= current) {
        events += b.events;
        out.max_batch = std::max(out.max_batch, b.max_batch);
      }
    out.events_per_second = static_cast<double>(events) / rate_seconds;
    sorted = ring_;
  }
  out.samples = sorted.size();
  if (sorted.empty())
    return out;
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double q) {
    auto i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(i, sorted.size() - 1)];
  };
  out.p50 = at(0.50);
  out.p99 = at(0.99);
  for (auto& l : sorted)
    out.sum += l;
  return out;
}

} // namespace bulwark
