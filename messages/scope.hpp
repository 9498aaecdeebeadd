#pragma once

/// Messages between the pipeline and the governance actors: scope requests and verdicts.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"

#include "messages/commands.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// What blast radius needs to judge a proposal: the proposal, the service and region of
/// each mutation's resource (parallel to its mutations), the active fleet size of each
/// touched service and of each touched (service, region) (key "service/region"), and the
/// journaled charges of the fleet-wide budget on the touched services.
struct scope_request {
  proposal subject;
  std::vector<std::string> touched_services;
  std::map<std::string, uint32_t> sizes;
  digest id;                                 ///< the proposal's digest (its reservation)
  std::vector<std::string> touched_regions;  ///< parallel to the mutations
  std::map<std::string, uint32_t> region_sizes;
  budget_map committed;                      ///< the journal's charges (touched services)
  bool charge = true; ///< reserve the budget when allowed (false: check only)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scope_request& x) {
  return f(caf::meta::type_name("scope_request"), x.subject, x.touched_services, x.sizes,
           x.id, x.touched_regions, x.region_sizes, x.committed, x.charge);
}

/// The blast-radius verdict: allowed, or the dimension that refused with limit and ask.
struct scope_verdict {
  bool allowed = false;
  std::string dimension; ///< "service", "region", "percent" or "budget"
  double limit = 0;
  double asked = 0;
  uint32_t allowed_count = 0; ///< resources this proposal may touch (strictest wins)
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scope_verdict& x) {
  return f(caf::meta::type_name("scope_verdict"), x.allowed, x.dimension, x.limit, x.asked,
           x.allowed_count, x.reason);
}

/// The authority's verdict on one proposal.
struct authority_verdict {
  bool allowed = false;
  ec code = ec::none;
  std::string reason;
  caf::optional<caf::timespan> retry_after;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, authority_verdict& x) {
  return f(caf::meta::type_name("authority_verdict"), x.allowed, x.code, x.reason,
           x.retry_after);
}

} // namespace bulwark
