// Routing of mutations (proposals, approvals, interrupts) to where they may run, and the
// follower's integrity alerts, which only the leader can journal.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/cluster/cluster_links.hpp"
#include "messages/commands.hpp"
#include "messages/error.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::cluster_detail {

namespace {

constexpr size_t max_unreported = 1024; ///< the oldest alerts beyond this are only logged

/// Where a mutation runs now: the local pipeline, the leader's cluster actor, or neither.
struct route_target {
  pipeline_actor local;
  cluster_actor leader;
  caf::error refusal;
};

route_target target_of(self_ptr self) {
  auto& st = self->state;
  auto retry = caf::timespan{std::chrono::seconds{1}};
  route_target t;
  if (writable_now(self)) {
    if (!st.deps.pipeline)
      t.refusal = refuse(ec::unavailable, "this node runs no pipeline", {}, retry);
    else
      t.local = st.deps.pipeline;
    return t;
  }
  if (st.leader) {
    t.refusal = short_of_followers(self);
    return t;
  }
  auto i = st.peers.find(st.deps.cfg.leader);
  if (st.deps.cfg.leader == st.deps.cfg.node_id) // it stopped leading; no successor heard of
    t.refusal = refuse(ec::unavailable, st.deps.cfg.node_id + " stopped leading term "
                                          + std::to_string(st.term)
                                          + " and knows of no leader since",
                       {}, retry);
  else if (i == st.peers.end() || !i->second.connected || st.stopped)
    t.refusal = refuse(ec::unavailable, "follower " + st.deps.cfg.node_id
                                          + " cannot reach the leader " + st.deps.cfg.leader,
                       {}, retry);
  else
    t.leader = i->second.handle;
  return t;
}

/// How long the leader may take: a proposal until its deadline (it may wait for an
/// approval), approvals and interrupts a minute.
caf::timespan answer_within(self_ptr self, const proposal& p) {
  auto left = caf::timespan{p.deadline - node_now(self) + std::chrono::seconds{5}};
  return std::max(left, caf::timespan{std::chrono::seconds{5}});
}
template <class Msg>
caf::timespan answer_within(self_ptr, const Msg&) {
  return std::chrono::seconds{60};
}

template <class Reply, class Atom, class Msg>
caf::result<Reply> route(self_ptr self, Atom verb, Msg& msg) {
  auto t = target_of(self);
  if (t.refusal)
    return t.refusal;
  if (t.local)
    return self->delegate(t.local, verb, std::move(msg));
  auto within = answer_within(self, msg);
  return forward_to_leader<Reply>(self, t.leader, within, verb, std::move(msg));
}

/// Sends the oldest unreported alert to the leader; the next follows its acknowledgement.
/// The set-aside alert is journaled: its marker is renamed, never reported again.
void set_aside_reported(self_ptr self) {
  auto& st = self->state;
  st.set_aside_reason.clear();
  auto done = st.deps.set_aside + ".reported";
  if (std::rename(st.deps.set_aside.c_str(), done.c_str()) != 0)
    spdlog::error("cluster: renaming {} to {} failed: {}", st.deps.set_aside, done,
                  std::strerror(errno));
}

void report_next(self_ptr self) {
  auto& st = self->state;
  if (st.leader || st.reporting || st.unreported.empty())
    return;
  auto i = st.peers.find(st.deps.cfg.leader);
  if (i == st.peers.end() || !i->second.connected)
    return; // kept until the leader is back
  st.reporting = true;
  self->request(i->second.handle, st.deps.cfg.request_timeout, atom::alert_v,
                st.unreported.front())
    .then(
      [self](seq_no seq) {
        auto& s = self->state;
        s.reporting = false;
        spdlog::info("cluster: the leader journaled our integrity alert at seq {}", seq.value);
        if (s.unreported.front().reason == s.set_aside_reason)
          set_aside_reported(self);
        s.unreported.erase(s.unreported.begin());
        report_next(self);
      },
      [self](caf::error& err) {
        self->state.reporting = false;
        spdlog::warn("cluster: reporting an integrity alert to the leader failed (will retry): "
                     "{}", describe(err).message);
      });
}

} // namespace

caf::timestamp node_now(self_ptr self) {
  return self->state.epoch + (self->clock().now() - self->state.start);
}

