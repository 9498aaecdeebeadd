// The polling thread, one round at a time: queries in series order, one HTTP connection
// reused (libcurl keeps it), the board published after every round.

#include "signals/prometheus_source.hpp"

#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace bulwark {

namespace {

http_spec spec_of(const prometheus_settings& s) {
  http_spec h;
  h.url = s.address;
  h.connect_timeout = s.timeout;
  h.max_output = 1 << 20; // an instant query of one aggregated series is a few hundred bytes
  return h;
}

} // namespace

caf::expected<std::unique_ptr<prometheus_source>> prometheus_source::make(prometheus_settings s,
                                                                          signal_sinks sinks) {
  if (s.series.empty())
    return refuse(ec::invalid_input, "prometheus.series: no series to ask about (list them, "
                                     "or give the node a fleet file with --fleet)");
  std::vector<series_queries> q;
  for (auto& x : s.series) {
    auto err = expand_query(s.error_rate, "prometheus.error_rate", x);
    if (!err)
      return err.error();
    series_queries one{x, query_url(s.address, *err), ""};
    if (!s.latency_ms.empty()) {
      auto lat = expand_query(s.latency_ms, "prometheus.latency_ms", x);
      if (!lat)
        return lat.error();
      one.latency_url = query_url(s.address, *lat);
    }
    q.push_back(std::move(one));
  }
  return std::unique_ptr<prometheus_source>{
    new prometheus_source(std::move(s), std::move(sinks), std::move(q))};
}

prometheus_source::prometheus_source(prometheus_settings s, signal_sinks sinks,
                                     std::vector<series_queries> q)
  : settings_(std::move(s)), sinks_(std::move(sinks)), queries_(std::move(q)),
    endpoint_(spec_of(settings_)) {
  report_.address = settings_.address;
  for (auto& x : queries_) {
    series_report r;
    r.service = x.series.first;
    r.region = x.series.second;
    report_.series.push_back(std::move(r));
  }
  board_->publish(report_);
}

prometheus_source::~prometheus_source() {
  stop();
}

query_value prometheus_source::ask(const std::string& url, bool& reached) {
  auto out = endpoint_.get(url, settings_.timeout);
  switch (out.end) {
    case http_end::answered:
      break;
    case http_end::timed_out:
      reached = false;
      return {no_data::timeout, 0, "no answer within " + std::to_string(settings_.timeout.count())
                                     + " ms"};
    default:
      reached = false;
      return {no_data::unreachable, 0, out.error};
  }
  if (out.status >= 500) // the server is there but cannot answer: as good as unreachable
    reached = false;
  return read_query_answer(out.status, out.body);
}

void prometheus_source::note(series_report& r, const query_value& v) {
  ++report_.errors[to_string(v.why)];
  // Logged when a series loses its data or the reason changes, not every round.
  if (!r.polled || r.why != v.why)
    spdlog::warn("prometheus: {}/{}: no data ({}: {})", r.service, r.region, to_string(v.why),
                 v.detail);
  r.why = v.why;
  r.detail = v.detail;
}

void prometheus_source::poll_once() {
  bool reached = true;
  query_value down; // once the server is not reached, the round's other queries are not sent
  auto query = [&](const std::string& url) {
    if (!reached)
      return down;
    auto v = ask(url, reached);
    if (!reached)
      down = v;
    return v;
  };
  for (size_t i = 0; i < queries_.size(); ++i) {
    auto& q = queries_[i];
    auto& r = report_.series[i];
    auto rate = query(q.error_rate_url);
    query_value latency;
    if (rate.why == no_data::none && !q.latency_url.empty())
      latency = query(q.latency_url);
    if (rate.why != no_data::none || latency.why != no_data::none) {
      note(r, rate.why != no_data::none ? rate : latency);
      r.polled = true;
      continue;
    }
    if (r.polled && r.why != no_data::none)
      spdlog::info("prometheus: {}/{}: data again", r.service, r.region);
    r.polled = true;
    r.why = no_data::none;
    r.detail.clear();
    r.error_rate = rate.value;
    r.latency_ms = latency.value;
    r.refused = !sinks_.feed(metric_sample{r.service, r.region, rate.value, latency.value,
                                           sinks_.now()});
    ++(r.refused ? report_.refused : report_.samples);
  }
  ++report_.rounds;
  if (reached) {
    if (report_.failed_rounds > 0)
      spdlog::info("prometheus: {} answers again", settings_.address);
    report_.failed_rounds = 0;
  } else if (++report_.failed_rounds == 1) {
    spdlog::warn("prometheus: {} could not be reached this round", settings_.address);
  }
  if (sinks_.failed_rounds)
    sinks_.failed_rounds(static_cast<double>(report_.failed_rounds));
  board_->publish(report_);
}

void prometheus_source::start() {
  thread_ = std::thread{[this] {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!stopping_) {
      auto next = std::chrono::steady_clock::now() + settings_.interval;
      lock.unlock();
      poll_once();
      lock.lock();
      wake_.wait_until(lock, next, [this] { return stopping_; });
    }
  }};
}

void prometheus_source::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

} // namespace bulwark
