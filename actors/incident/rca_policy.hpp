#pragma once

/// Root-cause analysis, pure: an index of applied actions per (service, region) and the
/// ranking of the ones before an anomaly's onset.
///
/// Scoring (thousandths, documented in README "Incidents"): the actions within
/// `lookback` before the onset are grouped by proposal (one change); each proposal scores
///   600 x recency   (1 at the onset, 0 at the edge of the look-back window; its newest
///                    action counts)
/// + 400 x coverage  (the share of the distinct resources touched in the window that this
///                    proposal touched).
/// The culprit is the best proposal (ties: the newer one). Every action of the ranked
/// proposals is listed, best proposal first, newest action first, at most `max_culprits`.
///
/// Cascades: when the series itself had no action in the window, the actions of the same
/// region's other services are ranked instead, at half the score (a failure that spread
/// from a changed upstream service within one region).

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/ids.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// Root-cause analysis settings.
struct rca_settings {
  caf::timespan lookback = std::chrono::minutes{10};
  uint32_t max_culprits = 64;
};

/// One applied action as the index keeps it.
struct applied_action {
  seq_no seq;
  digest proposal;
  resource_id resource;
  std::string key;
  caf::timestamp at;
};

/// The ranking: every listed action, and the seqs of the culprit proposal's actions.
struct rca_result {
  std::vector<culprit> ranked;
  std::vector<seq_no> culprit_seqs; ///< what a rollback of the culprit reverts, newest first
};

/// Applied actions per (service, region), in journal order, pruned to a horizon.
class rca_policy {
public:
  explicit rca_policy(rca_settings s) : s_(s) {
  }

  /// Records an applied action of `service` in `region`.
  void add(const std::string& service, const std::string& region, applied_action a);

  /// Forgets a reverted action (rolled back actions are no longer suspects).
  void remove(seq_no seq);

  /// Drops actions older than `before` (keeps memory bounded to the look-back horizon).
  void prune(caf::timestamp before);

  /// Ranks the actions of (service, region) within the look-back window before `onset`.
  rca_result rank(const std::string& service, const std::string& region,
                  caf::timestamp onset) const;

  /// Actions held.
  size_t size() const noexcept {
    return size_;
  }

private:
  rca_result rank_series(const std::deque<applied_action>& q, caf::timestamp onset,
                         uint32_t divisor, rca_result out) const;

  rca_settings s_;
  std::map<std::pair<std::string, std::string>, std::deque<applied_action>> index_;
  std::map<uint64_t, std::pair<std::string, std::string>> where_; ///< seq -> series
  std::set<uint64_t> reverted_; ///< removed but not yet pruned
  size_t size_ = 0;
};

} // namespace bulwark
