// The console's cluster side: `cluster`, `cluster-promote`, the cluster brief of
// `status`, and forwarded commands: on a clustered node every mutating command goes to
// the cluster actor with the connection's principal and role, and the leader's answer is
// rendered exactly as the command renders it on the leader.

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/console_impl.hpp"
#include "messages/cluster.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

json answer_json(const operator_answer& a) {
  if (a.rollback)
    return rollback_json(*a.rollback);
  if (a.breaker)
    return {{"service", a.breaker->service}, {"state", to_string(a.breaker->state)}};
  if (a.promoted)
    return {{"incident", a.promoted->incident ? json(to_hex(*a.promoted->incident)) : json(nullptr)},
            {"repeated", a.promoted->repeated}};
  if (a.run) {
    auto& o = *a.run;
    return {{"proposal", to_hex(o.proposal)}, {"status", to_string(o.status)},
            {"code", o.code == ec::none ? json(nullptr) : json(to_string(o.code))},
            {"message", o.message}, {"decided_seq", o.decided_seq.value}, {"applied", o.applied}};
  }
  return {{"seq", a.seq.value}};
}

/// The leader's lease in etcd, or null without [cluster.etcd].
json lease_json(const cluster_status& s) {
  if (!s.elected)
    return nullptr;
  return json{{"holder", s.lease_holder.empty() ? json(nullptr) : json(s.lease_holder)},
              {"term", s.lease_term},
              {"ms_left", s.lease_ms_left},
              {"problem", s.lease_problem.empty() ? json(nullptr) : json(s.lease_problem)},
              {"renewals", s.lease_renewals},
              {"failovers", s.failovers},
              {"fenced", s.fenced},
              {"lower_term_batches", s.lower_terms}};
}

json cluster_json(cluster_status& s) {
  json peers = json::array();
  for (auto& p : s.peers)
    peers.push_back(json{{"node_id", p.node_id}, {"connected", p.connected},
                         {"in_step", p.in_step},
                         {"head", p.head.value}, {"lag", p.lag},
                         {"confirmed", p.confirmed.value},
                         {"problem", p.problem.empty() ? json(nullptr) : json(p.problem)}});
  return json{{"node_id", s.node_id}, {"role", s.role}, {"term", s.term},
              {"leader", s.leader}, {"head", s.head.value}, {"writable", s.writable},
              {"replication_stopped", s.replication_stopped}, {"forks", s.forks},
              {"refused_heads", s.refused_heads}, {"peers", peers},
              {"alert", s.alert.empty() ? json(nullptr) : json(s.alert)},
              {"leader_head", s.leader_head.value},
              {"lag", s.leader_head.value > s.head.value ? s.leader_head.value - s.head.value : 0},
              {"alerts_unreported", s.alerts_unreported},
              {"access_unreported", s.access_unreported},
              {"access_dropped", s.access_dropped},
              {"sync_followers", s.sync_followers},
              {"replicated", s.replicated.value},
              {"lease", lease_json(s)}};
}

void cmd_cluster(broker_ptr self, hdl_t hdl, const console_request& req) {
  if (!self->state.deps.cluster)
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "this node has no [cluster] configured"));
  ask<cluster_status>(self, hdl, req.id, self->state.deps.cluster, cluster_json, atom::state_v);
}

void cmd_cluster_promote(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  uint64_t term = 0;
  if (!uint_arg(req, "term", term, why))
    return refuse_args(self, hdl, why);
  if (!self->state.deps.cluster)
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "this node has no [cluster] configured"));
  ask<uint64_t>(self, hdl, req.id, self->state.deps.cluster,
                [](uint64_t t) { return json{{"term", t}}; }, atom::promote_v,
                self->state.conns.at(hdl).principal.value, term);
}

} // namespace

// Reads are this node's copy, `lag` records behind the leader (the figures of the
// cluster actor's last tick).
json cluster_brief(broker_ptr self) {
  auto& g = self->state.deps.cluster_figures;
  if (!g)
    return nullptr;
  return {{"role", g->leader ? "leader" : "follower"}, {"term", g->term.load()},
          {"writable", g->writable.load()}, {"head_seq", self->state.deps.store->head().value},
          {"lag", g->lag.load()}, {"peers_connected", g->peers_connected.load()},
          {"replication_stopped", g->replication_stopped.load()},
          {"integrity_alerts", g->forks.load()},
          {"alerts_unreported", g->alerts_unreported.load()},
          {"peer_alerts_journaled", g->peer_alerts.load()},
          {"access_unreported", g->access_unreported.load()},
          {"access_dropped", g->access_dropped.load()},
          {"peer_access_journaled", g->peer_access.load()},
          {"sync_followers", g->sync_followers.load()},
          {"replicated_seq", g->replicated.load()},
          {"elected", g->elected.load()},
          {"lease_held", g->lease_held.load()}};
}

bool run_cluster_command(broker_ptr self, hdl_t hdl, const console_request& req) {
  if (req.cmd == "cluster")
    cmd_cluster(self, hdl, req);
  else if (req.cmd == "cluster-promote")
    cmd_cluster_promote(self, hdl, req);
  else
    return false;
  return true;
}


operator_command connection_command(broker_ptr self, hdl_t hdl, command_kind kind) {
  auto& c = self->state.conns.at(hdl);
  operator_command cmd;
  cmd.kind = kind;
  cmd.by = c.principal;
  cmd.role = static_cast<uint8_t>(c.role);
  return cmd;
}

void forward_command(broker_ptr self, hdl_t hdl, const console_request& req,
                     operator_command cmd) {
  auto id = req.id;
  // An approval or denial of a proposal names what it decided (a rollback's says itself).
  caf::optional<approval> decided;
  if (cmd.kind == command_kind::approve)
    decided = approval{cmd.by, cmd.id, cmd.flag, cmd.text};
  self->request(self->state.deps.cluster, caf::infinite, atom::command_v, std::move(cmd))
    .then([self, hdl, id, decided](operator_answer& a) {
            auto out = decided && !a.rollback ? approval_json(*decided, a.seq) : answer_json(a);
            send_line(self, hdl, ok_response(id, out));
          },
          [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

} // namespace bulwark::console_detail
