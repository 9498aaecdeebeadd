#pragma once

/// The cluster actor: connects to the configured peers over CAF's remote actors (with
/// reconnect backoff), serves committed ranges as leader, pulls them as follower and hands
/// them to the journal (which appends only records that link), and journals peer up/down.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/expected.hpp"
#include "caf/typed_response_promise.hpp"
#include "caf/fwd.hpp"

#include "actors/admission/admission.hpp"
#include "supervision/live_settings.hpp"
#include "actors/cluster/cluster_policy.hpp"
#include "actors/cluster/etcd_gateway.hpp"
#include "messages/cluster.hpp"
#include "messages/cluster_gauges.hpp"
#include "messages/forwarding.hpp"
#include "messages/interfaces.hpp"
#include "persistence/journal_store.hpp"
#include "supervision/supervisor.hpp"

namespace bulwark {

class held_acks;    // actors/journal/held_acks.hpp
class replica_tail; // actors/journal/replica_tail.hpp
class write_window; // around_caf/write_window.hpp

class ed25519_key;

/// What a cluster actor learned that a restarted one must start from: the term, the
/// leader, and whether replication stopped on an integrity violation (thread-safe).
struct cluster_memory {
  struct role {
    uint64_t term = 0; ///< 0: nothing kept yet (the configuration's role applies)
    std::string leader;
    bool stopped = false;
    std::string alert;
  };
  role get() const {
    std::lock_guard<std::mutex> guard{mtx};
    return kept;
  }
  void set(role r) {
    std::lock_guard<std::mutex> guard{mtx};
    kept = std::move(r);
  }

private:
  mutable std::mutex mtx;
  role kept;
};

/// What the cluster actor works with.
struct cluster_deps {
  cluster_config cfg;
  journal_actor journal;
  std::shared_ptr<journal_store> store; ///< read concurrently with the journal's writes
  std::shared_ptr<const ed25519_key> key; ///< signs our heads; none: no gossip sent
  std::map<std::string, std::vector<uint8_t>> peer_keys; ///< raw public keys by node id
  pipeline_actor pipeline; ///< runs proposals while this node writes; none: refused
  command_actor commands;  ///< runs operator commands while this node writes; none: refused
  std::shared_ptr<cluster_gauges> gauges; ///< kept current for the metrics; may be none
  /// While this node writes, proposals (its own and forwarded ones) pass admission's
  /// bounded queues before the pipeline; the handle changes when admission restarts.
  /// None: straight to `pipeline`.
  std::shared_ptr<handle_slot<admission_actor>> admission;
  std::shared_ptr<const admin_list> admins; ///< their proposals are admitted in the operator class
  /// Where the actor keeps its role for the next one after a restart (none: not kept).
  std::shared_ptr<cluster_memory> memory;
  /// `[cluster.etcd]`: the leader is elected through a lease (cfg.elected); the actor runs
  /// a lease keeper (lease_keeper.hpp). None: the configured leader, promoted by hand.
  caf::optional<etcd_settings> etcd;
  /// The journal directory's `set_aside_marker` (cluster-rejoin's): reported once when it
  /// exists, then renamed (empty: none looked for).
  std::string set_aside;
  /// Called once this node leads a new term, its journal writable and the change
  /// journaled (the engine journals its policy when it differs). May be empty.
  std::function<void()> promoted;
  /// The journal's held acknowledgements (synchronous replication): a leader releases
  /// them here as its followers confirm, on this actor's thread. None: it sends the
  /// journal `replicated` instead.
  std::shared_ptr<held_acks> acks;
  /// The journal's newest records, pulls are answered from (replica_tail.hpp). None:
  /// from the store only.
  std::shared_ptr<replica_tail> tail;
  /// Where the engine learns that its submissions may go straight to its admission
  /// (write_window.hpp); this actor opens, moves and closes it. None: every submission
  /// asks this actor.
  std::shared_ptr<write_window> window;
};

/// One configured peer as this node sees it.
struct peer_slot {
  peer_address addr;
  cluster_actor handle;     ///< set while connected
  bool connected = false;
  bool connecting = false;
  uint32_t failures = 0;    ///< consecutive failed attempts (for the backoff)
  caf::actor_clock::time_point next_attempt{};
  seq_no head;              ///< the peer's head as last heard of
  uint64_t term = 0;        ///< the peer's term as last heard of
  std::string problem;      ///< the last refusal or failure, empty when healthy
  /// A fork or a refused record was raised against it; stays set over reconnects until
  /// its signed head agrees with this node's journal again.
  bool diverged = false;
  caf::actor_clock::time_point pulled{}; ///< when it last pulled (a follower in step pulls at least every second)
  /// (leader) the head its last pull showed it holds durably on this node's chain
  seq_no confirmed;
};

/// (leader) A follower's pull at the head, answered by the next commit or after a while.
struct parked_pull {
  std::string node;
  seq_no from;
  uint32_t max = 0;
  caf::typed_response_promise<replica_batch> rp;
  caf::actor_clock::time_point since;
};

/// State of the cluster actor.
struct cluster_state {
  cluster_deps deps;
  /// The wall time at spawn and the actor clock then: the node's time is the one plus the
  /// monotonic time since (`node_now`), as its pipeline and console read it, so a step of
  /// the wall clock moves no deadline.
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  uint64_t term = 0;
  bool leader = false;
  /// `deps.cfg.leader` leads `term` (false after adopting a higher term from a peer that
  /// did not name its leader: the hellos then name none).
  bool leader_known = true;
  std::map<std::string, peer_slot> peers;
  bool pulling = false;     ///< a pull or an import is in flight
  bool importing = false;   ///< the pull's batch is being imported (never abandoned)
  uint64_t pull_token = 0;  ///< the pull in flight; an abandoned one's answer is ignored
  std::string pulling_from; ///< the node the pull in flight asked
  bool stopped = false;     ///< replication stopped by an integrity violation
  /// The node whose records this one took last (itself while it led): the leader a
  /// promotion counts out of its followers. Failed campaigns move `deps.cfg.leader` to
  /// nodes that never led; this stays with the node that did.
  std::string wrote_last;
  std::string alert;        ///< why replication stopped
  uint64_t alerts = 0;           ///< forks and refused records seen
  uint64_t refused_heads = 0;    ///< gossip with a bad signature or from an unknown node
  uint64_t ticks = 0;
  std::vector<parked_pull> parked; ///< (leader) pulls waiting for the next commit
  seq_no replicated;               ///< (leader) the watermark last released
  std::vector<integrity_alert> unreported; ///< follower alerts the leader has not journaled
  bool reporting = false;        ///< an alert is on its way to the leader
  std::string set_aside_reason;  ///< the reason of the set-aside alert not journaled yet
  uint64_t peer_alerts = 0;      ///< (leader) alerts reported by followers and journaled
  /// This node's console access events not journaled yet, oldest first (cluster_access.cpp).
  std::deque<event> access;
  size_t access_in_flight = 0;   ///< the first this many of `access` are on their way
  uint64_t access_dropped = 0;   ///< access events dropped because `access` was full
  seq_no access_acked;           ///< (follower) the leader's seq of our last journaled batch
  uint64_t peer_access = 0;      ///< (leader) followers' access events journaled
  /// Requests forwarded to the leader (commands, proposals, interrupts) and not answered
  /// yet, by request number: each is answered UNAVAILABLE when the leader goes away.
  /// Shared with the actor's end, which answers what is left (a kill included).
  std::shared_ptr<std::map<uint64_t, std::function<void(caf::error)>>> forwarded =
    std::make_shared<std::map<uint64_t, std::function<void(caf::error)>>>();
  uint64_t forwards = 0;         ///< request numbers of `forwarded`
  // -- the leader's lease in etcd (cluster_lease.cpp) --
  caf::actor keeper;             ///< the lease keeper (none without [cluster.etcd])
  std::string lease_holder;      ///< the leader key's holder as last seen (empty: none)
  uint64_t lease_term = 0;       ///< the key's create revision (the holder's term)
  caf::actor_clock::time_point lease_deadline{}; ///< (holder) when its writes stop
  /// (leader, sync_followers > 0) when its followers last confirmed all it held, or the
  /// watermark last moved: an elected leader gives its lease up after a TTL without either.
  caf::actor_clock::time_point confirmed_at{};
  std::string lease_problem;     ///< what went wrong with etcd or the lease, empty when fine
  uint64_t lease_renewals = 0;   ///< renewals of this node's lease
  uint64_t failovers = 0;        ///< times this node took the lease and was promoted
  uint64_t fenced = 0;           ///< times this node stopped leading (lease lost, higher term)
  uint64_t lower_terms = 0;      ///< batches refused because they came from a lower term
  static inline const char* name = "cluster";
};

/// Runs the cluster role of one node; spawn it with `spawn_cluster`.
cluster_actor::behavior_type cluster(cluster_actor::stateful_pointer<cluster_state> self,
                                     cluster_deps deps);

/// A running cluster actor and the port it listens on.
struct cluster_handle {
  cluster_actor actor;
  uint16_t port = 0;
};

/// Sets the journal's role (writable only on the leader), spawns the cluster actor and
/// publishes it on `cfg.listen_host:listen_port`. The system must have loaded the
/// middleman. Errors name the key or the address.
caf::expected<cluster_handle> spawn_cluster(caf::actor_system& sys, cluster_deps deps);

/// The first step of `spawn_cluster`: checks the configuration and sets the journal's role
/// (on a leader, also whether it holds acknowledgements for its sync followers).
caf::error prepare_cluster(caf::actor_system& sys, const cluster_deps& deps);

/// The last step of `spawn_cluster`: publishes `front` (the cluster actor, or the door in
/// front of it, which outlives its restarts) on `cfg.listen_host:listen_port`; returns the
/// bound port.
caf::expected<uint16_t> publish_cluster(caf::actor_system& sys, const cluster_actor& front,
                                        const cluster_config& cfg);

} // namespace bulwark
