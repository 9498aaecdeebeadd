#include "actors/cluster/cluster.hpp"

#include <utility>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/io/middleman.hpp"
#include "caf/io/publish.hpp"
#include "caf/openssl/manager.hpp"
#include "caf/openssl/publish.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/cluster/cluster_links.hpp"
#include "messages/commands.hpp"
#include "messages/error.hpp"

namespace bulwark {

using namespace cluster_detail;

namespace {

/// Builds the status reply: role, term, heads, and each peer's lag behind the leader.
cluster_status status_of(self_ptr self) {
  auto& st = self->state;
  cluster_status out;
  out.node_id = st.deps.cfg.node_id;
  out.role = st.leader ? "leader" : "follower";
  out.term = st.term;
  out.leader = st.deps.cfg.leader;
  out.head = st.deps.store->head();
  out.writable = writable_now(self);
  out.replication_stopped = st.stopped;
  out.forks = st.alerts;
  out.refused_heads = st.refused_heads;
  out.alert = st.alert;
  out.alerts_unreported = st.unreported.size();
  out.access_unreported = st.access.size();
  out.access_dropped = st.access_dropped;
  auto reference = out.head;
  if (auto i = st.peers.find(st.deps.cfg.leader); !st.leader && i != st.peers.end())
    reference = std::max(i->second.head, out.head);
  out.leader_head = reference;
  out.sync_followers = st.deps.cfg.sync_followers;
  out.replicated = st.replicated;
  out.elected = static_cast<bool>(st.deps.etcd);
  out.lease_holder = st.lease_holder;
  out.lease_term = st.lease_term;
  if (st.leader && lease_valid(self))
    out.lease_ms_left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          st.lease_deadline - self->clock().now()).count();
  out.lease_problem = st.lease_problem;
  out.lease_renewals = st.lease_renewals;
  out.failovers = st.failovers;
  out.fenced = st.fenced;
  out.lower_terms = st.lower_terms;
  for (auto& [id, p] : st.peers) {
    peer_status ps{id, p.connected, p.head, 0, p.problem, st.leader && counts_as_follower(self, p),
                   st.leader ? p.confirmed : seq_no{}};
    if (id != st.deps.cfg.leader && reference.value > p.head.value)
      ps.lag = reference.value - p.head.value;
    out.peers.push_back(std::move(ps));
  }
  return out;
}

/// Writes the figures the metrics endpoint shows.
void publish_gauges(self_ptr self) {
  auto& st = self->state;
  if (!st.deps.gauges)
    return;
  auto& g = *st.deps.gauges;
  uint64_t connected = 0;
  for (auto& [id, p] : st.peers)
    connected += p.connected ? 1 : 0;
  g.term = st.term;
  g.leader = st.leader;
  g.writable = writable_now(self);
  g.peers_connected = connected;
  g.forks = st.alerts;
  g.refused_heads = st.refused_heads;
  g.replication_stopped = st.stopped;
  auto head = st.deps.store->head().value;
  g.head = head;
  uint64_t lag = 0;
  if (auto i = st.peers.find(st.deps.cfg.leader); !st.leader && i != st.peers.end())
    lag = i->second.head.value > head ? i->second.head.value - head : 0;
  g.lag = lag;
  g.alerts_unreported = st.unreported.size();
  g.peer_alerts = st.peer_alerts;
  g.access_unreported = st.access.size();
  g.access_dropped = st.access_dropped;
  g.peer_access = st.peer_access;
  g.sync_followers = st.deps.cfg.sync_followers;
  g.replicated = st.replicated.value;
  g.elected = static_cast<bool>(st.deps.etcd);
  g.lease_held = st.leader && lease_valid(self);
  g.lease_renewals = st.lease_renewals;
  g.failovers = st.failovers;
  g.fenced = st.fenced;
  g.lower_terms = st.lower_terms;
}

} // namespace

