#pragma once

/// The governance policy a node runs under, as a document: its entries (one per setting,
/// keyed as in bulwark.toml), its version (their digest) and the differences between two
/// of them. Pure: the same configuration gives the same entries and version.

#include <string>
#include <vector>

#include "messages/events.hpp"

namespace bulwark {

struct node_config; // engine/node_config.hpp

/// The policy's entries, sorted by key: grants (`authority.grant.<principal>`), admins,
/// operators, approver roles, self-approval, the enforce flag, rates, timeouts, batch and
/// audit bounds, level-3 analysis, the blast limits, the pipeline's timeouts and bounds,
/// and the incident policies and correlation rules (docs/configuration.md, "Audited
/// policy", lists every key).
std::vector<policy_entry> policy_entries(const node_config& cfg);

/// The version of a policy: SHA-256 (64 lowercase hex) of its entries as text, one
/// `key=value` line each (a newline after each), in key order.
std::string policy_version(const std::vector<policy_entry>& entries);

/// What changed from `before` to `after` (both sorted by key), by key.
std::vector<policy_change> policy_diff(const std::vector<policy_entry>& before,
                                       const std::vector<policy_entry>& after);

} // namespace bulwark
