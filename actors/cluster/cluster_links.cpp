#include "actors/cluster/cluster_links.hpp"

#include <set>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/io/middleman.hpp"
#include "caf/openssl/manager.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/journal/replica_tail.hpp"
#include "messages/commands.hpp"
#include "messages/error.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::cluster_detail {

namespace {

peer_slot* slot(self_ptr self, const std::string& id) {
  auto i = self->state.peers.find(id);
  return i == self->state.peers.end() ? nullptr : &i->second;
}

void journal_peer(self_ptr self, const peer_slot& p, bool up, const std::string& reason) {
  journal_if_leader(self, make_event(event_type::peer_changed, caf::make_timestamp(),
                                     peer_changed{p.addr.node_id, up, reason, p.head}));
}

/// A connection attempt or a connected peer failed: back off before the next attempt.
void on_failed(self_ptr self, const std::string& id, const std::string& reason) {
  auto* p = slot(self, id);
  if (p == nullptr)
    return;
  bool was_up = p->connected;
  p->connected = false;
  p->connecting = false;
  p->handle = nullptr;
  publish_window(self); // one follower fewer may close it
  ++p->failures;
  p->problem = reason;
  auto wait = reconnect_backoff(self->state.deps.cfg, p->failures);
  p->next_attempt = self->clock().now() + wait;
  spdlog::warn("cluster: peer {} {}: {} (next attempt in {} ms)", id,
               was_up ? "lost" : "unreachable", reason,
               std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
  if (was_up)
    journal_peer(self, *p, false, reason);
  if (id == self->state.deps.cfg.leader)
    fail_forwarded(self, "the leader " + id + " went away (" + reason + ")");
  if (id == self->state.pulling_from)
    abandon_pull(self, "its connection failed: " + reason);
}

/// A peer passed the handshake: `handle` is its cluster actor from now on.
void mark_up(self_ptr self, peer_slot& p, cluster_actor handle, uint64_t term) {
  auto id = p.addr.node_id;
  p.connected = true;
  p.connecting = false;
  p.failures = 0;
  p.problem.clear();
  p.handle = handle;
  self->monitor(handle);
  spdlog::info("cluster: peer {} up (term {})", id, term);
  p.term = term;
  journal_peer(self, p, true, "handshake passed");
}

/// Over TLS, one connection per pair of nodes (caf_openssl does not settle two): the node
/// with the smaller id dials, the other takes the dialer's handle from its hello.
/// Our hello: the leader it names is the one of our term, or none while we adopted the
/// term from a peer that did not say (a stale leader would be believed for the new term).
cluster_hello hello_of(self_ptr self) {
  auto& st = self->state;
  auto hello = make_hello(st.deps.cfg, st.term);
  if (!st.leader_known)
    hello.leader.clear();
  return hello;
}

bool dials(const cluster_config& cfg, const std::string& peer) {
  return !cfg.tls || cfg.node_id < peer;
}

void on_welcomed(self_ptr self, const std::string& id, cluster_actor handle,
                 const cluster_hello& reply) {
  auto* p = slot(self, id);
  if (p == nullptr)
    return;
  if (auto err = check_hello(self->state.deps.cfg, reply, &id)) {
    auto reason = describe(err).message;
    spdlog::warn("cluster: refused peer {}: {}", id, reason);
    on_failed(self, id, "refused: " + reason);
    return;
  }
  mark_up(self, *p, handle, reply.term);
  observe_term(self, reply.term, reply.leader, id);
}

void on_connected(self_ptr self, const std::string& id, caf::strong_actor_ptr ptr,
                  const std::set<std::string>& ifs) {
  if (!ptr) {
    on_failed(self, id, "nothing is published at that address");
    return;
  }
  if (ifs != self->home_system().message_types<cluster_actor>()) {
    on_failed(self, id, "refused: the peer speaks another cluster interface");
    return;
  }
  auto handle = caf::actor_cast<cluster_actor>(ptr);
  auto& st = self->state;
  self->request(handle, st.deps.cfg.request_timeout, atom::hello_v, hello_of(self))
    .then([self, id, handle](cluster_hello& reply) { on_welcomed(self, id, handle, reply); },
          [self, id](caf::error& err) {
            on_failed(self, id, "handshake: " + describe(err).message);
          });
}

void connect(self_ptr self, peer_slot& p) {
  p.connecting = true;
  auto id = p.addr.node_id;
  // With TLS, caf_openssl's middleman actor: the peer must show a certificate of our CA.
  auto& sys = self->home_system();
  auto mm = self->state.deps.cfg.tls ? sys.openssl_manager().actor_handle()
                                     : sys.middleman().actor_handle();
  self->request(mm, self->state.deps.cfg.request_timeout, caf::connect_atom_v, p.addr.host,
                p.addr.port)
    .then(
      [self, id](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
        on_connected(self, id, std::move(ptr), ifs);
      },
      [self, id](caf::error& err) {
        on_failed(self, id, self->home_system().render(err));
      });
}

/// The journal refused a batch: an integrity violation stops replication for good.
void on_import_refused(self_ptr self, const caf::error& err) {
  auto& st = self->state;
  auto info = describe(err);
  if (info.code != ec::integrity_violation) {
    spdlog::warn("cluster: import failed (will retry): {}", info.message);
    return;
  }
  st.stopped = true;
  st.alert = "leader " + st.deps.cfg.leader + ": " + info.message;
  remember_role(self);
  ++st.alerts;
  spdlog::error("cluster: INTEGRITY_VIOLATION replicating from {}: {}; replication stopped "
                "until an operator acts", st.deps.cfg.leader, info.message);
  if (auto* p = slot(self, st.deps.cfg.leader))
    p->problem = "INTEGRITY_VIOLATION: " + info.message;
  // Our journal refuses local writes: the leader journals the alert for us.
  auto at = seq_no{st.deps.store->head().value + 1};
  report_alert(self, integrity_alert{st.deps.cfg.node_id, st.deps.cfg.leader, at,
                                     st.deps.store->head_chain(), digest{},
                                     "record from leader " + st.deps.cfg.leader
                                       + " does not link: " + info.message});
}

void on_batch(self_ptr self, replica_batch batch) {
  auto& st = self->state;
  auto leader = st.deps.cfg.leader;
  if (auto* p = slot(self, leader))
    p->head = batch.leader_head;
  st.importing = true; // from here on the pull runs to its end (the term seen may change)
  if (batch.term < st.term) {
    // Fenced: a deposed leader's records never land here once a newer term is known.
    ++st.lower_terms;
    spdlog::warn("cluster: refused a batch of term {} from {}: this node is at term {}",
                 batch.term, leader, st.term);
    st.pulling = st.importing = false;
    return;
  }
  observe_term(self, batch.term, leader, leader);
  if (batch.records.empty() || st.leader || st.stopped) {
    st.pulling = st.importing = false;
    // An empty answer waited at the leader's head for a second: the next pull goes at
    // once and waits there again.
    pull(self);
    return;
  }
  self->request(st.deps.journal, caf::infinite, atom::import_v, std::move(batch))
    .then(
      [self](appended&) {
        self->state.pulling = self->state.importing = false;
        // Durable now: the next pull confirms it to the leader (synchronous replication
        // waits for that) and takes what was committed meanwhile.
        pull(self);
      },
      [self](caf::error& err) {
        self->state.pulling = self->state.importing = false;
        on_import_refused(self, err);
      });
}

} // namespace

void set_writable(self_ptr self, bool on) {
  self->request(self->state.deps.journal, caf::infinite, atom::writable_v, on)
    .then([](bool) {},
          [](caf::error& err) {
            spdlog::error("cluster: setting the journal's role failed: {}",
                          describe(err).message);
          });
}

void journal_if_leader(self_ptr self, event ev) {
  if (!self->state.leader)
    return;
  self->request(self->state.deps.journal, caf::infinite, atom::append_v, std::move(ev))
    .then([](appended&) {},
          [](caf::error& err) {
            spdlog::warn("cluster: journaling a cluster event failed: {}",
                         describe(err).message);
          });
}

void on_tick(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto& [id, p] : st.peers)
    if (!p.connected && !p.connecting && now >= p.next_attempt && dials(st.deps.cfg, id))
      connect(self, p);
  if (!st.leader) {
    pull(self);
    report_pending_alerts(self);
  }
  if (st.leader && st.deps.tail && st.deps.tail->take_withdrawn())
    step_down(self, "its journal's commit failed after the records went to the followers "
                    "(a follower may hold records this node lacks)");
  check_lease(self);
  if (++st.ticks % 4 == 0)
    gossip_head(self);
}

