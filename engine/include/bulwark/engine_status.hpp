#pragma once

/// The embedding API's status values: health, admission load and cluster (standard library only).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace bulwark {

/// One health indicator of a failure mode (see README "Health").
struct health_indicator {
  std::string id;             ///< e.g. "journal_space_pct"
  std::string mode;           ///< e.g. "JOURNAL-SPACE"
  std::string unit;
  bool sampled = false;       ///< false until its first sample
  double value = 0;
  double warning = 0;
  double critical = 0;
  std::string level;          ///< normal, degraded, critical
  std::string trend;          ///< rising, steady, falling
  std::vector<double> history; ///< recent values, oldest first
};

/// One failure mode of the registry.
struct failure_mode_info {
  std::string id;         ///< e.g. "VAL-4"
  std::string name;
  std::string mitigation; ///< what Bulwark does about it
  std::string action;     ///< what an operator should do
  std::string level;      ///< normal, degraded, critical
};

/// The node's health: its degradation level, every failure mode and indicator.
struct health_info {
  std::string level = "normal"; ///< normal, degraded, critical
  uint64_t rounds = 0;          ///< sampling rounds so far
  std::vector<failure_mode_info> modes;
  std::vector<health_indicator> indicators;
};

/// An early warning (journaled as `early_warning`).
struct health_warning {
  std::string mode;
  std::string indicator;
  std::string level;      ///< degraded (warning crossed) or critical
  double value = 0;
  double threshold = 0;   ///< the threshold crossed
  std::string action;     ///< recommended action
  std::chrono::system_clock::time_point at;
  bool active = true;     ///< its indicator is still at that level
};

/// Admission and shedding figures.
struct load_info {
  uint64_t queued = 0;          ///< proposals waiting in admission
  uint64_t in_flight = 0;       ///< proposals the pipeline works on
  uint64_t refused = 0;         ///< refused by admission (OVERLOADED or quarantined)
  uint64_t telemetry_shed = 0;  ///< metric samples shed under load
  std::vector<std::string> quarantined; ///< principals refused until released
};

/// One peer of a clustered node, as the node sees it.
struct cluster_peer_info {
  std::string node_id;
  bool connected = false;
  uint64_t head_seq = 0;  ///< the peer's newest head this node heard of
  uint64_t lag = 0;       ///< records behind the leader
  std::string problem;    ///< the last refusal or alert involving it, empty if none
  bool in_step = false;   ///< (leader) it counts toward min_followers and sync_followers
  uint64_t confirmed = 0; ///< (leader) the head its last pull confirmed it holds durably
};

/// A clustered node's role and freshness: reads on a follower are served from its
/// own copy, which is `head_seq` fresh (`lag` records behind the leader it heard of).
struct cluster_info {
  std::string node_id;
  std::string role;       ///< "leader" or "follower"
  uint64_t term = 0;
  std::string leader;
  uint64_t head_seq = 0;     ///< this node's journal head
  uint64_t leader_head = 0;  ///< the leader's head as last heard of (own head on the leader)
  uint64_t lag = 0;          ///< leader_head - head_seq
  bool writable = false;     ///< this node accepts mutations now
  bool replication_stopped = false;
  std::string alert;         ///< why replication stopped, empty if it did not
  uint64_t integrity_alerts = 0;   ///< forks and refused records this node saw
  uint64_t alerts_unreported = 0;  ///< (follower) alerts the leader has not journaled yet
  uint64_t access_unreported = 0;  ///< console access records the journal does not hold yet
  uint64_t access_dropped = 0;     ///< console access records dropped (their queue was full)
  std::vector<cluster_peer_info> peers;
  uint32_t sync_followers = 0; ///< followers that hold an append before it is acknowledged
  uint64_t replicated = 0;     ///< (leader, sync_followers > 0) the seq that many hold durably
  bool elected = false;        ///< the leader is elected through a lease in etcd
  std::string lease_holder;    ///< the leader key's holder as last seen (empty: none)
  uint64_t lease_term = 0;     ///< the holder's term (the key's create revision)
  int64_t lease_ms_left = 0;   ///< (leader) until its writes stop unless renewed
  std::string lease_problem;   ///< what went wrong with etcd or the lease, empty when fine
  uint64_t lease_renewals = 0;
  uint64_t failovers = 0;      ///< times this node took the lease and was promoted
  uint64_t fenced = 0;         ///< times this node stopped leading
};

} // namespace bulwark