cluster_actor::behavior_type cluster(cluster_actor::stateful_pointer<cluster_state> self,
                                     cluster_deps deps) {
  auto& st = self->state;
  if (deps.memory) {
    // A restarted actor goes on in the term, under the leader and with the alert its
    // predecessor knew of; replication resumes at the journal's head.
    auto kept = deps.memory->get();
    if (kept.term > 0) {
      deps.cfg.term = kept.term;
      deps.cfg.leader = kept.leader;
      st.stopped = kept.stopped;
      st.alert = kept.alert;
    }
  }
  st.epoch = caf::make_timestamp();
  st.start = self->clock().now();
  st.term = deps.cfg.term;
  st.leader = is_leader(deps.cfg);
  st.wrote_last = deps.cfg.leader;
  for (auto& p : deps.cfg.peers)
    st.peers[p.node_id].addr = p;
  st.deps = std::move(deps);
  remember_role(self);
  // Killed or stopped, it still answers every request it forwarded to the leader: their
  // callers would otherwise wait for ever (the leader's answer comes back to this actor).
  self->attach_functor([waiting = st.forwarded, node = st.deps.cfg.node_id](
                         const caf::error& why) {
    for (auto& [n, fail] : std::exchange(*waiting, {}))
      fail(refuse(ec::unavailable, "the cluster actor of " + node + " stopped ("
                                     + to_string(why) + "): the request may have run on the "
                                     "leader; check before repeating",
                  {}, caf::timespan{std::chrono::seconds{1}}));
  });
  self->set_down_handler([self](const caf::down_msg& msg) { on_peer_down(self, msg.source); });
  if (st.leader)
    start_replicating(self);
  start_lease(self);
  report_set_aside(self);
  self->send(self, atom::tick_v);
  return {
    [self](atom::hello, const cluster_hello& hello) -> caf::result<cluster_hello> {
      return answer_hello(self, hello);
    },
    [self](atom::pull, const std::string& node, seq_no from, const digest& chain,
           uint32_t max) -> caf::result<replica_batch> {
      return serve_pull(self, node, from, chain, max);
    },
    [self](atom::committed, seq_no head) { on_committed(self, head); },
    [self](atom::gossip, const signed_head& head) { on_gossip(self, head); },
    [self](atom::state) -> caf::result<cluster_status> { return status_of(self); },
    [self](atom::promote, const std::string& by, uint64_t term) -> caf::result<uint64_t> {
      auto& keeper = self->state.keeper;
      bool by_lease = keeper
                      && self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(keeper);
      return promote(self, by, term, by_lease);
    },
    [self](atom::lease, const std::string& holder, uint64_t term, int64_t deadline,
           const std::string& problem) { on_lease(self, holder, term, deadline, problem); },
    [self](atom::campaign) { return may_campaign(self); },
    [self](atom::submit, proposal& p) -> caf::result<outcome> {
      auto cls = self->state.deps.admins && self->state.deps.admins->count(p.principal.value) != 0
                   ? admission_class::operator_
                   : admission_class::automation;
      return route_submit(self, p, static_cast<uint8_t>(cls));
    },
    [self](atom::submit, proposal& p, uint8_t cls) -> caf::result<outcome> {
      return route_submit(self, p, cls);
    },
    [self](atom::submit, proposal& p, uint8_t cls, caf::timespan left) -> caf::result<outcome> {
      p.deadline = node_now(self) + left; // from this node's clock, as it arrived
      return route_submit(self, p, cls);
    },
    [self](atom::approve, approval& a) -> caf::result<seq_no> { return route_approve(self, a); },
    [self](atom::interrupt, interrupt& i) -> caf::result<seq_no> {
      return route_interrupt(self, i);
    },
    [self](atom::resolve, doubt_resolution& r) -> caf::result<seq_no> {
      return route_resolve(self, r);
    },
    [self](atom::audit_ack, audit_acknowledged& a) -> caf::result<seq_no> {
      return route_audit_ack(self, a);
    },
    [self](atom::command, operator_command& cmd) -> caf::result<operator_answer> {
      return route_command(self, cmd);
    },
    [self](atom::alert, integrity_alert& a) -> caf::result<seq_no> {
      return journal_peer_alert(self, a);
    },
    [self](atom::access, event& ev) { record_access(self, std::move(ev)); },
    [self](atom::access, const std::string& node,
           std::vector<event>& evs) -> caf::result<seq_no> {
      return journal_peer_access(self, node, evs);
    },
    [self](atom::tick) {
      on_tick(self);
      answer_parked(self, false);
      remember_role(self);
      flush_access(self);
      publish_gauges(self);
      publish_window(self);
      self->delayed_send(self, self->state.deps.cfg.tick, atom::tick_v);
    },
  };
}

caf::error prepare_cluster(caf::actor_system& sys, const cluster_deps& deps) {
  if (auto err = check_config(deps.cfg))
    return err;
  if (deps.cfg.tls && !sys.has_openssl_manager())
    return refuse(ec::invalid_input, "cluster TLS is configured but the actor system has no "
                                     "caf_openssl manager loaded");
  // The journal's role is set before anything else can append: a follower never writes.
  caf::scoped_actor self{sys};
  caf::error failed;
  self->request(deps.journal, std::chrono::seconds{10}, atom::writable_v, is_leader(deps.cfg))
    .receive([](bool) {}, [&](caf::error& err) { failed = std::move(err); });
  // A leader's journal holds acknowledgements for its sync followers from now on, not
  // only once the cluster actor (which registers itself for the commits' heads) runs.
  if (!failed && is_leader(deps.cfg))
    self->send(deps.journal, atom::replicate_v, deps.cfg.sync_followers > 0);
  return failed;
}

caf::expected<uint16_t> publish_cluster(caf::actor_system& sys, const cluster_actor& front,
                                        const cluster_config& cfg) {
  auto& host = cfg.listen_host;
  auto published = cfg.tls ? caf::openssl::publish(front, cfg.listen_port, host.c_str(), true)
                           : caf::io::publish(front, cfg.listen_port, host.c_str(), true);
  if (!published)
    return refuse(ec::unavailable, "cluster.listen " + host + ":"
                                     + std::to_string(cfg.listen_port) + ": "
                                     + sys.render(published.error()));
  return *published;
}

caf::expected<cluster_handle> spawn_cluster(caf::actor_system& sys, cluster_deps deps) {
  if (auto err = prepare_cluster(sys, deps))
    return err;
  auto cfg = deps.cfg;
  auto actor = sys.spawn(cluster, std::move(deps));
  auto port = publish_cluster(sys, actor, cfg);
  if (!port) {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    return port.error();
  }
  return cluster_handle{actor, *port};
}

} // namespace bulwark
