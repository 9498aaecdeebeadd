#include "supervision/restart_policy.hpp"

#include <algorithm>

namespace bulwark {

size_t restart_policy::recent(caf::timestamp now) {
  while (!restarts_.empty() && restarts_.front() + limits_.window <= now)
    restarts_.pop_front();
  return restarts_.size();
}

restart_decision restart_policy::on_exit(size_t index, size_t count, restart_kind kind,
                                         bool abnormal, caf::timestamp now) {
  restart_decision d;
  bool wanted = kind == restart_kind::permanent || (kind == restart_kind::transient && abnormal);
  if (!wanted)
    return d;
  if (recent(now) >= limits_.max_restarts) {
    d.escalate = true;
    return d;
  }
  // Exponential backoff over the restarts within the window.
  auto n = restarts_.size();
  auto delay = limits_.backoff_base;
  for (size_t i = 0; i < n && delay < limits_.backoff_cap; ++i)
    delay *= 2;
  d.delay = std::min(delay, limits_.backoff_cap);
  restarts_.push_back(now);
  switch (limits_.strategy) {
    case restart_strategy::one_for_one:
      d.restart = {index};
      break;
    case restart_strategy::one_for_all:
      for (size_t i = 0; i < count; ++i)
        d.restart.push_back(i);
      break;
    case restart_strategy::rest_for_one:
      for (size_t i = index; i < count; ++i)
        d.restart.push_back(i);
      break;
  }
  return d;
}

} // namespace bulwark
