// Head gossip, fork detection and leadership terms of the cluster actor.

#include <map>
#include <set>
#include <memory>

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "actors/cluster/cluster_links.hpp"
#include "messages/error.hpp"
#include "persistence/ed25519.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::cluster_detail {

namespace {

void refuse_head(self_ptr self, const signed_head& head, const std::string& reason) {
  auto& st = self->state;
  ++st.refused_heads;
  spdlog::warn("cluster: refused a head from {}: {}", head.node_id, reason);
  if (auto i = st.peers.find(head.node_id); i != st.peers.end())
    i->second.problem = "refused head: " + reason;
}

void raise_fork(self_ptr self, const signed_head& head, const digest& ours) {
  auto& st = self->state;
  st.peers[head.node_id].diverged = true;
  publish_window(self); // a diverged follower counts no more
  auto& problem = st.peers[head.node_id].problem;
  if (problem.rfind("INTEGRITY_VIOLATION fork", 0) == 0)
    return; // raised (and journaled) already; gossip repeats it every few ticks
  ++st.alerts;
  auto reason = "fork: node " + head.node_id + " signed chain " + to_hex(head.chain)
                + " at seq " + std::to_string(head.seq.value) + ", node " + st.deps.cfg.node_id
                + " holds " + to_hex(ours);
  spdlog::error("cluster: INTEGRITY_VIOLATION {}", reason);
  problem = "INTEGRITY_VIOLATION " + reason;
  if (!st.leader && head.node_id == st.deps.cfg.leader) {
    // A follower never replicates past a disagreement with its leader. One with another
    // follower (a deposed leader's tail that was never acknowledged, most often) is
    // reported, and that peer stops counting as a follower; this node's journal links
    // with its leader's, so it goes on.
    st.stopped = true;
    st.alert = reason;
    remember_role(self);
  }
  report_alert(self, integrity_alert{st.deps.cfg.node_id, head.node_id, head.seq, ours,
                                     head.chain, reason});
}

} // namespace

void gossip_head(self_ptr self) {
  auto& st = self->state;
  if (!st.deps.key)
    return;
  signed_head head;
  head.node_id = st.deps.cfg.node_id;
  head.term = st.term;
  head.seq = st.deps.store->head();
  head.chain = st.deps.store->head_chain();
  head.at = caf::make_timestamp();
  if (auto err = sign_head(*st.deps.key, head)) {
    spdlog::error("cluster: signing the head failed: {}", describe(err).message);
    return;
  }
  for (auto& [id, p] : st.peers)
    if (p.connected)
      self->send(p.handle, atom::gossip_v, head);
}

void on_gossip(self_ptr self, const signed_head& head) {
  auto& st = self->state;
  auto i = st.peers.find(head.node_id);
  if (i == st.peers.end())
    return refuse_head(self, head, "unknown node id");
  auto k = st.deps.peer_keys.find(head.node_id);
  if (k == st.deps.peer_keys.end())
    return refuse_head(self, head, "no public key configured for this node");
  auto key = ed25519_key::from_raw_public(k->second);
  if (!key)
    return refuse_head(self, head, describe(key.error()).message);
  if (auto err = verify_head(*key, head))
    return refuse_head(self, head, describe(err).message);
  i->second.head = head.seq;
  i->second.term = head.term;
  observe_term(self, head.term, "", head.node_id);
  if (head.seq.value > st.deps.store->head().value)
    return; // ahead of us: nothing to compare yet (replication brings those records)
  auto ours = st.deps.store->chain_at(head.seq);
  if (!ours)
    return refuse_head(self, head, describe(ours.error()).message);
  if (compare_head(head, *ours) == head_verdict::fork)
    return raise_fork(self, head, *ours);
  st.peers[head.node_id].diverged = false; // its journal agrees with ours up to its head
}