caf::result<cluster_hello> answer_hello(self_ptr self, const cluster_hello& hello) {
  auto& st = self->state;
  if (auto err = check_hello(st.deps.cfg, hello)) {
    spdlog::warn("cluster: refused a hello: {}", describe(err).message);
    return err;
  }
  if (!dials(st.deps.cfg, hello.node_id)) {
    // The peer dialed us (TLS: the only connection of the pair): its hello's sender is its
    // cluster actor.
    auto handle = caf::actor_cast<cluster_actor>(self->current_sender());
    auto* p = slot(self, hello.node_id);
    if (p != nullptr && handle && (!p->connected || p->handle != handle))
      mark_up(self, *p, handle, hello.term);
  }
  if (auto* p = slot(self, hello.node_id);
      p != nullptr && !p->connected && !p->connecting && dials(st.deps.cfg, hello.node_id)) {
    // The peer is up (it just dialed us): dial it on the next tick, not at the end of a
    // backoff that may have grown to 5 s while it was down.
    p->failures = 0;
    p->next_attempt = self->clock().now();
  }
  observe_term(self, hello.term, hello.leader, hello.node_id);
  return hello_of(self);
}

void on_peer_down(self_ptr self, const caf::actor_addr& source) {
  for (auto& [id, p] : self->state.peers)
    if (p.handle && p.handle.address() == source) {
      on_failed(self, id, "connection lost");
      return;
    }
}

