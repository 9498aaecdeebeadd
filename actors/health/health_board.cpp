#include "actors/health/health_board.hpp"

#include <algorithm>

namespace bulwark {

health_snapshot make_snapshot(const health_policy& p, const health_snapshot& previous,
                              const std::vector<early_warning>& raised, caf::timestamp now,
                              size_t keep) {
  health_snapshot out;
  out.level = p.level();
  out.rounds = previous.rounds + 1;
  for (auto& m : failure_modes())
    out.modes.push_back(mode_report{m.id, m.name, m.mitigation, m.action, p.mode_level(m.id)});
  for (auto& st : p.indicators())
    out.indicators.push_back(indicator_report{st.def->id, st.def->mode, st.def->unit, st.sampled,
                                              st.value, st.limits, st.level, st.direction,
                                              st.history});
  out.warnings = previous.warnings;
  for (auto& w : out.warnings) {
    auto st = p.find(w.warning.indicator);
    // Active while its indicator stays at (or above) the level the warning announced.
    w.active = w.active && st != nullptr && st->level >= w.warning.level;
  }
  for (auto& w : raised)
    out.warnings.push_back(warning_report{w, now, true});
  while (out.warnings.size() > keep) {
    auto i = std::find_if(out.warnings.begin(), out.warnings.end(),
                          [](const warning_report& w) { return !w.active; });
    out.warnings.erase(i != out.warnings.end() ? i : out.warnings.begin());
  }
  return out;
}

void health_board::publish(health_snapshot s) {
  bool space = false;
  for (auto& m : s.modes)
    space |= m.id == "JOURNAL-SPACE" && m.level == degradation::critical;
  std::lock_guard<std::mutex> guard{mtx_};
  level_.store(static_cast<uint8_t>(s.level), std::memory_order_release);
  space_critical_.store(space, std::memory_order_release);
  snap_ = std::move(s);
}

health_snapshot health_board::get() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return snap_;
}

void health_board::verified(caf::timestamp at, bool ok, uint64_t first_bad) {
  std::lock_guard<std::mutex> guard{mtx_};
  verified_at_ = at;
  verified_ok_ = ok;
  first_bad_ = first_bad;
}

caf::optional<caf::timestamp> health_board::last_verified(bool& ok, uint64_t& first_bad) const {
  std::lock_guard<std::mutex> guard{mtx_};
  ok = verified_ok_;
  first_bad = first_bad_;
  return verified_at_;
}

} // namespace bulwark
