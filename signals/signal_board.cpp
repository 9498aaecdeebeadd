#include "signals/signal_board.hpp"

namespace bulwark {

nlohmann::json signals_json(const source_report& r) {
  nlohmann::json series = nlohmann::json::array();
  for (auto& s : r.series) {
    const char* detection = !s.polled ? "waiting" : s.why == no_data::none ? "ok" : "no_data";
    nlohmann::json x{{"service", s.service}, {"region", s.region}, {"detection", detection}};
    if (s.polled && s.why != no_data::none) {
      x["reason"] = to_string(s.why);
      x["detail"] = s.detail;
    } else if (s.polled) {
      x["error_rate"] = s.error_rate;
      x["latency_ms"] = s.latency_ms;
      x["refused"] = s.refused;
    }
    series.push_back(std::move(x));
  }
  return {{"kind", "prometheus"},
          {"address", r.address},
          {"reachable", r.rounds > 0 && r.failed_rounds == 0},
          {"rounds", r.rounds},
          {"failed_rounds", r.failed_rounds},
          {"samples", r.samples},
          {"refused", r.refused},
          {"errors", r.errors},
          {"series", std::move(series)}};
}

} // namespace bulwark
