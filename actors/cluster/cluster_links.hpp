#pragma once

/// Internal to actors/cluster/: connections to peers, the handshake, the follower's pull
/// loop, and leadership terms.

#include <string>

#include "caf/fwd.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/cluster/cluster.hpp"
#include "around_caf/write_window.hpp"

namespace bulwark::cluster_detail {

using self_ptr = cluster_actor::stateful_pointer<cluster_state>;

/// Connects to peers that are due, then (follower) pulls when idle.
void on_tick(self_ptr self);

/// Answers a peer's hello, or refuses it with the reason (logged).
caf::result<cluster_hello> answer_hello(self_ptr self, const cluster_hello& hello);

/// A monitored peer went away: marks it down (journaled) and schedules a reconnect.
void on_peer_down(self_ptr self, const caf::actor_addr& source);

/// Pulls the next batch from the leader (follower, connected, idle, not stopped).
void pull(self_ptr self);

/// Abandons the pull in flight (never an import under way), when its node went away or no
/// longer leads: its late answer is ignored, and the next tick pulls from the leader of now.
void abandon_pull(self_ptr self, const std::string& why);

/// Asks every connected peer for its hello again (to learn the leader of a new term).
void rehello(self_ptr self);

/// Adopts a higher term (and its leader `leader`) learned from `from`; a leader stops
/// writing at once.
void observe_term(self_ptr self, uint64_t term, const std::string& leader,
                  const std::string& from);

/// Keeps the term, the leader and a stop of replication for a restarted actor.
void remember_role(self_ptr self);

/// Makes the journal accept local appends (leader) or refuse them (follower).
void set_writable(self_ptr self, bool on);

/// Journals `ev` when this node writes its journal; otherwise only logs it.
void journal_if_leader(self_ptr self, event ev);

/// Stops writing at once (the journal refuses local appends; held acknowledgements and
/// parked pulls are answered UNAVAILABLE): a higher term, or the lease lost.
void step_down(self_ptr self, const std::string& why);

// -- the leader's lease in etcd (cluster_lease.cpp) ---------------------------------

/// Spawns the lease keeper (with [cluster.etcd]) and fences the journal until it holds.
void start_lease(self_ptr self);

/// What the keeper saw: the key's holder and term, and (this node holding it) the
/// deadline its writes stop at; adopts the holder's term or steps down.
void on_lease(self_ptr self, const std::string& holder, uint64_t term, int64_t deadline_ns,
              const std::string& problem);

/// Whether this node may campaign for the leader key: a follower whose replication runs,
/// with no connected peer but the last term's leader known to be ahead of it.
bool may_campaign(self_ptr self);

/// True without [cluster.etcd]; with it, whether this node holds the lease of its term
/// and its deadline has not passed.
bool lease_valid(self_ptr self);

/// The same for `term` (a promotion's, before this node's term is set to it).
bool lease_valid_for(self_ptr self, uint64_t term);

/// Steps down when this node leads past its lease's deadline (called on every tick).
void check_lease(self_ptr self);

// -- heads and leadership (cluster_heads.cpp) ---------------------------------------

/// Signs our head and sends it to every connected peer (when a key is configured).
void gossip_head(self_ptr self);

/// Checks a peer's signed head: a bad signature is refused, another chain at the same seq
/// is a fork (INTEGRITY_VIOLATION naming both nodes and the seq, journaled).
void on_gossip(self_ptr self, const signed_head& head);

/// An admin (or, `by_lease`, this node's lease keeper) makes this node the leader under
/// `term`, if it only grows and no peer we know of has a newer head. Promoted by the
/// lease with sync_followers = 0, a silent peer's newer head is passed over (asynchronous
/// replication: what only it held was never promised).
caf::result<uint64_t> promote(self_ptr self, const std::string& by, uint64_t term,
                              bool by_lease = false);

/// Whether peer `p` counts toward `min_followers` and `sync_followers`: connected, pulled
/// within the request timeout (5 s: a follower in step pulls at least every second, and
/// one whose replication stopped, or whose process stopped or hung, does not; a pull waits
/// that long for its answer, so a loaded follower is not dropped sooner), and not diverged
/// (a fork seen by this node, or an alert the follower reported: its replication stopped).
bool counts_as_follower(self_ptr self, const peer_slot& p);

/// The peers that count as followers now (`counts_as_follower`).
uint32_t followers_in_step(self_ptr self);

/// Returns true when this node accepts mutations: leader, with at least `min_followers`
/// and `sync_followers` peers that count as followers (`counts_as_follower`).
bool writable_now(self_ptr self);

/// Opens the engine's write window (write_window.hpp) two ticks ahead, never past the
/// lease's deadline, while `writable_now`; closes it otherwise.
void publish_window(self_ptr self);

/// A leader's refusal while it has too few followers in step (UNAVAILABLE, retry after
/// 1 s), naming both settings.
caf::error short_of_followers(self_ptr self);

// -- serving pulls and synchronous replication (cluster_serve.cpp) ------------------

/// (leader) Serves a follower's pull: records from `from`, or, at the head, a promise
/// answered by the next commit (`on_committed`) or empty after a second. `chain` is the
/// follower's chain at `from - 1`: when it is this node's, the follower holds every record
/// up to there durably (its confirmation, which moves the watermark).
caf::result<replica_batch> serve_pull(self_ptr self, const std::string& node, seq_no from,
                                      const digest& chain, uint32_t max);

/// (leader) The journal committed up to `head`: answers the pulls waiting for it.
void on_committed(self_ptr self, seq_no head);

/// Answers the pulls that waited a second (every one when `all`, or when this node no
/// longer leads: then with UNAVAILABLE).
void answer_parked(self_ptr self, bool all);

/// (leader, sync_followers > 0) Sends the journal the highest seq that `sync_followers`
/// followers confirmed, when it grew: the acknowledgements up to it go out.
void advance_watermark(self_ptr self);

/// (leader) Registers this actor with the journal, which then tells it of each commit
/// and, with sync_followers > 0, holds each acknowledgement for the watermark.
void start_replicating(self_ptr self);

// -- routing and alerts (cluster_routing.cpp) --------------------------------------

/// Runs a proposal where it may run: the local pipeline while this node writes, else the
/// leader; refused with UNAVAILABLE and retry_after when neither can (fail closed).
caf::result<outcome> route_submit(self_ptr self, proposal& p, uint8_t cls);

/// Routes an approval (or denial) like a proposal: to the pipeline that holds it.
caf::result<seq_no> route_approve(self_ptr self, approval& a);

/// Routes an interrupt like a proposal: to the pipeline that runs it.
caf::result<seq_no> route_interrupt(self_ptr self, interrupt& i);
caf::result<seq_no> route_resolve(self_ptr self, doubt_resolution& r);

/// Routes an audit acknowledgement to the pipeline of the node that writes the journal.
caf::result<seq_no> route_audit_ack(self_ptr self, audit_acknowledged& a);

/// Runs a mutating operator command where it may run: the local command actor while this
/// node writes, else the leader (forwarded once, with the caller kept); UNAVAILABLE with
/// retry_after when neither can (fail closed).
caf::result<operator_answer> route_command(self_ptr self, operator_command& cmd);

/// Answers every request still waiting for the leader with UNAVAILABLE (it went away).
void fail_forwarded(self_ptr self, const std::string& why);

/// The node's time: the wall time at the actor's spawn plus the monotonic time since.
caf::timestamp node_now(self_ptr self);

/// Passes the leader's own refusals on unchanged; a lost answer (timeout, connection
/// gone) becomes UNAVAILABLE saying the request may have run.
caf::error leader_error(self_ptr self, caf::error err);

/// Sends `xs` to the leader and answers with its reply, or UNAVAILABLE when the leader
/// goes away first (`fail_forwarded`) or does not answer within `timeout`.
template <class Reply, class... Ts>
caf::result<Reply> forward_to_leader(self_ptr self, const cluster_actor& leader,
                                     caf::timespan timeout, Ts&&... xs) {
  auto& st = self->state;
  auto n = ++st.forwards;
  auto rp = self->make_response_promise<Reply>();
  st.forwarded->emplace(n, [rp](caf::error err) mutable { rp.deliver(std::move(err)); });
  self->request(leader, timeout, std::forward<Ts>(xs)...)
    .then(
      [self, n, rp](Reply& r) mutable {
        if (self->state.forwarded->erase(n) > 0)
          rp.deliver(std::move(r));
      },
      [self, n, rp](caf::error& err) mutable {
        if (self->state.forwarded->erase(n) > 0)
          rp.deliver(leader_error(self, std::move(err)));
      });
  return rp;
}

/// Journals an integrity alert: at once on the leader; a follower (whose journal refuses
/// local writes) queues it and reports it to the leader, retrying until it is journaled.
void report_alert(self_ptr self, integrity_alert alert);

/// Sends queued alerts to the leader when it is reachable (called on every tick).
void report_pending_alerts(self_ptr self);

/// Reports what `bulwark cluster-rejoin` set aside (its marker in the journal directory)
/// as an integrity alert journaled by the leader; the marker is renamed once it is.
void report_set_aside(self_ptr self);

// -- the console access trail (cluster_access.cpp) ---------------------------------

/// Queues one `console_access` event of this node's console and sends what is queued:
/// to the local journal while this node leads, else to the leader (whose journal holds
/// the cluster's trail). The queue is bounded; beyond it events are dropped and counted.
void record_access(self_ptr self, event ev);

/// Sends queued access events when nothing is in flight (called on every tick).
void flush_access(self_ptr self);

/// (leader) Journals a follower's access events in one transaction, each remote address
/// prefixed with the follower's node id; refuses unknown nodes and malformed batches.
caf::result<seq_no> journal_peer_access(self_ptr self, const std::string& node,
                                        std::vector<event>& events);

/// (Leader) journals an alert a follower reported; replies with its seq.
caf::result<seq_no> journal_peer_alert(self_ptr self, integrity_alert& alert);

} // namespace bulwark::cluster_detail