caf::result<outcome> route_submit(self_ptr self, proposal& p, uint8_t cls) {
  auto& st = self->state;
  if (writable_now(self) && st.deps.admission) {
    auto h = st.deps.admission->get();
    if (!h) // between a crash of admission and its restart: fail closed
      return refuse(ec::unavailable, "admission is restarting", {},
                    caf::timespan{std::chrono::seconds{1}});
    return self->delegate(h, atom::submit_v, std::move(p), cls);
  }
  auto t = target_of(self);
  if (t.refusal)
    return t.refusal;
  if (t.local) // a writer without admission (tests): straight to its pipeline
    return self->delegate(t.local, atom::submit_v, std::move(p));
  auto within = answer_within(self, p);
  // The class travels with it: the leader admits it as this node was asked to. So does the
  // time left to its deadline, not the deadline: the leader's wall clock may differ.
  auto left = caf::timespan{p.deadline - node_now(self)};
  return forward_to_leader<outcome>(self, t.leader, within, atom::submit_v, std::move(p), cls,
                                    left);
}

caf::result<seq_no> route_approve(self_ptr self, approval& a) {
  return route<seq_no>(self, atom::approve_v, a);
}

caf::result<seq_no> route_interrupt(self_ptr self, interrupt& i) {
  return route<seq_no>(self, atom::interrupt_v, i);
}

caf::result<seq_no> route_resolve(self_ptr self, doubt_resolution& r) {
  return route<seq_no>(self, atom::resolve_v, r);
}

caf::result<seq_no> route_audit_ack(self_ptr self, audit_acknowledged& a) {
  return route<seq_no>(self, atom::audit_ack_v, a);
}

void report_alert(self_ptr self, integrity_alert alert) {
  auto& st = self->state;
  if (st.leader) {
    journal_if_leader(self, make_event(event_type::integrity_alert, caf::make_timestamp(),
                                       std::move(alert)));
    return;
  }
  if (st.unreported.size() >= max_unreported) {
    spdlog::error("cluster: {} integrity alerts wait for the leader; dropping the oldest from "
                  "the queue (it was logged)", st.unreported.size());
    st.unreported.erase(st.unreported.begin());
  }
  st.unreported.push_back(std::move(alert));
  report_next(self);
}

void report_pending_alerts(self_ptr self) {
  report_next(self);
}

void report_set_aside(self_ptr self) {
  auto& st = self->state;
  if (st.deps.set_aside.empty())
    return;
  std::ifstream in{st.deps.set_aside};
  if (!in)
    return; // nothing set aside (or reported already)
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  auto alert = set_aside_alert(st.deps.cfg.node_id, text);
  if (!alert) {
    spdlog::error("cluster: {} is not a set-aside report of cluster-rejoin; not reported",
                  st.deps.set_aside);
    return;
  }
  spdlog::warn("cluster: reporting to the leader: {}", alert->reason);
  st.set_aside_reason = alert->reason;
  if (!st.leader) {
    report_alert(self, std::move(*alert)); // journaled by the leader, retried until it is
    return;
  }
  self->request(st.deps.journal, caf::infinite, atom::append_v,
                make_event(event_type::integrity_alert, caf::make_timestamp(), std::move(*alert)))
    .then([self](appended&) { set_aside_reported(self); },
          [](caf::error& err) {
            spdlog::warn("cluster: journaling the set-aside report failed (reported at the next "
                         "start): {}", describe(err).message);
          });
}

caf::result<seq_no> journal_peer_alert(self_ptr self, integrity_alert& alert) {
  auto& st = self->state;
  if (!st.leader)
    return refuse(ec::unavailable, st.deps.cfg.node_id + " is not the leader ("
                                     + st.deps.cfg.leader + " is)", {},
                  caf::timespan{std::chrono::seconds{1}});
  if (st.peers.count(alert.local_node) == 0)
    return refuse(ec::invalid_input, "alert from unknown node id \"" + alert.local_node + "\"");
  spdlog::error("cluster: follower {} reports INTEGRITY_VIOLATION: {}", alert.local_node,
                alert.reason);
  // A fork with this leader stopped the reporter's replication: it counts toward
  // min_followers and sync_followers no more. A fork with another follower marks that one;
  // a set-aside report (no peer) marks nobody.
  auto diverged = alert.peer_node == st.deps.cfg.node_id ? alert.local_node : alert.peer_node;
  if (auto i = st.peers.find(diverged); i != st.peers.end()) {
    i->second.problem = "INTEGRITY_VIOLATION reported by " + alert.local_node + ": " + alert.reason;
    i->second.diverged = true;
    publish_window(self); // a diverged follower counts no more
  }
  auto rp = self->make_response_promise<seq_no>();
  self->request(st.deps.journal, caf::infinite, atom::append_v,
                make_event(event_type::integrity_alert, caf::make_timestamp(), alert))
    .then(
      [self, rp](appended& a) mutable {
        ++self->state.peer_alerts;
        rp.deliver(a.last);
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace bulwark::cluster_detail
