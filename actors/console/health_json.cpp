#include "actors/console/health_json.hpp"

#include <sstream>

namespace bulwark {

namespace {

nlohmann::json warning_json(const warning_report& w) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(w.at.time_since_epoch());
  return {{"mode", w.warning.mode}, {"indicator", w.warning.indicator},
          {"level", to_string(w.warning.level)}, {"value", w.warning.value},
          {"threshold", w.warning.threshold}, {"action", w.warning.action},
          {"at_ms", ms.count()}, {"active", w.active}};
}

} // namespace

nlohmann::json health_json(const health_snapshot& s) {
  nlohmann::json modes = nlohmann::json::array(), indicators = nlohmann::json::array();
  for (auto& m : s.modes)
    modes.push_back({{"id", m.id}, {"name", m.name}, {"level", to_string(m.level)},
                     {"mitigation", m.mitigation}, {"action", m.action}});
  for (auto& i : s.indicators)
    indicators.push_back({{"id", i.id}, {"mode", i.mode}, {"unit", i.unit},
                          {"sampled", i.sampled}, {"value", i.value},
                          {"warning", i.limits.warning}, {"critical", i.limits.critical},
                          {"level", to_string(i.level)}, {"trend", to_string(i.direction)},
                          {"history", i.history}});
  size_t active = 0;
  for (auto& w : s.warnings)
    active += w.active;
  return {{"degradation", to_string(s.level)}, {"rounds", s.rounds},
          {"active_warnings", active}, {"modes", modes}, {"indicators", indicators}};
}

nlohmann::json warnings_json(const health_snapshot& s) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& w : s.warnings)
    out.push_back(warning_json(w));
  return out;
}

std::string render_health_metrics(const health_snapshot& s) {
  std::ostringstream out;
  out << "# HELP bulwark_degradation Degradation level: 0 normal, 1 degraded, 2 critical.\n"
         "# TYPE bulwark_degradation gauge\n"
      << "bulwark_degradation " << static_cast<int>(s.level) << '\n';
  out << "# HELP bulwark_failure_mode_level Level of each failure mode (0, 1, 2).\n"
         "# TYPE bulwark_failure_mode_level gauge\n";
  for (auto& m : s.modes)
    out << "bulwark_failure_mode_level{mode=\"" << m.id << "\"} " << static_cast<int>(m.level)
        << '\n';
  out << "# HELP bulwark_health_indicator Current value of each health indicator.\n"
         "# TYPE bulwark_health_indicator gauge\n";
  for (auto& i : s.indicators)
    if (i.sampled)
      out << "bulwark_health_indicator{mode=\"" << i.mode << "\",indicator=\"" << i.id << "\"} "
          << i.value << '\n';
  return out.str();
}

} // namespace bulwark