namespace {

/// Why promoting to `term` is refused now, or none (the checks that need no peer).
caf::error promote_refusal(self_ptr self, uint64_t term, bool by_lease) {
  auto& st = self->state;
  if (st.leader)
    return refuse(ec::invalid_input, st.deps.cfg.node_id + " already leads term "
                                       + std::to_string(st.term));
  // This node's own lease term may have come back already through a peer that read the
  // key in etcd (the peers adopt it before the promotion's round of heads ends).
  bool own = by_lease && term == st.term && lease_valid_for(self, term);
  if (term <= st.term && !own)
    return refuse(ec::invalid_input, "terms only grow: " + std::to_string(term)
                                       + " is not above " + std::to_string(st.term));
  if (st.stopped)
    return refuse(ec::integrity_violation, "replication stopped: " + st.alert);
  return {};
}

/// The heads the promotion compares against: `fresh` (asked just now) where a peer
/// answered, else the last one heard of.
struct promotion_round {
  std::string by;
  uint64_t term = 0;
  bool by_lease = false;
  size_t waiting = 0;
  std::map<std::string, seq_no> fresh;
  caf::typed_response_promise<uint64_t> rp;
};

/// Decides a promotion once every connected peer answered with its head (or failed to).
void decide_promotion(self_ptr self, const std::shared_ptr<promotion_round>& round) {
  auto& st = self->state;
  if (auto err = promote_refusal(self, round->term, round->by_lease)) // things may have changed meanwhile
    return (void) round->rp.deliver(std::move(err));
  auto head = st.deps.store->head();
  std::set<std::string> answered;
  for (auto& [id, seq] : round->fresh)
    answered.insert(id);
  // With synchronous replication, enough followers answering hold every acknowledged
  // record: a silent peer's newer head (a dead leader's, most often) holds none.
  bool pass_silent = answered_cover_acknowledged(st.deps.cfg, st.wrote_last, answered)
                     || (round->by_lease && st.deps.cfg.sync_followers == 0);
  for (auto& [id, p] : st.peers) {
    auto f = round->fresh.find(id);
    bool asked = f != round->fresh.end();
    auto theirs = asked ? f->second : p.head;
    // Elected by the lease, the last leader's lease lapsed and its journal is fenced: what
    // it holds past its followers (committed, never confirmed by them) was never
    // acknowledged, whether it answered or not.
    bool fenced_leader = round->by_lease && id == st.wrote_last;
    // Elected by the lease with synchronous replication, a silent follower stops it unless
    // those that answered cover every acknowledgement: the follower may hold acknowledged
    // records past this node's head, and the head last heard of it may be old (a partition
    // between followers hides its progress).
    if (round->by_lease && !asked && !fenced_leader && !pass_silent
        && st.deps.cfg.sync_followers > 0)
      return (void) round->rp.deliver(refuse(
        ec::unavailable,
        "follower " + id + " did not answer, and with sync_followers "
          + std::to_string(st.deps.cfg.sync_followers)
          + " the followers that answered may not hold every acknowledged record "
            "(its head was last heard of at seq " + std::to_string(theirs.value) + ")",
        {}, caf::timespan{std::chrono::seconds{1}}));
    if (theirs.value > head.value && (!asked || fenced_leader) && pass_silent) {
      spdlog::warn("cluster: promotion passes over {}'s head (seq {} > {}): {}, and the "
                   "followers that answered hold every record acknowledged with "
                   "sync_followers {}; records past seq {} {}",
                   id, theirs.value, head.value,
                   fenced_leader ? "its lease lapsed" : "it did not answer",
                   st.deps.cfg.sync_followers, head.value,
                   st.deps.cfg.sync_followers > 0 ? "were never acknowledged"
                                                  : "are lost (asynchronous replication)");
      continue;
    }
    if (theirs.value > head.value)
      return (void) round->rp.deliver(refuse(
        ec::unavailable,
        "peer " + id + " has a newer head (seq " + std::to_string(theirs.value) + " > "
          + std::to_string(head.value)
          + (asked ? ", as it answered just now" : ", as last heard of: it did not answer")
          + "): catch up first",
        {}, caf::timespan{std::chrono::seconds{1}}));
  }
  // Promoted by an operator with synchronous replication, a silent peer stops it just as
  // well unless those that answered cover every acknowledgement: the head last heard of it
  // may be old, and it may hold acknowledged records past this node's head.
  if (!round->by_lease && !pass_silent && st.deps.cfg.sync_followers > 0)
    for (auto& [id, p] : st.peers)
      if (round->fresh.count(id) == 0)
        return (void) round->rp.deliver(refuse(
          ec::unavailable,
          "peer " + id + " did not answer, and with sync_followers "
            + std::to_string(st.deps.cfg.sync_followers)
            + " the nodes that answered may not hold every acknowledged record (its head was "
              "last heard of at seq "
            + std::to_string(p.head.value) + "): start it again, or wait until it answers",
          {}, caf::timespan{std::chrono::seconds{1}}));
  // Our own console access records, journaled by the old leader after this promotion,
  // would fork the journal: they must be back here (or not yet sent) first. Promoted by
  // the lease, the old leader's lease has lapsed and its journal's fence refuses them: a
  // batch in flight is sent again to this node (at worst journaled twice), never forked.
  if (!round->by_lease && (st.access_in_flight > 0 || st.access_acked.value > head.value))
    return (void) round->rp.deliver(refuse(ec::unavailable, "console access records of "
                                                       + st.deps.cfg.node_id
                                                       + " are on their way through the "
                                                         "leader (seq "
                                                       + std::to_string(st.access_acked.value)
                                                       + "): retry once this node holds them",
                                    {}, caf::timespan{std::chrono::milliseconds{100}}));
  auto previous = st.deps.cfg.leader;
  if (!lease_valid_for(self, round->term))
    return (void) round->rp.deliver(refuse(ec::unavailable, "the lease for term "
                                                              + std::to_string(round->term)
                                                              + " is not held (any more)",
                                           {}, caf::timespan{std::chrono::seconds{1}}));
  st.leader = true;
  st.term = round->term;
  st.deps.cfg.leader = st.deps.cfg.node_id;
  st.wrote_last = st.deps.cfg.node_id;
  st.leader_known = true;
  st.failovers += round->by_lease ? 1 : 0;
  remember_role(self);
  spdlog::warn("cluster: {} promoted by {} to leader of term {} (was {})", st.deps.cfg.node_id,
               round->by, round->term, previous);
  // The journal becomes writable (and holds acknowledgements for the sync followers)
  // before the change is journaled (same sender: in order).
  set_writable(self, true);
  start_replicating(self);
  publish_window(self);
  journal_if_leader(self, make_event(event_type::leadership_changed, caf::make_timestamp(),
                                     leadership_changed{st.deps.cfg.node_id, round->term,
                                                        previous, round->by}));
  if (st.deps.promoted)
    st.deps.promoted();
  gossip_head(self);
  round->rp.deliver(round->term);
}

} // namespace

