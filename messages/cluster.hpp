#pragma once

/// The vocabulary of clustered nodes: signed heads and replication messages.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"
#include "caf/timestamp.hpp"

#include "messages/ids.hpp"

namespace bulwark {

/// A node's statement "my journal holds `chain` at `seq` under leadership `term`",
/// signed with the node's Ed25519 key over the bytes of docs/cluster.md "Signed heads".
struct signed_head {
  std::string node_id;
  uint64_t term = 0;
  seq_no seq;
  digest chain;
  caf::timestamp at;                  ///< when the node signed it
  std::vector<uint8_t> public_key;    ///< raw 32-byte Ed25519 key of the signer
  std::vector<uint8_t> signature;     ///< 64-byte Ed25519 signature
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signed_head& x) {
  return f(caf::meta::type_name("signed_head"), x.node_id, x.term, x.seq, x.chain, x.at,
           x.public_key, x.signature);
}

/// The version of the cluster protocol; a peer speaking another is refused (2: a breaker's
/// status, in forwarded answers, carries its window's slow calls; 3: a forwarded proposal
/// carries its own approval window, and an outcome a level-0 read's resources; 4: a
/// peer's status says whether it is in step; 5: a pull carries the follower's chain at its
/// head and waits at the leader's head for the next commit, and the status shows
/// synchronous replication; 6: the status shows the leader's lease in etcd).
inline constexpr uint32_t cluster_protocol_version = 7;

/// The handshake: who a peer is and what it speaks.
struct cluster_hello {
  uint32_t protocol = cluster_protocol_version;
  std::string cluster_id;
  std::string node_id;
  uint64_t term = 0;
  std::string leader; ///< the leader of `term` as the sender knows it
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_hello& x) {
  return f(caf::meta::type_name("cluster_hello"), x.protocol, x.cluster_id, x.node_id, x.term,
           x.leader);
}

/// Committed records copied from the leader's journal, as stored (chain || event bytes),
/// for seqs `from`, `from + 1`, ...; each must link to the follower's own chain.
struct replica_batch {
  seq_no from;
  std::vector<std::vector<uint8_t>> records;
  seq_no leader_head; ///< the leader's head when it read the batch
  uint64_t term = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_batch& x) {
  return f(caf::meta::type_name("replica_batch"), x.from, x.records, x.leader_head, x.term);
}

/// One peer as a node sees it.
struct peer_status {
  std::string node_id;
  bool connected = false;
  seq_no head;          ///< the peer's newest head we know of
  uint64_t lag = 0;     ///< how far behind the leader it is (records)
  std::string problem;  ///< the last refusal or alert involving it, empty if none
  /// (leader) it counts toward `min_followers`: connected, pulled within the request
  /// timeout, not diverged
  bool in_step = false;
  /// (leader) the head its last pull confirmed it holds durably on this node's chain
  seq_no confirmed;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_status& x) {
  return f(caf::meta::type_name("peer_status"), x.node_id, x.connected, x.head, x.lag,
           x.problem, x.in_step, x.confirmed);
}

/// A node's view of the cluster, for `status` and the metrics.
struct cluster_status {
  std::string node_id;
  std::string role; ///< "leader" or "follower"
  uint64_t term = 0;
  std::string leader;
  seq_no head;
  bool writable = false;        ///< this node accepts mutations now
  bool replication_stopped = false; ///< stopped by an integrity violation until an operator acts
  uint64_t forks = 0;         ///< forks and records that did not link
  uint64_t refused_heads = 0; ///< gossiped heads with a bad signature or unknown signer
  std::vector<peer_status> peers;
  std::string alert;      ///< the last integrity alert (why replication stopped), or empty
  seq_no leader_head;     ///< the leader's head as this node last heard of it
  uint64_t alerts_unreported = 0; ///< follower alerts not yet journaled by the leader
  uint64_t access_unreported = 0; ///< (follower) console access records the leader has not journaled
  uint64_t access_dropped = 0;    ///< (follower) console access records dropped: the queue was full
  uint32_t sync_followers = 0;    ///< followers that must hold an append before it is acknowledged
  /// (leader, sync_followers > 0) the highest seq that many followers hold durably: the
  /// acknowledgements of records past it wait
  seq_no replicated;
  bool elected = false;        ///< the leader is elected through etcd's lease
  std::string lease_holder;    ///< the leader key's holder as last seen (empty: none)
  uint64_t lease_term = 0;     ///< the key's create revision: the holder's term
  int64_t lease_ms_left = 0;   ///< (leader) until its writes stop unless renewed
  std::string lease_problem;   ///< what went wrong with etcd or the lease, empty when fine
  uint64_t lease_renewals = 0; ///< renewals of this node's lease
  uint64_t failovers = 0;      ///< times this node took the lease and was promoted
  uint64_t fenced = 0;         ///< times this node stopped leading
  uint64_t lower_terms = 0;    ///< replica batches refused because their term was lower
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_status& x) {
  return f(caf::meta::type_name("cluster_status"), x.node_id, x.role, x.term, x.leader, x.head,
           x.writable, x.replication_stopped, x.forks, x.refused_heads, x.peers, x.alert,
           x.leader_head, x.alerts_unreported, x.access_unreported, x.access_dropped,
           x.sync_followers, x.replicated, x.elected, x.lease_holder, x.lease_term,
           x.lease_ms_left, x.lease_problem, x.lease_renewals, x.failovers, x.fenced,
           x.lower_terms);
}

// -- journal payloads (event types 35-37) -------------------------------------------

/// Payload of `peer_changed`: a peer connected (handshake passed) or went away.
struct peer_changed {
  std::string node_id;
  bool up = false;
  std::string reason;
  seq_no peer_head;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_changed& x) {
  return f(caf::meta::type_name("peer_changed"), x.node_id, x.up, x.reason, x.peer_head);
}

/// Payload of `integrity_alert`: a peer's record or head does not match our chain.
struct integrity_alert {
  std::string local_node;
  std::string peer_node;
  seq_no seq;
  digest local_chain;
  digest peer_chain;
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, integrity_alert& x) {
  return f(caf::meta::type_name("integrity_alert"), x.local_node, x.peer_node, x.seq,
           x.local_chain, x.peer_chain, x.reason);
}

/// Payload of `leadership_changed`: an operator promoted a node under a new term.
struct leadership_changed {
  std::string leader;
  uint64_t term = 0;
  std::string previous;
  std::string by;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, leadership_changed& x) {
  return f(caf::meta::type_name("leadership_changed"), x.leader, x.term, x.previous, x.by);
}

} // namespace bulwark
