#pragma once

/// The pure core of blast-radius limits: service, region and percent scope, plus a
/// rolling window per principal so a large change cannot be sliced into small ones.
///
/// Rounding rule (documented in README "Configuration"): the percent limit allows
/// floor(fleet * percent / 100) resources of a service, but never fewer than one, so a
/// small service can still be changed one resource at a time.

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/commands.hpp"
#include "messages/scope.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// Settings (`[blast_radius]` in bulwark.toml).
struct blast_limits {
  uint32_t max_services = 1;
  uint32_t max_regions = 1;
  double max_percent = 5.0;
  caf::timespan window = std::chrono::hours{1};
};

/// Returns how many resources of a service of `fleet` active resources may change.
uint32_t percent_allowance(uint32_t fleet, double percent);

/// Scope checks with a rolling window of what each principal changed.
class blast_radius_policy {
public:
  explicit blast_radius_policy(blast_limits limits = {}) : limits_(limits) {
  }

  /// Checks the request against the limits and, when allowed, records its resources
  /// in the principal's window.
  /// @pre every mutation names a known resource of a declared service and region.
  scope_verdict check(const scope_request& req, caf::timestamp now);

  const blast_limits& limits() const noexcept {
    return limits_;
  }

private:
  struct usage {
    caf::timestamp at;
    std::string principal;
    std::string service;
    std::string resource;
  };
  void expire(caf::timestamp now);

  blast_limits limits_;
  std::deque<usage> window_; // in time order, for expiry
  // (principal, service) -> resource -> entries in the window: the distinct resources a
  // principal changed per service, without scanning the whole window on each check.
  std::map<std::pair<std::string, std::string>, std::map<std::string, uint32_t>> index_;
};

} // namespace bulwark
