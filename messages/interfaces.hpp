#pragma once

/// Typed actor handles of Bulwark's actors and the `bulwark_actors` type-ID block.

#include <cstdint>
#include <vector>

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "messages/type_ids.hpp"

namespace bulwark {

/// Receives committed journal entries, in order, without gaps.
using subscriber_actor = caf::typed_actor<
  // Delivers the entries of one committed transaction.
  caf::reacts_to<atom::committed, std::vector<journal_entry>>>;

/// The JOURNAL: single writer of the LMDB journal; owns the fleet projection.
using journal_actor = caf::typed_actor<
  // Appends one event; replies once the transaction holding it is durable.
  caf::replies_to<atom::append, event>::with<appended>,
  // Appends events all-or-nothing in one transaction; replies once durable.
  caf::replies_to<atom::append, std::vector<event>>::with<appended>,
  // Returns the newest sequence number and its chain hash.
  caf::replies_to<atom::head>::with<seq_no, digest>,
  // Returns up to `limit` committed entries from `from` to `to`.
  caf::replies_to<atom::read, seq_no, seq_no, uint32_t>::with<std::vector<journal_entry>>,
  // Verifies the whole chain.
  caf::replies_to<atom::verify>::with<verify_report>,
  // Returns the projected fleet state at the head.
  caf::replies_to<atom::state>::with<fleet_state>,
  // Sends every entry committed after `from` to the subscriber, in order.
  caf::reacts_to<atom::subscribe, subscriber_actor, seq_no>,
  // Appends a leader's records if each links to the local chain (follower only).
  caf::replies_to<atom::import, replica_batch>::with<appended>,
  // Makes local appends allowed (leader) or refused with UNAVAILABLE (follower); going
  // read-only answers every acknowledgement still held for the followers UNAVAILABLE.
  caf::replies_to<atom::writable, bool>::with<bool>,
  // The sender hears of each transaction's last seq (`committed, seq_no`) once its records
  // are in the replica tail, before its commit; with `true`, each append is acknowledged
  // only once the watermark in `held_acks` covers its records (synchronous replication),
  // with `false` at once.
  caf::reacts_to<atom::replicate, bool>,
  // Raises that watermark, the highest seq enough followers hold durably (the leader's
  // cluster actor raises it on held_acks directly): acknowledgements up to it go out.
  caf::reacts_to<atom::replicated, seq_no>,
  // INTERNAL (from the cluster actor, with a leader elected through etcd): local appends
  // are refused from this steady-clock instant (ns since the clock's epoch; 0: no bound),
  // where the leader's lease may have lapsed. Sent before the journal is made writable.
  caf::reacts_to<atom::fence, int64_t>,
  // INTERNAL: commits every pending append in one transaction.
  caf::reacts_to<atom::commit>>;

/// The AUTHORITY: levels, grants, gates, rate limits and the halt.
using authority_actor = caf::typed_actor<
  // Evaluates halt, rate limit, grant and the gates of the requested level.
  caf::replies_to<atom::evaluate, proposal>::with<authority_verdict>,
  // The governance step: evaluates the request's subject as `evaluate` does and, when it
  // is allowed, checks (and reserves) its scope in blast radius's window in the same step;
  // the scope verdict of a refused proposal is a default one (not allowed, not checked).
  caf::replies_to<atom::check, scope_request>::with<authority_verdict, scope_verdict>,
  // An admin (first) sets a principal's (second) grant, optionally until a time.
  caf::replies_to<atom::grant, principal_id, principal_id, authority_level,
                  caf::optional<caf::timestamp>, std::string>::with<seq_no>,
  // An admin engages the halt with a reason.
  caf::replies_to<atom::halt, principal_id, std::string>::with<seq_no>,
  // An admin releases the halt with a reason.
  caf::replies_to<atom::release, principal_id, std::string>::with<seq_no>,
  // Returns whether the halt is engaged.
  caf::replies_to<atom::state>::with<bool>>;

/// BLAST_RADIUS: service, region and percent scope with rolling windows.
using blast_radius_actor = caf::typed_actor<
  // Checks a proposal's scope against the limits and the fleet-wide budget; an allowed
  // one asking for its charge is reserved until released.
  caf::replies_to<atom::check, scope_request>::with<scope_verdict>,
  // Releases a proposal's reservation: its charge is journaled, or never will be.
  caf::reacts_to<atom::release, digest>>;

/// A BREAKER: guards one service's effector with a circuit breaker, a bulkhead and retries.
using breaker_actor = caf::typed_actor<
  // Runs one effector call through admission, bulkhead and retries (sent to the entry, it
  // runs on the sender's thread: breaker_entry.hpp).
  caf::replies_to<atom::execute, effector_request>::with<effector_result>,
  // An admin forces the breaker open (true) or closed (false).
  caf::replies_to<atom::force, principal_id, bool>::with<breaker_status>,
  // An admin releases a forced state.
  caf::replies_to<atom::release, principal_id>::with<breaker_status>,
  // Returns state and figures.
  caf::replies_to<atom::state>::with<breaker_status>,
  // INTERNAL: the gate has timeouts or retries due, or transitions to journal.
  caf::reacts_to<atom::tick>>;

/// The PIPELINE: a proposal's way from submission to its journaled outcome.
using pipeline_actor = subscriber_actor::extend<
  // Submits a proposal; the reply comes when it has finished (or was refused).
  caf::replies_to<atom::submit, proposal>::with<outcome>,
  // Approves or denies a pending proposal named by its digest.
  caf::replies_to<atom::approve, approval>::with<seq_no>,
  // Interrupts a running level-3 proposal; its done steps are rolled back.
  caf::replies_to<atom::interrupt, interrupt>::with<seq_no>,
  // Lists proposals waiting for approval.
  caf::replies_to<atom::pending>::with<std::vector<pending_approval>>,
  // Registers a resource in the fleet (journaled).
  caf::replies_to<atom::enroll, registration>::with<seq_no>,
  // Lists proposals whose actions started without a journaled outcome.
  caf::replies_to<atom::in_doubt>::with<std::vector<digest>>,
  // Settles a proposal's actions in doubt as applied or not, and finishes the proposal.
  caf::replies_to<atom::resolve, doubt_resolution>::with<seq_no>,
  // Journals an operator's review of a level-4 proposal in the audit queue.
  caf::replies_to<atom::audit_ack, audit_acknowledged>::with<seq_no>,
  // Requeues a dead letter: its action runs again as a new proposal (the reply).
  caf::replies_to<atom::requeue, dead_letter_command>::with<outcome>,
  // Discards a dead letter (journaled); the reply is the resolution's seq.
  caf::replies_to<atom::discard, dead_letter_command>::with<seq_no>,
  // INTERNAL: an effector call finished (proposal, call token, result).
  caf::reacts_to<atom::effected, digest, uint64_t, effector_result>,
  // INTERNAL: an approval's time ran out.
  caf::reacts_to<atom::expire, digest>,
  // INTERNAL: a level-3 observation window ended; run the next step.
  caf::reacts_to<atom::step, digest>,
  // INTERNAL: an effector call's deadline passed (proposal, call token).
  caf::reacts_to<atom::deadline, digest, uint64_t>>;

/// The DETECTOR: baselines, anomalies, root-cause analysis and recovery verification.
using detector_actor = subscriber_actor::extend<
  // Judges one metric sample (telemetry, never journaled); replies its sample_verdict.
  caf::replies_to<atom::sample, metric_in>::with<uint8_t>,
  // Returns samples judged by verdict (index = sample_verdict) and actions indexed last.
  caf::replies_to<atom::stats>::with<std::vector<uint64_t>>,
  // Summarizes a service's accepted samples in [from, to] against their thresholds.
  caf::replies_to<atom::analyze, std::string, caf::timestamp, caf::timestamp>::with<signal_summary>,
  // INTERNAL: hands a candidate not journaled yet to the orchestrator again.
  caf::reacts_to<atom::retry, digest, uint32_t>>;

/// The ORCHESTRATOR: candidate -> policy decision -> incident (glue only).
using orchestrator_actor = caf::typed_actor<
  // Decides a candidate by the policy it names; journals candidate, decision, incident.
  caf::replies_to<atom::candidate, candidate_raised>::with<incident_decision>,
  // An operator promotes a deferred candidate (a journaled manual promotion).
  caf::replies_to<atom::promote, digest, principal_id, std::string>::with<incident_decision>,
  // An operator's lifecycle step (acknowledge, note, severity, resolve, close, reopen);
  // answers the seq of its journaled record.
  caf::replies_to<atom::lifecycle, lifecycle_command>::with<seq_no>,
  // The respond_by timer of an incident: escalates it when nobody acknowledged it.
  caf::reacts_to<atom::respond, digest>>;

/// The ROLLBACK executor: compensating events through the effectors, in one transaction.
using rollback_actor = subscriber_actor::extend<
  // Plans and runs (or awaits approval for) a rollback of an incident or of seqs.
  caf::replies_to<atom::rollback, rollback_order>::with<rollback_status>,
  // Approves or denies a rollback awaiting approval, named by its digest.
  caf::replies_to<atom::approve, approval>::with<rollback_status>,
  // Lists rollbacks awaiting approval.
  caf::replies_to<atom::pending>::with<std::vector<digest>>,
  // INTERNAL: a compensation finished (rollback, call token, result).
  caf::reacts_to<atom::effected, digest, uint64_t, effector_result>,
  // INTERNAL: an awaited approval's time ran out.
  caf::reacts_to<atom::expire, digest>>;
/// HEALTH: samples the failure-mode indicators, journals early warnings and level changes.
using health_actor = caf::typed_actor<
  // INTERNAL: samples every indicator (every health.period_ms).
  caf::reacts_to<atom::tick>,
  // INTERNAL: runs a full background verification (every health.verify_interval_ms).
  caf::reacts_to<atom::verify>>;

/// COMMANDS: runs mutating operator commands against this node's own actors, with the
/// checks the embedding API and the console apply (the cluster actor's local target).
using command_actor = caf::typed_actor<
  // Runs one command; the answer is the reply of the actor that ran it.
  caf::replies_to<atom::command, operator_command>::with<operator_answer>>;

/// The CLUSTER actor: peers, replication, head gossip (what peers see of a node).
using cluster_actor = caf::typed_actor<
  // A peer introduces itself; the reply is our hello, or a refusal naming the mismatch.
  caf::replies_to<atom::hello, cluster_hello>::with<cluster_hello>,
  // A follower (named) pulls up to `max` records from `from` (leader only; the newest may
  // still be committing on the leader); the digest is its chain at `from - 1`, so the pull
  // confirms what it holds durably. A pull at the leader's head waits (up to a second)
  // for the next transaction.
  caf::replies_to<atom::pull, std::string, seq_no, digest, uint32_t>::with<replica_batch>,
  // INTERNAL (from the journal): a transaction's records up to this seq are in the replica
  // tail; its commit is running.
  caf::reacts_to<atom::committed, seq_no>,
  // A peer's signed head.
  caf::reacts_to<atom::gossip, signed_head>,
  // Returns role, term, peers, heads and lag.
  caf::replies_to<atom::state>::with<cluster_status>,
  // An admin makes this node the leader under a higher term (replies with the term).
  caf::replies_to<atom::promote, std::string, uint64_t>::with<uint64_t>,
  // Runs a proposal on the leader: locally when this node writes, else forwarded; its
  // admission class is the principal's (operator for an admin, else automation).
  caf::replies_to<atom::submit, proposal>::with<outcome>,
  // The same in the given admission class (admission_class: the console's proposals are
  // people's, the operator class, whoever the principal is), kept when forwarded.
  caf::replies_to<atom::submit, proposal, uint8_t>::with<outcome>,
  // The same forwarded by a follower, with the time `left` to its deadline by the
  // follower's clock: the leader sets the deadline from its own clock, so nodes whose wall
  // clocks disagree neither shorten nor stretch it.
  caf::replies_to<atom::submit, proposal, uint8_t, caf::timespan>::with<outcome>,
  // Approves or denies a proposal on the leader: locally when this node writes, else forwarded.
  caf::replies_to<atom::approve, approval>::with<seq_no>,
  // Interrupts a proposal on the leader: locally when this node writes, else forwarded.
  caf::replies_to<atom::interrupt, interrupt>::with<seq_no>,
  // Settles actions in doubt on the leader: locally when this node writes, else forwarded.
  caf::replies_to<atom::resolve, doubt_resolution>::with<seq_no>,
  // Acknowledges a level-4 proposal's review on the leader: locally when this node
  // writes, else forwarded.
  caf::replies_to<atom::audit_ack, audit_acknowledged>::with<seq_no>,
  // A follower reports an integrity alert it cannot journal itself; the leader journals it.
  caf::replies_to<atom::alert, integrity_alert>::with<seq_no>,
  // A `console_access` event of this node's console: journaled here while this node
  // leads, else kept in order (bounded) and sent to the leader.
  caf::reacts_to<atom::access, event>,
  // A follower (named) sends `console_access` events it cannot journal itself; the leader
  // journals them in one transaction, the follower's id before each remote address.
  caf::replies_to<atom::access, std::string, std::vector<event>>::with<seq_no>,
  // Runs a mutating operator command on the leader: locally when this node writes, else
  // forwarded once; the answer is the leader's.
  caf::replies_to<atom::command, operator_command>::with<operator_answer>,
  // INTERNAL (from its lease keeper, with [cluster.etcd]): the leader key's holder, its
  // term (the key's create revision), the steady-clock deadline (ns) this node writes
  // until when it holds the key (else 0), and what went wrong (empty when nothing).
  caf::reacts_to<atom::lease, std::string, uint64_t, int64_t, std::string>,
  // INTERNAL (from its lease keeper): whether this node may campaign for the leader key
  // now (a follower, replicating, with no connected peer ahead of it).
  caf::replies_to<atom::campaign>::with<bool>,
  // INTERNAL: connect, pull and gossip when due.
  caf::reacts_to<atom::tick>>;

} // namespace bulwark

CAF_BEGIN_TYPE_ID_BLOCK(bulwark_actors, caf::id_block::bulwark_types::end)
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::subscriber_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::journal_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::authority_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::blast_radius_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::pipeline_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::breaker_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::detector_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::orchestrator_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::rollback_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::health_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::cluster_actor))
CAF_END_TYPE_ID_BLOCK(bulwark_actors)
