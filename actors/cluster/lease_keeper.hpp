#pragma once

/// The lease keeper of a node whose leader is elected through etcd. A detached actor (its
/// etcd requests block) linked to the cluster actor that spawns it. While this node holds
/// the leader key it renews the key's lease every `renew` and tells the cluster actor the
/// deadline it may write until; otherwise it watches the key, tells the cluster actor who
/// holds it, and when it is free and the cluster actor agrees, takes it (the election
/// transaction) and asks the cluster actor to promote this node under the key's revision.
/// `lease` sent to it (by the cluster actor, when it stops leading) gives the key up: its
/// lease is revoked, so the election runs again at once.

#include <string>

#include "caf/fwd.hpp"

#include "actors/cluster/etcd_gateway.hpp"
#include "messages/interfaces.hpp"

namespace bulwark {

struct lease_keeper_deps {
  etcd_settings etcd;
  std::string cluster_id;
  std::string node_id;
  cluster_actor cluster; ///< hears `lease` and is asked `campaign` and `promote`
};

/// Spawns the keeper detached and linked to `parent` (the cluster actor).
caf::actor spawn_lease_keeper(caf::local_actor* parent, lease_keeper_deps deps);

/// The checks a node runs at start before it joins: etcd answers with these settings (the
/// credentials included), the prefix is this cluster's (claimed for it when free), and the
/// leader key, if any, names this cluster. Errors name the key (`INVALID_INPUT`).
caf::error check_etcd_at_start(const etcd_settings& etcd, const std::string& cluster_id);

} // namespace bulwark
