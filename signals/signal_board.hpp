#pragma once

/// What the node's signal source last saw, per (service, region) and as a whole: read by
/// the console's `status` (and `GET /v1/status`) from any thread, written by the source.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "signals/prometheus_answer.hpp"
#include "signals/prometheus_config.hpp"

namespace bulwark {

/// One series as last polled.
struct series_report {
  std::string service;
  std::string region;
  bool polled = false;       ///< false until its first round ends
  no_data why = no_data::none; ///< none: its sample went to the detector
  std::string detail;        ///< what was wrong, when `why != none`
  double error_rate = 0;     ///< the last value read (also kept while no data)
  double latency_ms = 0;
  bool refused = false;      ///< the detector refused the last sample (out of range, shed)
};

/// The source as a whole.
struct source_report {
  std::string address;
  uint64_t rounds = 0;          ///< rounds finished
  uint64_t failed_rounds = 0;   ///< consecutive rounds in which Prometheus was not reached
  uint64_t samples = 0;         ///< samples the detector took
  uint64_t refused = 0;         ///< samples the detector refused
  std::map<std::string, uint64_t> errors; ///< queries without a value, by reason
  std::vector<series_report> series;
};

/// The shared board (thread-safe).
class signal_board {
public:
  void publish(source_report r) {
    std::lock_guard<std::mutex> guard{mtx_};
    report_ = std::move(r);
  }

  source_report get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return report_;
  }

private:
  mutable std::mutex mtx_;
  source_report report_;
};

/// The report as JSON: {"kind": "prometheus", "address", "reachable", "rounds",
/// "failed_rounds", "samples", "refused", "errors": {reason: n}, "series": [{"service",
/// "region", "detection": "ok" | "no_data" | "waiting", "reason", "detail",
/// "error_rate", "latency_ms"}]}.
nlohmann::json signals_json(const source_report& r);

} // namespace bulwark
