#include "actors/incident/sample_shedder.hpp"

namespace bulwark {

bool sample_shedder::shed(const series& s, int level, caf::timestamp now) {
  if (level <= 0 || is_protected(s, now))
    return false;
  auto n = offered_[s]++;
  return level == 1 ? n % 2 == 1 : n % 4 != 0;
}

void sample_shedder::incident_opened(const series& s, const digest& incident) {
  incidents_[incident] = s;
}

void sample_shedder::incident_closed(const digest& incident) {
  incidents_.erase(incident);
}

void sample_shedder::change_applied(const series& s, caf::timestamp at) {
  auto until = at + span_;
  auto& x = changed_until_[s];
  if (until > x)
    x = until;
  if (window_ > caf::timespan{0}) {
    auto& w = service_until_[s.first];
    if (at + window_ > w)
      w = at + window_;
  }
}

bool sample_shedder::is_protected(const series& s, caf::timestamp now) const {
  if (auto i = changed_until_.find(s); i != changed_until_.end() && now < i->second)
    return true;
  if (auto i = service_until_.find(s.first); i != service_until_.end() && now < i->second)
    return true;
  for (auto& [id, x] : incidents_)
    if (x == s)
      return true;
  return false;
}

void sample_shedder::clear_incidents() {
  incidents_.clear();
}

} // namespace bulwark
