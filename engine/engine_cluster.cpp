// The engine's cluster role: keys from the configuration and the cluster actor
// beside the journal.

#include <spdlog/spdlog.h>

#include "caf/actor_system_config.hpp"
#include "caf/openssl/manager.hpp"

#include "actors/cluster/cluster.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"
#include "messages/error.hpp"
#include "messages/cluster.hpp"
#include "messages/state.hpp"
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

void engine::impl::load_cluster_tls(caf::actor_system_config& sys_cfg) {
  auto& cs = *cfg.cluster;
  sys_cfg.load<caf::openssl::manager>();
  // caf_openssl then requires a certificate chaining to the CA on both sides.
  sys_cfg.set("openssl.certificate", cs.tls_cert);
  sys_cfg.set("openssl.key", cs.tls_key);
  sys_cfg.set("openssl.cafile", cs.tls_ca);
}

caf::error engine::impl::start_cluster() {
  auto& cs = *cfg.cluster;
  cluster_figures = std::make_shared<cluster_gauges>();
  command_slots = std::make_shared<command_targets>();
  command_slots->authority = authority;
  command_slots->pipeline = pipeline;
  command_slots->orchestrator = orchestrator;
  command_slots->breakers = breakers;
  command_slots->admins = cfg.authority.admins;
  commands = spawn_commands(*sys, command_slots);
  auto handle = spawn_cluster(*sys, cluster_deps{cs.cfg, journal, store, cluster_key,
                                                 cluster_peer_keys, pipeline, commands,
                                                 cluster_figures, admission,
                                                 cfg.authority.admins});
  if (!handle) {
    // Nothing may keep running: the actor system waits for every actor before it goes.
    for (auto h : {caf::actor_cast<caf::actor>(pipeline), caf::actor_cast<caf::actor>(blast),
                   governance, execution, caf::actor_cast<caf::actor>(journal)})
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    stop_behind_doors(); // the root does not run yet: nothing restarts them
    caf::anon_send_exit(commands, caf::exit_reason::user_shutdown);
    commands = nullptr;
    command_slots.reset();
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

void engine::impl::bind_commands() {
  if (!command_slots)
    return;
  command_slots->rollbacks.set(rollbacks);
  command_slots->admission = admission; // the slot itself: a restarted admission is seen
}

read_answer engine::read_attribute(const std::string& resource, const std::string& key) {
  auto& d = *impl_;
  read_answer out;
  auto st = d.call<fleet_state>(d.journal, atom::state_v);
  if (!st)
    return out;
  out.head_seq = st->seq;
  if (auto r = st->resources.find(resource); r != st->resources.end())
    if (auto a = r->second.attributes.find(key); a != r->second.attributes.end())
      out.value = a->second;
  return out;
}

std::optional<cluster_info> engine::cluster_status() {
  auto& d = *impl_;
  if (!d.cluster)
    return std::nullopt;
  auto s = d.call<bulwark::cluster_status>(d.cluster, atom::state_v);
  if (!s)
    return std::nullopt;
  cluster_info out{s->node_id, s->role, s->term, s->leader, s->head.value,
                   s->leader_head.value, 0, s->writable, s->replication_stopped, s->alert,
                   s->forks, s->alerts_unreported, s->access_unreported,
                   s->access_dropped, {}};
  if (out.leader_head > out.head_seq)
    out.lag = out.leader_head - out.head_seq;
  for (auto& p : s->peers)
    out.peers.push_back(cluster_peer_info{p.node_id, p.connected, p.head.value, p.lag, p.problem});
  return out;
}

} // namespace bulwark
