#pragma once

/// Forward declarations of every message type and the `bulwark_types` CAF type-ID block
/// with the atoms. A type missing here works locally and fails across nodes.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"
#include "caf/type_id.hpp"

namespace bulwark {
struct seq_no;
struct digest;
struct resource_id;
struct principal_id;
struct trace_id;
struct event;
struct journal_entry;
struct appended;
struct mutation;
struct resource_registered;
struct resource_retired;
struct gate_result;
struct proposal_decided;
struct action_started;
struct action_applied;
struct action_failed;
struct approval_recorded;
struct rollback_applied;
struct breaker_transition;
struct grant_changed;
struct halt_changed;
struct console_access;
struct interrupted;
struct proposal_finished;
struct actor_restarted;
struct culprit;
struct candidate_raised;
struct candidate_decided;
struct incident_opened;
struct rollback_requested;
struct rollback_finished;
struct incident_outcome;
struct metric_in;
struct signal_summary;
struct rollback_order;
struct rollback_status;
struct incident_decision;
struct candidate_state;
struct incident_state;
enum class policy_verdict : uint8_t;
enum class severity : uint8_t;
struct early_warning;
struct degradation_changed;
struct dead_lettered;
struct dead_letter_resolved;
struct dead_letter_command;
struct lifecycle_command;
struct incident_acknowledged;
struct incident_remark;
struct incident_severity_changed;
struct incident_closure;
enum class lifecycle_action : uint8_t;
struct resource_state;
struct grant_state;
struct proposal_state;
struct fleet_state;
struct verify_report;
struct proposal;
struct decision;
struct outcome;
struct approval;
struct interrupt;
struct doubt_resolution;
struct audit_acknowledged;
struct compensation_failed;
struct pending_approval;
struct effector_result;
struct registration;
struct effector_request;
struct breaker_status;
struct scope_request;
struct scope_verdict;
struct authority_verdict;
enum class proposal_status : uint8_t;
enum class event_type : uint8_t;
enum class authority_level : uint8_t;
enum class gate : uint8_t;
enum class breaker_state : uint8_t;
enum class degradation : uint8_t;
// -- cluster --
struct signed_head;
struct cluster_hello;
struct replica_batch;
struct peer_status;
struct cluster_status;
struct peer_changed;
struct integrity_alert;
struct leadership_changed;
struct analysis_failed;
// -- forwarded commands --
struct operator_command;
struct operator_answer;
} // namespace bulwark

CAF_BEGIN_TYPE_ID_BLOCK(bulwark_types, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::seq_no))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::digest))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::resource_id))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::principal_id))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::trace_id))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::event))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::journal_entry))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::appended))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::mutation))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::resource_registered))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::resource_retired))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::gate_result))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::proposal_decided))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::action_started))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::action_applied))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::action_failed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::approval_recorded))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::rollback_applied))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::breaker_transition))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::grant_changed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::halt_changed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::console_access))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::interrupted))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::proposal_finished))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::actor_restarted))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::resource_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::grant_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::proposal_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::fleet_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::verify_report))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::event_type))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::authority_level))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::gate))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::breaker_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::proposal))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::decision))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::outcome))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::approval))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::interrupt))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::pending_approval))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::effector_result))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::registration))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::scope_request))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::scope_verdict))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::authority_verdict))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::proposal_status))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::pending_approval>))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::effector_request))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::breaker_status))
  CAF_ADD_TYPE_ID(bulwark_types, (caf::optional<caf::timestamp>))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::event>))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::journal_entry>))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::mutation>))
  CAF_ADD_TYPE_ID(bulwark_types, (caf::optional<caf::timespan>))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::culprit))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::candidate_raised))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::candidate_decided))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::incident_opened))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::rollback_requested))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::rollback_finished))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::incident_outcome))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::metric_in))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::signal_summary))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::rollback_order))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::rollback_status))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::incident_decision))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::candidate_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::incident_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::policy_verdict))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::severity))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::seq_no>))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::digest>))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<uint64_t>))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::early_warning))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::degradation_changed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::degradation))
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, append, "append")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, head, "head")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, read, "read")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, verify, "verify")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, subscribe, "subscribe")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, committed, "committed")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, state, "state")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, commit, "commit")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, submit, "submit")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, approve, "approve")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, interrupt, "interrupt")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, pending, "pending")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, enroll, "enroll")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, evaluate, "evaluate")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, check, "check")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, grant, "grant")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, halt, "halt")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, release, "release")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, effected, "effected")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, expire, "expire")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, step, "step")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, deadline, "deadline")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, in_doubt, "in_doubt")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, execute, "execute")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, force, "force")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, retry, "retry")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, done, "done")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, restart, "restart")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, sample, "sample")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, candidate, "candidate")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, promote, "promote")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, rollback, "rollback")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, stats, "stats")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, tick, "tick")
  // -- cluster --
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::signed_head))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::cluster_hello))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::replica_batch))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::peer_status))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::cluster_status))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::peer_changed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::integrity_alert))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::leadership_changed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::analysis_failed))
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, import, "import")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, writable, "writable")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, hello, "hello")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, pull, "pull")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, gossip, "gossip")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, alert, "alert")
  // -- dead letters --
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::dead_lettered))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::dead_letter_resolved))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::dead_letter_command))
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, requeue, "requeue")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, discard, "discard")
  // -- forwarded commands --
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::operator_command))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::operator_answer))
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, command, "command")
  // -- followers' console access trail --
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, access, "access")
  // -- level-3 analysis --
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, analyze, "analyze")
  // -- the incident lifecycle --
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::lifecycle_action))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::lifecycle_command))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::incident_acknowledged))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::incident_remark))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::incident_severity_changed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::incident_closure))
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, lifecycle, "lifecycle")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, respond, "respond")
  // -- actions in doubt --
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::doubt_resolution))
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, resolve, "resolve")
  // -- the audit queue of level-4 changes --
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::audit_acknowledged))
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, audit_ack, "audit_ack")
  // -- failed compensations --
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::compensation_failed))
  // -- synchronous replication --
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, replicate, "replicate")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, replicated, "replicated")
  // -- the leader's lease in etcd --
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, lease, "lease")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, campaign, "campaign")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, fence, "fence")
CAF_END_TYPE_ID_BLOCK(bulwark_types)
