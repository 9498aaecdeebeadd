#pragma once

/// The `prometheus` signal source: every interval, for each (service, region), asks the
/// configured Prometheus for the error rate (and latency) with an instant query and hands
/// the sample to the detector as `engine::feed_metric` does. A query without a value
/// (unreachable, timeout, malformed, empty, NaN, wrong type) sends nothing: the series
/// reports "no data" with the reason, counted and logged. Rounds in which Prometheus could
/// not be reached are the health indicator `prometheus_failed_rounds`.
/// Polling runs on a thread of its own, never on the actors' threads.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bulwark/engine.hpp"
#include "effectors/http_call.hpp"
#include "signals/signal_board.hpp"

namespace bulwark {

/// Where the source's results go.
struct signal_sinks {
  std::function<bool(const metric_sample&)> feed;               ///< true: the detector took it
  std::function<std::chrono::system_clock::time_point()> now;   ///< the samples' time
  std::function<void(double)> failed_rounds;                     ///< the health indicator
};

/// One source; `start` runs it on its thread until `stop` (or destruction).
class prometheus_source {
public:
  /// `s.series` must not be empty (the node fills it from the fleet); the templates are
  /// expanded here: INVALID_INPUT names the key when one cannot be.
  static caf::expected<std::unique_ptr<prometheus_source>> make(prometheus_settings s,
                                                                signal_sinks sinks);
  ~prometheus_source();

  /// One round: every series asked, every sample fed, the board published.
  void poll_once();

  /// Polls every interval on a thread of its own.
  void start();

  /// Stops the thread (a round in progress finishes its current query first).
  void stop();

  std::shared_ptr<const signal_board> board() const {
    return board_;
  }

private:
  struct series_queries {
    signal_series series;
    std::string error_rate_url;
    std::string latency_url; ///< "" when no latency query is configured
  };

  prometheus_source(prometheus_settings s, signal_sinks sinks, std::vector<series_queries> q);
  query_value ask(const std::string& url, bool& reached);
  void note(series_report& r, const query_value& v);

  prometheus_settings settings_;
  signal_sinks sinks_;
  std::vector<series_queries> queries_;
  http_endpoint endpoint_;
  source_report report_; ///< owned by the polling thread (or `poll_once`'s caller)
  std::shared_ptr<signal_board> board_ = std::make_shared<signal_board>();
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace bulwark
