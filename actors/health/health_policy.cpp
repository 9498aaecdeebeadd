#include "actors/health/health_policy.hpp"

#include <algorithm>
#include <cmath>

namespace bulwark {

caf::error check_health(const health_settings& s, const std::string& origin) {
  auto bad = [&](const std::string& key, const std::string& problem) {
    return refuse(ec::invalid_input, origin + ": health." + key + ": " + problem);
  };
  if (s.period <= caf::timespan{0})
    return bad("period_ms", "must be greater than zero");
  if (s.verify_interval <= caf::timespan{0})
    return bad("verify_interval_ms", "must be greater than zero");
  if (s.rate_window <= caf::timespan{0})
    return bad("rate_window_ms", "must be greater than zero");
  if (s.history < 2)
    return bad("history", "must be at least 2 (a trend needs two samples)");
  if (s.sustain_rounds < 1 || s.sustain_rounds > max_sustain_rounds)
    return bad("sustain_rounds", "must be between 1 and " + std::to_string(max_sustain_rounds));
  for (auto& [id, t] : s.limits) {
    auto known = std::any_of(indicator_defs().begin(), indicator_defs().end(),
                             [&](const indicator_def& d) { return d.id == id; });
    if (!known)
      return bad(id + "_warning", "is not a health indicator");
    if (!(t.warning >= 0) || !std::isfinite(t.critical))
      return bad(id + "_warning", "must be a finite number >= 0");
    if (t.warning > t.critical)
      return bad(id + "_warning", "must not be above " + id + "_critical");
  }
  return {};
}

thresholds limits_of(const health_settings& s, const indicator_def& def) {
  auto i = s.limits.find(def.id);
  return i != s.limits.end() ? i->second : def.limits;
}

const char* to_string(trend x) noexcept {
  switch (x) {
    case trend::falling:
      return "falling";
    case trend::steady:
      return "steady";
    case trend::rising:
      return "rising";
  }
  return "unknown";
}

trend trend_of(const std::vector<double>& history, double scale) {
  auto n = history.size();
  if (n < 2)
    return trend::steady;
  double mean_x = (static_cast<double>(n) - 1) / 2, mean_y = 0;
  for (auto y : history)
    mean_y += y;
  mean_y /= static_cast<double>(n);
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    auto dx = static_cast<double>(i) - mean_x;
    num += dx * (history[i] - mean_y);
    den += dx * dx;
  }
  // Change over the whole window along the fitted line, against a relative tolerance.
  auto change = num / den * (static_cast<double>(n) - 1);
  auto tolerance = 0.05 * std::max(std::fabs(mean_y), scale);
  if (change > tolerance)
    return trend::rising;
  if (change < -tolerance)
    return trend::falling;
  return trend::steady;
}

degradation sustained_level(indicator_state& st, degradation measured, size_t rounds) {
  // Each run counts the consecutive rounds at or above its threshold; any round below
  // restarts it, so the level falls at once while a rise waits for a full run.
  st.rounds_warning = measured >= degradation::degraded ? st.rounds_warning + 1 : 0;
  st.rounds_critical = measured >= degradation::critical ? st.rounds_critical + 1 : 0;
  if (st.rounds_critical >= rounds)
    return degradation::critical;
  if (st.rounds_warning >= rounds)
    return degradation::degraded;
  return degradation::normal;
}

degradation level_of(double value, const thresholds& t) {
  if (value >= t.critical)
    return degradation::critical;
  if (value >= t.warning)
    return degradation::degraded;
  return degradation::normal;
}

health_policy::health_policy(health_settings s) : settings_(std::move(s)) {
  for (auto& def : indicator_defs()) {
    indicator_state st;
    st.def = &def;
    st.limits = limits_of(settings_, def);
    indicators_.push_back(std::move(st));
  }
}

double health_policy::value_of(indicator_state& st, double sample, caf::timestamp now) {
  if (st.def->kind == indicator_kind::gauge)
    return sample;
  // A counter's value is its growth since the oldest sample still inside the window
  // (the first sample is the baseline: growth before it is not counted).
  st.totals.emplace_back(now, sample);
  while (st.totals.size() > 1 && st.totals[1].first <= now - settings_.rate_window)
    st.totals.pop_front();
  return std::max(0.0, sample - st.totals.front().second);
}

health_step health_policy::observe(const std::vector<reading>& readings, caf::timestamp now) {
  health_step out;
  for (auto& r : readings) {
    auto i = std::find_if(indicators_.begin(), indicators_.end(), [&](const indicator_state& s) {
      return s.def->id == r.indicator;
    });
    if (i == indicators_.end() || !std::isfinite(r.sample))
      continue;
    auto& st = *i;
    st.sampled = true;
    st.value = value_of(st, r.sample, now);
    st.history.push_back(st.value);
    if (st.history.size() > settings_.history)
      st.history.erase(st.history.begin());
    st.direction = trend_of(st.history, st.limits.warning);
    auto before = st.level;
    st.level = sustained_level(st, level_of(st.value, st.limits), settings_.sustain_rounds);
    if (st.level == degradation::normal)
      st.raised_at = caf::none;
    if (st.level > before) {
      st.raised_at = now;
      auto mode = find_mode(st.def->mode);
      out.warnings.push_back(early_warning{
        st.def->mode, st.def->id, st.level, st.value,
        st.level == degradation::critical ? st.limits.critical : st.limits.warning,
        mode != nullptr ? mode->action : std::string{}});
    }
  }
  auto worst = degradation::normal;
  for (auto& st : indicators_)
    worst = std::max(worst, st.level);
  if (worst != level_) {
    out.change = degradation_changed{level_, worst, modes_at(worst)};
    level_ = worst;
  }
  return out;
}

degradation health_policy::mode_level(const std::string& id) const {
  auto worst = degradation::normal;
  for (auto& st : indicators_)
    if (st.def->mode == id)
      worst = std::max(worst, st.level);
  return worst;
}

const indicator_state* health_policy::find(const std::string& id) const {
  for (auto& st : indicators_)
    if (st.def->id == id)
      return &st;
  return nullptr;
}

std::string health_policy::modes_at(degradation lvl) const {
  std::string out;
  if (lvl == degradation::normal)
    return out;
  for (auto& m : failure_modes())
    if (mode_level(m.id) == lvl)
      out += (out.empty() ? "" : ",") + m.id;
  return out;
}

} // namespace bulwark
