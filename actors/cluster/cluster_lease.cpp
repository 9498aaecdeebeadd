// The leader's lease in etcd, as the cluster actor sees it: the keeper's reports, the
// deadline this node writes until (the journal's fence), stepping down when the lease is
// lost, and whether this node may campaign.

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/cluster/cluster_links.hpp"
#include "actors/cluster/lease_keeper.hpp"

namespace bulwark::cluster_detail {

namespace {

/// The journal refuses local appends from `deadline` on (0: no bound).
void fence_journal(self_ptr self, int64_t deadline_ns) {
  self->send(self->state.deps.journal, atom::fence_v, deadline_ns);
}

caf::actor_clock::time_point from_ns(int64_t ns) {
  using tp = caf::actor_clock::time_point;
  return tp{std::chrono::duration_cast<tp::duration>(std::chrono::nanoseconds{ns})};
}

} // namespace

void start_lease(self_ptr self) {
  auto& st = self->state;
  if (!st.deps.etcd)
    return;
  // Until this node holds the lease, its journal takes the leader's records only (a
  // restarted actor's journal may still be writable from before).
  fence_journal(self, 1);
  set_writable(self, false);
  st.keeper = spawn_lease_keeper(
    self, lease_keeper_deps{*st.deps.etcd, st.deps.cfg.cluster_id, st.deps.cfg.node_id,
                            caf::actor_cast<cluster_actor>(self)});
}

void on_lease(self_ptr self, const std::string& holder, uint64_t term, int64_t deadline_ns,
              const std::string& problem) {
  auto& st = self->state;
  if (self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(st.keeper))
    return; // only this node's keeper speaks for the lease
  st.lease_problem = problem;
  st.lease_holder = holder;
  st.lease_term = term;
  auto& me = st.deps.cfg.node_id;
  if (holder == me && deadline_ns > 0) {
    if (st.leader && term == st.term && problem.empty()
        && from_ns(deadline_ns) > st.lease_deadline)
      ++st.lease_renewals;
    st.lease_deadline = from_ns(deadline_ns);
    fence_journal(self, deadline_ns);
    return;
  }
  bool held = st.lease_deadline != caf::actor_clock::time_point{};
  st.lease_deadline = {};
  if (st.leader)
    step_down(self, holder.empty() ? "its lease is lost (" + problem + ")"
                                   : holder + " holds the lease (term " + std::to_string(term)
                                       + ")");
  if (held) // fenced since start_lease otherwise: no message per report
    fence_journal(self, 1);
  if (!holder.empty())
    observe_term(self, term, holder, "etcd");
}

bool may_campaign(self_ptr self) {
  auto& st = self->state;
  if (st.leader || st.stopped || !st.deps.etcd)
    return false;
  auto head = st.deps.store->head().value;
  for (auto& [id, p] : st.peers)
    if (id != st.wrote_last && p.connected && !p.diverged && p.head.value > head)
      return false; // it is ahead: it campaigns (promotion would refuse this node)
  // The leader of the last term is passed over: the key is free, so its lease lapsed
  // (it may still be connected, stopped or cut off, and ahead with records it never had
  // confirmed; promotion decides on the heads its followers hold).
  return true;
}

bool lease_valid_for(self_ptr self, uint64_t term) {
  auto& st = self->state;
  return !st.deps.etcd
         || (st.lease_holder == st.deps.cfg.node_id && st.lease_term == term
             && self->clock().now() < st.lease_deadline);
}

bool lease_valid(self_ptr self) {
  return lease_valid_for(self, self->state.term);
}

void check_lease(self_ptr self) {
  auto& st = self->state;
  if (!st.leader || !st.deps.etcd)
    return;
  if (!lease_valid(self))
    return step_down(self, "its lease's deadline passed with no renewal");
  // Holding acknowledgements no follower confirms (its records do not reach them: a
  // one-way cut, a stalled link), it gives the lease up after a TTL, so that a follower the
  // others hear can lead; until then nothing is acknowledged either way.
  auto now = self->clock().now();
  auto head = st.deps.store->head();
  if (st.deps.cfg.sync_followers == 0 || head.value <= st.replicated.value) {
    st.confirmed_at = now;
    return;
  }
  auto limit = std::chrono::seconds{st.deps.etcd->lease_ttl_s};
  if (now - st.confirmed_at >= limit)
    step_down(self, "no follower confirmed the records past seq "
                      + std::to_string(st.replicated.value) + " for "
                      + std::to_string(st.deps.etcd->lease_ttl_s)
                      + " s (the lease TTL): it gives the lease up");
}

} // namespace bulwark::cluster_detail
