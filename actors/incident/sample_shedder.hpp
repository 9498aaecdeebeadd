#pragma once

/// The pure core that decides which metric samples are shed while the node is degraded:
/// fair per series, and never a sample of a series that detection needs right now.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/ids.hpp"

namespace bulwark {

/// Sheds telemetry under load without blinding detection.
///
/// A series is **protected** while it has an open incident (open or escalated) and, after
/// a change was applied to one of its resources, for `protect_after_change` (the longer of
/// the RCA look-back and the observation window). Every series of the changed resource's
/// service is protected for `service_window` after the change (a level-3 step's observation
/// window, which analyses the whole service, every region). A protected series' samples
/// are never shed. The others are shed per series, each by its own count of offered samples:
/// degraded (level 1) keeps every other sample of each series (the 1st, 3rd, ...),
/// critical (level 2 or more) keeps one in four (the 1st, 5th, ...). So no series loses
/// all its samples whatever order the series report in, and one series' volume does not
/// decide which samples of another are kept.
class sample_shedder {
public:
  using series = std::pair<std::string, std::string>; ///< (service, region)

  explicit sample_shedder(caf::timespan protect_after_change = std::chrono::minutes{10},
                          caf::timespan service_window = {})
    : span_(protect_after_change), window_(service_window) {
  }

  /// Whether to shed a sample of `s` offered at `now` at degradation `level`; counts it.
  bool shed(const series& s, int level, caf::timestamp now);

  /// Protects `s` while `incident` is open.
  void incident_opened(const series& s, const digest& incident);

  /// Ends the protection `incident` gave its series.
  void incident_closed(const digest& incident);

  /// Protects `s` for the span after a change applied at `at`, and every series of its
  /// service for the service window.
  void change_applied(const series& s, caf::timestamp at);

  /// Whether `s` is protected at `now`.
  bool is_protected(const series& s, caf::timestamp now) const;

  /// Forgets every incident (a restarted detector tells them again).
  void clear_incidents();

  caf::timespan protect_after_change() const noexcept {
    return span_;
  }

private:
  caf::timespan span_;
  caf::timespan window_;
  std::map<series, uint64_t> offered_;             ///< samples offered while degraded
  std::map<digest, series> incidents_;             ///< open incidents
  std::map<series, caf::timestamp> changed_until_; ///< protected after a change until
  std::map<std::string, caf::timestamp> service_until_; ///< a service's window ends
};

} // namespace bulwark
