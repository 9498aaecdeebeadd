#pragma once

/// The pure core of blast-radius limits: service, region and percent scope, and the
/// fleet-wide budget, a rolling window per (service, region) shared by all principals,
/// so that neither one large change sliced into small ones nor many principals at once
/// change more of a service or region than the percent allows.
///
/// Rounding rule (docs/configuration.md): the percent limit allows
/// floor(active * percent / 100) resources of a service, or of a service in one region,
/// but never fewer than one, so a small service can still be changed one resource at a
/// time.
///
/// The budget's durable half is the journal's (`budget_charged` records, projected as
/// `fleet_state::budget` and handed in with each request); this core adds the
/// reservations of proposals it allowed whose charge is not durable yet, so that two
/// checks in a row cannot both spend the same room.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

/// Returns how many resources of `fleet` active ones may change at `percent`.
uint32_t percent_allowance(uint32_t fleet, double percent);

/// Scope checks against the fleet-wide budget.
class blast_radius_policy {
public:
  explicit blast_radius_policy(blast_limits limits = {}) : limits_(limits) {
  }

  /// Checks the request against the limits and the budget (the request's journaled
  /// charges plus this policy's reservations). When allowed and `req.charge`, reserves
  /// the proposal's resources under `req.id` until `settle(req.id)` or the window ends.
  /// @pre every mutation names a known resource of a declared service and region.
  scope_verdict check(const scope_request& req, caf::timestamp now);

  /// Drops the reservation of proposal `id`: its charge is durable now, or it will
  /// never be (refused, failed, finished).
  void settle(const digest& id);

  /// Returns the number of reservations held.
  size_t reservations() const noexcept {
    return reserved_.size();
  }

  const blast_limits& limits() const noexcept {
    return limits_;
  }

  /// Applies new limits (a policy reload) from the next check on; the charges and
  /// reservations stay.
  void set_limits(const blast_limits& limits) noexcept {
    limits_ = limits;
  }

private:
  struct reservation {
    caf::timestamp until;
    std::vector<budget_entry> entries;
  };

  blast_limits limits_;
  std::map<digest, reservation> reserved_;
};

} // namespace bulwark
