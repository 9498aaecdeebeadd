#pragma once

/// The pure core of the leader's lease in etcd: key names, what the leader key holds, the
/// settings' checks and the deadline a holder writes until. No clock, no sockets.

#include <chrono>
#include <cstdint>
#include <string>

#include "caf/error.hpp"
#include "caf/optional.hpp"

#include "actors/cluster/etcd_gateway.hpp"

namespace bulwark {

/// The key whose holder leads the cluster (bound to the holder's lease).
inline std::string leader_key(const etcd_settings& s) {
  return s.prefix + "leader";
}

/// The key that claims the prefix for one cluster id (no lease: it stays).
inline std::string cluster_key(const etcd_settings& s) {
  return s.prefix + "cluster";
}

/// What the leader key holds: the cluster and the node that leads it.
struct lease_holder {
  std::string cluster_id;
  std::string node_id;
};

/// The leader key's value: `{"cluster_id":…,"node_id":…}`.
std::string encode_holder(const lease_holder& h);

/// Reads a leader key's value; none when it is not one of ours.
caf::optional<lease_holder> decode_holder(const std::string& value);

/// Checks `[cluster.etcd]`: endpoints given and well formed, a prefix, a TTL the renewals
/// fit in (renew + margin + request timeout below the TTL), TLS files in pairs, a password
/// file with a user (whether the files can be read is the reader's check). Errors name the key (`INVALID_INPUT`, "cluster.etcd.KEY: ...").
caf::error check_etcd_settings(const etcd_settings& s);

/// The holder writes until `sent + ttl - margin`: etcd restarts the TTL when it handles a
/// keep-alive, never before it was sent, so the lease cannot expire before that (plus the
/// margin for stalls between a check and its write, and for clock-rate drift).
template <class TimePoint>
TimePoint lease_deadline(TimePoint sent, int64_t granted_ttl_s, std::chrono::nanoseconds margin) {
  return sent + std::chrono::seconds{granted_ttl_s} - margin;
}

} // namespace bulwark
