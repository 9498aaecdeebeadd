// The engine's cluster role (#9): keys from the configuration and the cluster actor
// beside the journal.

#include <spdlog/spdlog.h>

#include "actors/cluster/cluster.hpp"
#include "engine/engine_impl.hpp"
#include "messages/error.hpp"
#include "persistence/ed25519.hpp"

namespace bulwark {

caf::error engine::impl::load_cluster_keys() {
  auto& cs = *cfg.cluster;
  if (!cs.key_file.empty()) {
    auto key = ed25519_key::load_private(cs.key_file);
    if (!key)
      return refuse(ec::invalid_input, "cluster.key: " + describe(key.error()).message);
    cluster_key = std::make_shared<ed25519_key>(std::move(*key));
  }
  for (auto& [id, file] : cs.pubkey_files) {
    auto key = ed25519_key::load_public(file);
    if (!key)
      return refuse(ec::invalid_input, "cluster.pubkeys." + id + ": "
                                         + describe(key.error()).message);
    cluster_peer_keys[id] = key->raw_public();
  }
  return {};
}

caf::error engine::impl::start_cluster() {
  auto& cs = *cfg.cluster;
  cluster_figures = std::make_shared<cluster_gauges>();
  auto handle = spawn_cluster(*sys, cluster_deps{cs.cfg, journal, store, cluster_key,
                                                 cluster_peer_keys, pipeline, cluster_figures});
  if (!handle) {
    // Nothing may keep running: the actor system waits for every actor before it goes.
    for (auto h : {caf::actor_cast<caf::actor>(pipeline), caf::actor_cast<caf::actor>(blast),
                   governance, execution, caf::actor_cast<caf::actor>(journal)})
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    authority->set(authority_actor{});
    pipeline = nullptr;
    blast = nullptr;
    governance = nullptr;
    execution = nullptr;
    journal = nullptr;
    return handle.error();
  }
  cluster = handle->actor;
  cluster_port = handle->port;
  spdlog::info("engine: cluster node {} ({}) listening on {}:{}", cs.cfg.node_id,
               is_leader(cs.cfg) ? "leader" : "follower", cs.cfg.listen_host, cluster_port);
  return {};
}

} // namespace bulwark