void pull(self_ptr self) {
  auto& st = self->state;
  if (st.leader || st.stopped || st.pulling)
    return;
  auto* p = slot(self, st.deps.cfg.leader);
  if (p == nullptr || !p->connected)
    return;
  st.pulling = true;
  auto token = ++st.pull_token;
  seq_no from{st.deps.store->head().value + 1};
  auto leader = st.deps.cfg.leader;
  st.pulling_from = leader;
  self->request(p->handle, st.deps.cfg.request_timeout, atom::pull_v, st.deps.cfg.node_id, from,
                st.deps.store->head_chain(), st.deps.cfg.max_batch)
    .then(
      [self, token](replica_batch& batch) {
        if (token != self->state.pull_token)
          return; // abandoned: the next pull asks the leader of now
        self->state.wrote_last = self->state.pulling_from; // it answers as the leader
        on_batch(self, std::move(batch));
      },
      [self, leader, token](caf::error& err) {
        if (token != self->state.pull_token)
          return;
        self->state.pulling = false;
        spdlog::warn("cluster: pull from {} failed: {}", leader, describe(err).message);
      });
}

void abandon_pull(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (!st.pulling || st.importing)
    return;
  ++st.pull_token;
  st.pulling = false;
  spdlog::info("cluster: abandoned the pull in flight to {} ({}); the next tick pulls from {}",
               st.pulling_from, why, st.deps.cfg.leader);
}

void observe_term(self_ptr self, uint64_t term, const std::string& leader,
                  const std::string& from) {
  auto& st = self->state;
  bool known = !leader.empty() && leader != st.deps.cfg.node_id
               && find_peer(st.deps.cfg, leader) != nullptr;
  if (term < st.term)
    return;
  if (term == st.term) {
    // Same term, a leader named we did not know of (after a promote elsewhere).
    if (!st.leader && known && (leader != st.deps.cfg.leader || !st.leader_known)) {
      spdlog::info("cluster: following {} (term {})", leader, term);
      st.deps.cfg.leader = leader;
      st.leader_known = true;
      remember_role(self);
      abandon_pull(self, leader + " leads now");
    }
    return;
  }
  spdlog::warn("cluster: {} is at term {} (leader {}), this node at {}: {}", from, term, leader,
               st.term, st.leader ? "stepping down, no more writes" : "adopting it");
  step_down(self, from + " is at term " + std::to_string(term));
  st.term = term;
  if (known)
    st.deps.cfg.leader = leader;
  // Unknown, the last leader stays for the promotion's arithmetic but is not announced.
  st.leader_known = known;
  remember_role(self);
  // What waits for the old term's leader is answered now (it may be stopped or cut off
  // and never answer): the callers retry with the new leader.
  fail_forwarded(self, "the leadership moved to term " + std::to_string(term));
  if (st.pulling_from != st.deps.cfg.leader)
    abandon_pull(self, "term " + std::to_string(term) + " has another leader");
  if (!known)
    rehello(self); // the peers' hellos name the leader of the new term
}

void step_down(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (!st.leader)
    return;
  spdlog::warn("cluster: {} stops leading term {}: {}", st.deps.cfg.node_id, st.term, why);
  st.leader = false;
  ++st.fenced;
  publish_window(self); // closed: the engine's submissions ask this actor again
  // Never two writers: the journal refuses local appends before anything else runs
  // (and answers the acknowledgements it held for the followers UNAVAILABLE).
  set_writable(self, false);
  answer_parked(self, true);
  remember_role(self);
  // Its keeper gives the key up (if it still holds it): the election runs again at once,
  // and this node takes part in it like any follower.
  if (st.keeper)
    caf::anon_send(st.keeper, atom::lease_v);
}

void remember_role(self_ptr self) {
  auto& st = self->state;
  if (st.deps.memory)
    st.deps.memory->set(cluster_memory::role{st.term, st.deps.cfg.leader, st.stopped, st.alert});
}

void rehello(self_ptr self) {
  auto& st = self->state;
  for (auto& [id, p] : st.peers) {
    if (!p.connected)
      continue;
    auto peer = id;
    self->request(p.handle, st.deps.cfg.request_timeout, atom::hello_v,
                  hello_of(self))
      .then([self, peer](cluster_hello& reply) {
              observe_term(self, reply.term, reply.leader, peer);
            },
            [](caf::error&) {});
  }
}

} // namespace bulwark::cluster_detail
