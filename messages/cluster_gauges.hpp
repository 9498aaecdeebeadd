#pragma once

/// Figures the cluster actor keeps current so the metrics endpoint reads them without a
/// request.

#include <atomic>
#include <cstdint>

namespace bulwark {

/// A clustered node's figures, written by its cluster actor on every tick.
struct cluster_gauges {
  std::atomic<uint64_t> term{0};
  std::atomic<bool> leader{false};
  std::atomic<bool> writable{false};
  std::atomic<uint64_t> peers_connected{0};
  std::atomic<uint64_t> forks{0};
  std::atomic<uint64_t> refused_heads{0};
  std::atomic<bool> replication_stopped{false};
  std::atomic<uint64_t> head{0};               ///< this node's journal head seq
  std::atomic<uint64_t> lag{0};                ///< (follower) records behind the leader
  std::atomic<uint64_t> alerts_unreported{0};  ///< (follower) alerts not yet journaled
  std::atomic<uint64_t> peer_alerts{0};        ///< (leader) followers' alerts journaled
  std::atomic<uint64_t> access_unreported{0};  ///< (follower) console access records queued
  std::atomic<uint64_t> access_dropped{0};     ///< (follower) access records dropped, queue full
  std::atomic<uint64_t> peer_access{0};        ///< (leader) followers' access records journaled
  std::atomic<uint64_t> sync_followers{0};     ///< the configured sync_followers
  std::atomic<uint64_t> replicated{0};         ///< (leader) the seq sync_followers followers hold
  std::atomic<bool> elected{false};            ///< the leader is elected through etcd's lease
  std::atomic<bool> lease_held{false};         ///< this node leads under a valid lease
  std::atomic<uint64_t> lease_renewals{0};     ///< renewals of this node's lease
  std::atomic<uint64_t> failovers{0};          ///< times this node took the lease and was promoted
  std::atomic<uint64_t> fenced{0};             ///< times this node stopped leading
  std::atomic<uint64_t> lower_terms{0};        ///< replica batches refused for a lower term
};

} // namespace bulwark