caf::result<uint64_t> promote(self_ptr self, const std::string& by, uint64_t term,
                              bool by_lease) {
  auto& st = self->state;
  if (st.deps.etcd && !by_lease)
    return refuse(ec::invalid_input, "the leader is elected through etcd's lease "
                                     "([cluster.etcd]): cluster-promote is off");
  if (auto err = promote_refusal(self, term, by_lease))
    return err;
  // The heads compared are asked of every connected peer now, not taken from gossip that
  // may be old: a peer ahead of this node refuses the promotion.
  auto round = std::make_shared<promotion_round>();
  round->by = by;
  round->term = term;
  round->by_lease = by_lease;
  round->rp = self->make_response_promise<uint64_t>();
  for (auto& [id, p] : st.peers)
    if (p.connected)
      ++round->waiting;
  if (round->waiting == 0) {
    decide_promotion(self, round);
    return round->rp;
  }
  for (auto& [id, p] : st.peers) {
    if (!p.connected)
      continue;
    auto peer = id;
    // Elected by the lease, the new leader must start writing well within the lease's TTL:
    // a peer that does not answer in a second (stopped, cut off) is taken as silent.
    auto wait = by_lease ? std::min(st.deps.cfg.request_timeout, caf::timespan{std::chrono::seconds{1}})
                         : st.deps.cfg.request_timeout;
    self->request(p.handle, wait, atom::state_v)
      .then(
        [self, round, peer](cluster_status& s) {
          round->fresh[peer] = s.head;
          if (auto i = self->state.peers.find(peer); i != self->state.peers.end())
            i->second.head = s.head;
          if (--round->waiting == 0)
            decide_promotion(self, round);
        },
        [self, round](caf::error&) {
          if (--round->waiting == 0)
            decide_promotion(self, round);
        });
  }
  return round->rp;
}

bool counts_as_follower(self_ptr self, const peer_slot& p) {
  auto silence = self->state.deps.cfg.request_timeout;
  return p.connected && !p.diverged && self->clock().now() - p.pulled <= silence;
}

uint32_t followers_in_step(self_ptr self) {
  uint32_t live = 0;
  for (auto& [id, p] : self->state.peers)
    live += counts_as_follower(self, p) ? 1 : 0;
  return live;
}

bool writable_now(self_ptr self) {
  auto& st = self->state;
  return st.leader && lease_valid(self)
         && followers_in_step(self) >= std::max(st.deps.cfg.min_followers,
                                                st.deps.cfg.sync_followers);
}

void publish_window(self_ptr self) {
  auto& st = self->state;
  if (!st.deps.window)
    return;
  if (!writable_now(self))
    return st.deps.window->close();
  auto until = self->clock().now() + 2 * st.deps.cfg.tick;
  if (st.deps.etcd)
    until = std::min(until, st.lease_deadline);
  st.deps.window->open_until(until);
}

caf::error short_of_followers(self_ptr self) {
  auto& cfg = self->state.deps.cfg;
  return refuse(ec::unavailable,
                "leader " + cfg.node_id + " has fewer than "
                  + std::to_string(std::max(cfg.min_followers, cfg.sync_followers))
                  + " followers connected and in step (pulled within 5 s, not diverged; "
                    "min_followers "
                  + std::to_string(cfg.min_followers) + ", sync_followers "
                  + std::to_string(cfg.sync_followers) + ")",
                {}, caf::timespan{std::chrono::seconds{1}});
}

} // namespace bulwark::cluster_detail
