#include "engine/doubt_policy.hpp"

namespace bulwark {

namespace {

std::string shown(const std::optional<std::string>& x) {
  return x ? "'" + *x + "'" : std::string{"(unset)"};
}

} // namespace

doubt_judgement judge_doubt(const std::vector<in_doubt_action>& actions,
                            const std::vector<probe_reading>& readings) {
  using verdict = doubt_judgement::verdict;
  doubt_judgement out;
  if (actions.empty() || actions.size() != readings.size()) {
    out.evidence = "no reading for every action in doubt";
    return out;
  }
  size_t applied = 0, untouched = 0;
  std::string seen;
  for (size_t i = 0; i < actions.size(); ++i) {
    auto& a = actions[i];
    auto& r = readings[i];
    auto where = a.resource + "/" + a.key;
    if (!r.ok) {
      out.evidence = "the probe of " + where + " failed: " + r.error;
      return out;
    }
    if (r.value && *r.value == a.value) {
      ++applied;
      seen += (seen.empty() ? "" : "; ") + where + " holds " + shown(r.value)
              + ", the value step " + std::to_string(a.step) + " was to set";
    } else if (r.value == a.journaled_value) {
      ++untouched;
      seen += (seen.empty() ? "" : "; ") + where + " holds " + shown(r.value)
              + ", the journal's value";
    } else {
      out.evidence = where + " holds " + shown(r.value) + ": neither '" + a.value
                     + "' (to set) nor " + shown(a.journaled_value) + " (journaled)";
      return out;
    }
  }
  if (applied == actions.size())
    out.outcome = verdict::applied;
  else if (untouched == actions.size())
    out.outcome = verdict::not_applied;
  else {
    out.evidence = "the probes disagree: " + seen;
    return out;
  }
  out.evidence = "probe: " + seen;
  return out;
}

} // namespace bulwark
