#pragma once

/// The projection of the fleet-wide blast budget (`fleet_state::budget`), pure like the
/// rest of the projection: a function of the records alone (docs/journal-format.md,
/// type 46).

#include <string>

#include "messages/events.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// A `budget_charged` record: drops the charges that ended before it began, then charges
/// its entries until its `until`.
void charge_budget(budget_map& budget, const budget_charged& x);

/// A compensation (`rollback_applied`) of `resource` of `service`: its charge goes.
void release_resource(budget_map& budget, const std::string& service,
                      const std::string& resource);

/// A proposal that left the fleet as it found it: every charge of `proposal` goes.
void release_proposal(budget_map& budget, const digest& proposal);

} // namespace bulwark
