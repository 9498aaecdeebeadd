// The engine's cluster role: keys from the configuration and the cluster actor
// beside the journal.

#include <spdlog/spdlog.h>

#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/openssl/manager.hpp"

#include "actors/cluster/cluster.hpp"
#include "actors/cluster/lease_keeper.hpp"
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
  local_writes = std::make_shared<write_window>();
  cluster_role = std::make_shared<cluster_memory>();
  command_slots = std::make_shared<command_targets>();
  command_slots->authority = authority;
  command_slots->pipeline = pipeline;
  command_slots->orchestrator = orchestrator;
  command_slots->breakers = breakers;
  command_slots->admins = admins;
  // Both behind doors under the cluster supervisor: peers, the console and the API hold
  // the doors, and the cluster's door is what listens for peers, so a restart keeps the port.
  std::vector<child_spec> specs;
  auto slots = command_slots;
  commands = caf::actor_cast<command_actor>(behind_door(
    "commands", refuse(ec::unavailable, "the command actor is restarting"),
    caf::actor_cast<caf::actor>(spawn_commands(*sys, slots)),
    [slots](caf::local_actor* sup) {
      return caf::actor_cast<caf::actor>(spawn_commands(sup->home_system(), slots));
    },
    &specs));
  cluster_deps deps{cs.cfg, journal, store, cluster_key, cluster_peer_keys, pipeline, commands,
                    cluster_figures, admission, admins, cluster_role, cs.etcd,
                    cfg.data_dir + "/" + set_aside_marker,
                    [this] { journal_policy_on_promotion(); }, cfg.journal.acks,
                    cfg.journal.tail, local_writes};
  // With [cluster.etcd]: etcd answers, the credentials work, the prefix is this cluster's.
  auto err = cs.etcd ? check_etcd_at_start(*cs.etcd, cs.cfg.cluster_id) : caf::error{};
  if (!err)
    err = prepare_cluster(*sys, deps);
  caf::expected<uint16_t> port{uint16_t{0}};
  if (!err) {
    cluster = caf::actor_cast<cluster_actor>(behind_door(
      "cluster", refuse(ec::unavailable, "the cluster actor is restarting"),
      caf::actor_cast<caf::actor>(sys->spawn(bulwark::cluster, deps)),
      [deps](caf::local_actor* sup) {
        // The journal keeps its role; the new actor starts from the kept term and leader
        // and pulls (follower) from the journal's head.
        return caf::actor_cast<caf::actor>(sup->home_system().spawn(bulwark::cluster, deps));
      },
      &specs));
    port = publish_cluster(*sys, cluster, cs.cfg);
    if (!port)
      err = port.error();
  }
  if (err) {
    // Nothing may keep running: the actor system waits for every actor before it goes.
    for (auto h : {caf::actor_cast<caf::actor>(pipeline), caf::actor_cast<caf::actor>(blast),
                   flights_sup, governance, execution, workers,
                   caf::actor_cast<caf::actor>(journal)})
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    stop_behind_doors(); // the root does not run yet: nothing restarts them
    commands = nullptr;
    cluster = nullptr;
    command_slots.reset();
    authority->set(authority_actor{});
    pipeline = nullptr;
    flights_sup = nullptr;
    blast = nullptr;
    governance = nullptr;
    execution = nullptr;
    workers = nullptr;
    journal = nullptr;
    return err;
  }
  cluster_port = *port;
  supervisor_limits one_for_one;
  restarts->limit("cluster", one_for_one);
  cluster_sup = sys->spawn(supervisor, std::string{"cluster"}, one_for_one, std::move(specs),
                           restart_report(), std::shared_ptr<child_queue>{});
  spdlog::info("engine: cluster node {} ({}) listening on {}:{}", cs.cfg.node_id,
               cs.etcd ? "leader elected through etcd" : is_leader(cs.cfg) ? "leader" : "follower",
               cs.cfg.listen_host, cluster_port);
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
  auto view = d.committed();
  if (!view)
    return out;
  auto* st = &view->state();
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
                   s->access_dropped, {}, s->sync_followers, s->replicated.value,
                   s->elected, s->lease_holder, s->lease_term, s->lease_ms_left,
                   s->lease_problem, s->lease_renewals, s->failovers, s->fenced};
  if (out.leader_head > out.head_seq)
    out.lag = out.leader_head - out.head_seq;
  for (auto& p : s->peers)
    out.peers.push_back(cluster_peer_info{p.node_id, p.connected, p.head.value, p.lag, p.problem,
                                          p.in_step, p.confirmed.value});
  return out;
}

} // namespace bulwark
