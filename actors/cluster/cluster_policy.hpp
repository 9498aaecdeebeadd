#pragma once

/// The pure core of the cluster actor: configuration, handshake checks, backoff, pull
/// batches and head comparison. No clock, no sockets: time and heads come as arguments.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"

#include "messages/cluster.hpp"

namespace bulwark {

/// Where a peer listens.
struct peer_address {
  std::string node_id;
  std::string host;
  uint16_t port = 0;
};

/// The `[cluster]` section of a node's configuration.
struct cluster_config {
  std::string node_id;
  std::string cluster_id;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;            ///< 0 = any free port (tests)
  std::vector<peer_address> peers;     ///< every other node of the cluster
  std::string leader;                  ///< the node that writes
  uint64_t term = 1;                   ///< leadership term this node starts with
  uint32_t min_followers = 0;          ///< a leader with fewer connected followers refuses writes
  /// Synchronous replication: an append is acknowledged only once this many followers
  /// hold it durably, and a leader with fewer followers in step refuses writes (0: off).
  uint32_t sync_followers = 0;
  uint32_t max_batch = 4096;           ///< records per pull
  uint64_t max_batch_bytes = uint64_t{8} << 20; ///< and bytes per pull
  caf::timespan tick = std::chrono::milliseconds{50};       ///< how often to pull and connect
  caf::timespan backoff_base = std::chrono::milliseconds{100};
  caf::timespan backoff_cap = std::chrono::seconds{5};
  caf::timespan request_timeout = std::chrono::seconds{5};
  bool tls = false; ///< peers connect over caf_openssl (the system loads its manager)
  /// The leader is elected through a lease in etcd: no node starts as the leader, and
  /// `leader` is left empty (learned from the lease and from the peers).
  bool elected = false;
};

/// The file `bulwark cluster-rejoin` leaves in the journal directory it cut back, saying
/// what it set aside (JSON: first, last, records, head_chain, aside, kept). The node
/// reports it once (its leader journals an `integrity_alert`), then renames it with the
/// suffix `.reported`.
inline constexpr char set_aside_marker[] = "set-aside.json";

/// The alert that reports a set-aside tail to the cluster, from the marker's text; none
/// when the text is not a marker's.
caf::optional<integrity_alert> set_aside_alert(const std::string& node_id,
                                               const std::string& marker);

/// Returns a configuration error naming the key, or none.
caf::error check_config(const cluster_config& cfg);

/// Returns true if this node is the configured leader (never with an elected leader).
inline bool is_leader(const cluster_config& cfg) {
  return !cfg.elected && cfg.leader == cfg.node_id;
}

/// Returns the peer named `node_id`, if configured.
const peer_address* find_peer(const cluster_config& cfg, const std::string& node_id);

/// Our side of the handshake.
cluster_hello make_hello(const cluster_config& cfg, uint64_t term);

/// Checks a peer's hello: protocol version, cluster id, and a node id that is a configured
/// peer (and, when `expected` is given, that very peer). Refusals are `INVALID_INPUT`
/// with the reason.
caf::error check_hello(const cluster_config& cfg, const cluster_hello& hello,
                       const std::string* expected = nullptr);

/// The wait before reconnect attempt `failures` (1-based): base × 2^(failures-1), capped.
caf::timespan reconnect_backoff(const cluster_config& cfg, uint32_t failures);

/// Whether a promotion of this node may pass over the last heads heard of the peers that
/// did not answer it: with `sync_followers = k`, every record the old leader acknowledged
/// is held by k of its followers (every node but `old_leader`, this one included); when
/// this node and the followers in `answered` number at least followers - k + 1, one of
/// them holds every acknowledged record, so what only a silent peer may hold was never
/// acknowledged. False with k = 0 (asynchronous replication: anything may be anywhere).
bool answered_cover_acknowledged(const cluster_config& cfg, const std::string& old_leader,
                                 const std::set<std::string>& answered);

/// What a peer's head tells us about our journal.
enum class head_verdict : uint8_t {
  agrees,  ///< same chain at that seq
  ahead,   ///< the peer is past our head: nothing to compare yet
  fork,    ///< another chain at the same seq: INTEGRITY_VIOLATION
};

/// Compares a peer's head with our chain at its seq (`local_at_seq` is none when the seq
/// is past our head).
head_verdict compare_head(const signed_head& peer, const caf::optional<digest>& local_at_seq);

} // namespace bulwark
