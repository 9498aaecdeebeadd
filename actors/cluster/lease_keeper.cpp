#include "actors/cluster/lease_keeper.hpp"

#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/cluster/lease_policy.hpp"
#include "messages/error.hpp"

namespace bulwark {

namespace {

using steady = std::chrono::steady_clock;

struct keeper_state {
  lease_keeper_deps deps;
  std::unique_ptr<etcd_gateway> gw;
  bool holding = false;     ///< this node holds the leader key under `lease`
  int64_t lease = 0;
  uint64_t term = 0;        ///< the key's create revision while held
  steady::time_point deadline{}; ///< writes stop here unless a renewal moves it
  bool asking = false;      ///< a campaign request to the cluster actor is in flight
  int cooldown = 0;         ///< ticks to sit out after a refused promotion
  std::string reported;     ///< the last problem logged (each is logged once)
  static inline const char* name = "lease_keeper";
};

using keeper_ptr = caf::stateful_actor<keeper_state>*;

int64_t steady_ns(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

void tell(keeper_ptr self, const std::string& holder, uint64_t term, int64_t deadline,
          const std::string& problem) {
  auto& st = self->state;
  if (!problem.empty() && problem != st.reported)
    spdlog::warn("lease: {}", problem);
  st.reported = problem;
  self->send(st.deps.cluster, atom::lease_v, holder, term, deadline, problem);
}

void give_up(keeper_ptr self, const std::string& why) {
  auto& st = self->state;
  st.holding = false;
  st.lease = 0;
  st.term = 0;
  tell(self, "", 0, 0, why);
}

/// Gives the key up at once (its cluster actor stopped leading): the lease is revoked, so
/// the election runs again without waiting for the TTL.
void resign(keeper_ptr self, const std::string& why) {
  auto& st = self->state;
  if (!st.holding)
    return;
  spdlog::warn("lease: {} gives up {} (term {}): {}", st.deps.node_id, leader_key(st.deps.etcd),
               st.term, why);
  (void) st.gw->revoke(st.lease);
  give_up(self, "gave the key up: " + why);
}

/// Holding: renew, and move the deadline from when the renewal was sent.
void renew(keeper_ptr self) {
  auto& st = self->state;
  auto sent = steady::now();
  if (sent >= st.deadline) // its cluster actor stopped leading at the deadline
    return resign(self, "no renewal got through before the deadline");
  auto ttl = st.gw->keepalive(st.lease);
  if (ttl && *ttl > 0) {
    st.deadline = lease_deadline(sent, *ttl, st.deps.etcd.margin);
    return tell(self, st.deps.node_id, st.term, steady_ns(st.deadline), "");
  }
  if (ttl) // answered, with no TTL: the lease is gone and the key with it
    return give_up(self, "the lease on " + leader_key(st.deps.etcd)
                           + " expired before a renewal got through: this node stops leading");
  auto why = describe(ttl.error()).message;
  if (steady::now() >= st.deadline)
    return give_up(self, "no renewal got through before the deadline (" + why
                           + "): this node stops leading");
  tell(self, st.deps.node_id, st.term, steady_ns(st.deadline), "a renewal failed (" + why
                                                          + "); retrying until the deadline");
}

/// Takes the free key; on success asks the cluster actor to promote this node.
void campaign(keeper_ptr self) {
  auto& st = self->state;
  auto sent = steady::now();
  auto lease = st.gw->grant(st.deps.etcd.lease_ttl_s);
  if (!lease)
    return tell(self, "", 0, 0, "granting a lease failed: " + describe(lease.error()).message);
  auto key = leader_key(st.deps.etcd);
  auto won = st.gw->campaign(key, encode_holder({st.deps.cluster_id, st.deps.node_id}),
                             lease->id);
  if (!won || !won->won) {
    (void) st.gw->revoke(lease->id);
    if (!won)
      return tell(self, "", 0, 0, "the election transaction failed: "
                                    + describe(won.error()).message);
    // Held by this node means a retried transaction had taken the key on the first try:
    // the revoke above deleted it with the lease, and the next tick campaigns again.
    if (won->holder)
      if (auto h = decode_holder(won->holder->value); h && h->node_id != st.deps.node_id)
        tell(self, h->node_id, static_cast<uint64_t>(won->holder->create_revision), 0, "");
    return;
  }
  st.holding = true;
  st.lease = lease->id;
  st.term = static_cast<uint64_t>(won->revision);
  st.deadline = lease_deadline(sent, lease->ttl_s, st.deps.etcd.margin);
  spdlog::warn("lease: {} took {} (term {}, lease TTL {} s)", st.deps.node_id, key, st.term,
               lease->ttl_s);
  // The cluster actor learns the deadline (and fences its journal) before it promotes.
  tell(self, st.deps.node_id, st.term, steady_ns(st.deadline), "");
  auto term = st.term;
  auto id = st.lease;
  self->request(st.deps.cluster, std::chrono::seconds{10}, atom::promote_v,
                std::string{"etcd lease"}, term)
    .then([](uint64_t) {},
          [self, term, id](caf::error& err) {
            auto& st = self->state;
            if (!st.holding || st.term != term)
              return;
            (void) st.gw->revoke(id); // the key goes with it: another node may take it
            st.cooldown = 2;
            give_up(self, "the promotion under term " + std::to_string(term)
                            + " was refused (" + describe(err).message + "): key released");
          });
}

/// Not holding: report who holds the key, or campaign when it is free.
void watch(keeper_ptr self) {
  auto& st = self->state;
  auto key = leader_key(st.deps.etcd);
  auto kv = st.gw->get(key);
  if (!kv)
    return tell(self, "", 0, 0, "reading " + key + " failed: " + describe(kv.error()).message);
  if (*kv) {
    auto h = decode_holder((*kv)->value);
    if (!h || h->cluster_id != st.deps.cluster_id)
      return tell(self, "", 0, 0, key + " names another cluster ("
                                    + (h ? h->cluster_id : std::string{"not a holder"})
                                    + "): this node does not join it");
    if (h->node_id == st.deps.node_id) {
      // Taken by this node before its keeper or process restarted: its lease is not
      // renewed by anyone; release it so that the election runs with the checks.
      spdlog::warn("lease: {} holds {} from before a restart; releasing it",
                   st.deps.node_id, key);
      (void) st.gw->revoke((*kv)->lease);
      return;
    }
    return tell(self, h->node_id, static_cast<uint64_t>((*kv)->create_revision), 0, "");
  }
  if (st.cooldown > 0) {
    --st.cooldown;
    return;
  }
  if (st.asking)
    return;
  st.asking = true;
  self->request(st.deps.cluster, std::chrono::seconds{5}, atom::campaign_v)
    .then(
      [self](bool may) {
        self->state.asking = false;
        if (may && !self->state.holding)
          campaign(self);
      },
      [self](caf::error&) { self->state.asking = false; });
}

caf::behavior lease_keeper(caf::stateful_actor<keeper_state>* self, lease_keeper_deps deps) {
  self->state.gw = std::make_unique<etcd_gateway>(deps.etcd);
  self->state.deps = std::move(deps);
  self->send(self, atom::tick_v);
  return {
    [self](atom::lease) { resign(self, "this node stopped leading"); },
    [self](atom::tick) {
      if (self->state.holding)
        renew(self);
      else
        watch(self);
      self->delayed_send(self, self->state.deps.etcd.renew, atom::tick_v);
    },
  };
}

caf::error at_start(const std::string& key, const std::string& problem) {
  return refuse(ec::invalid_input, "cluster.etcd." + key + ": " + problem);
}

} // namespace

caf::actor spawn_lease_keeper(caf::local_actor* parent, lease_keeper_deps deps) {
  return parent->spawn<caf::detached + caf::linked>(lease_keeper, std::move(deps));
}

caf::error check_etcd_at_start(const etcd_settings& etcd, const std::string& cluster_id) {
  etcd_gateway gw{etcd};
  if (auto id = gw.cluster_id(); !id) {
    auto info = describe(id.error());
    if (info.code == ec::invalid_input)
      return at_start("user", info.message);
    return at_start("endpoints", "cannot use etcd: " + info.message);
  }
  auto key = cluster_key(etcd);
  auto claim = gw.campaign(key, cluster_id, 0);
  if (!claim)
    return at_start("prefix", "claiming " + key + " failed: " + describe(claim.error()).message);
  if (!claim->won && (!claim->holder || claim->holder->value != cluster_id))
    return at_start("prefix", "\"" + etcd.prefix + "\" belongs to cluster \""
                                + (claim->holder ? claim->holder->value : std::string{})
                                + "\", not \"" + cluster_id + "\": choose another prefix");
  auto leader = gw.get(leader_key(etcd));
  if (!leader)
    return at_start("endpoints", "reading " + leader_key(etcd) + " failed: "
                                   + describe(leader.error()).message);
  if (*leader) {
    auto h = decode_holder((*leader)->value);
    if (!h || h->cluster_id != cluster_id)
      return at_start("prefix", leader_key(etcd) + " names cluster \""
                                  + (h ? h->cluster_id : std::string{"?"}) + "\", not \""
                                  + cluster_id + "\": this node does not join it");
  }
  return {};
}

} // namespace bulwark
