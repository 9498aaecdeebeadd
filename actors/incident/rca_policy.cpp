#include "actors/incident/rca_policy.hpp"

#include <algorithm>
#include <set>

namespace bulwark {

void rca_policy::add(const std::string& service, const std::string& region, applied_action a) {
  where_[a.seq.value] = {service, region};
  index_[{service, region}].push_back(std::move(a));
  ++size_;
}

void rca_policy::remove(seq_no seq) {
  // Marked, not erased: a rollback of many actions stays linear; prune drops them.
  if (where_.count(seq.value) != 0 && reverted_.insert(seq.value).second)
    --size_;
}

void rca_policy::prune(caf::timestamp before) {
  for (auto& [key, q] : index_)
    while (!q.empty() && q.front().at < before) {
      auto seq = q.front().seq.value;
      where_.erase(seq);
      if (reverted_.erase(seq) == 0)
        --size_;
      q.pop_front();
    }
}

namespace {

struct proposal_score {
  digest proposal;
  uint32_t score = 0;
  uint64_t newest = 0;             ///< newest seq (the tie-break)
  std::vector<const applied_action*> actions;
};

} // namespace

rca_result rca_policy::rank(const std::string& service, const std::string& region,
                            caf::timestamp onset) const {
  if (auto i = index_.find({service, region}); i != index_.end()) {
    auto own = rank_series(i->second, onset, 1, {});
    if (!own.ranked.empty())
      return own;
  }
  // Nothing changed in this series: look for a cascade from the region's other services.
  std::deque<applied_action> region_actions;
  for (auto& [key, q] : index_)
    if (key.second == region && key.first != service)
      region_actions.insert(region_actions.end(), q.begin(), q.end());
  std::sort(region_actions.begin(), region_actions.end(),
            [](const applied_action& x, const applied_action& y) { return x.seq < y.seq; });
  return rank_series(region_actions, onset, 2, {});
}

rca_result rca_policy::rank_series(const std::deque<applied_action>& q, caf::timestamp onset,
                                   uint32_t divisor, rca_result out) const {
  auto from = onset - s_.lookback;
  // Newest first; the index is in journal order, so stop at the window's old edge.
  std::map<digest, proposal_score> by_proposal;
  std::set<std::string> touched;
  for (auto a = q.rbegin(); a != q.rend(); ++a) {
    if (a->at > onset)
      continue;
    if (a->at < from)
      break;
    if (reverted_.count(a->seq.value) != 0)
      continue;
    auto& p = by_proposal[a->proposal];
    p.proposal = a->proposal;
    p.newest = std::max(p.newest, a->seq.value);
    p.actions.push_back(&*a);
    touched.insert(a->resource.value);
  }
  if (by_proposal.empty())
    return out;
  auto window = static_cast<double>(s_.lookback.count());
  std::vector<proposal_score> ranked;
  for (auto& [id, p] : by_proposal) {
    auto age = static_cast<double>((onset - p.actions.front()->at).count());
    double recency = window > 0 ? 1.0 - std::min(1.0, age / window) : 1.0;
    std::set<std::string> mine;
    for (auto* a : p.actions)
      mine.insert(a->resource.value);
    double coverage = static_cast<double>(mine.size()) / static_cast<double>(touched.size());
    p.score = static_cast<uint32_t>((600.0 * recency + 400.0 * coverage) / divisor + 0.5);
    ranked.push_back(std::move(p));
  }
  std::sort(ranked.begin(), ranked.end(), [](const proposal_score& x, const proposal_score& y) {
    return x.score != y.score ? x.score > y.score : x.newest > y.newest;
  });
  for (auto* a : ranked.front().actions)
    out.culprit_seqs.push_back(a->seq);
  for (auto& p : ranked)
    for (auto* a : p.actions) {
      if (out.ranked.size() >= s_.max_culprits)
        return out;
      out.ranked.push_back(culprit{a->seq, a->proposal, a->resource, a->key, p.score,
                                   onset - a->at});
    }
  return out;
}

} // namespace bulwark
