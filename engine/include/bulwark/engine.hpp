#pragma once

/// Bulwark's embedding API: start an engine in-process, register resources and
/// effectors, submit proposals, approve, deny, interrupt, halt, feed metrics, subscribe
/// to committed events, stop. Only the standard library appears here: hosts that do not
/// use CAF never see it (CAF hosts get the actor handles from <bulwark/engine_caf.hpp>).

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/engine_status.hpp"

namespace bulwark {

/// How to start an engine.
struct engine_options {
  std::string config_file;    ///< bulwark.toml; empty: built-in defaults
  std::string data_dir;       ///< journal directory; overrides [node].data; created if missing
  bool virtual_clock = false; ///< deterministic: time moves only by `advance()`
  std::optional<int64_t> epoch_ms; ///< wall time at start (virtual clock), ms since 1970
  std::vector<std::string> admins; ///< principals that may grant and halt (added to config)
  /// Principals that may approve and deny (role operator; admins may too; added to config).
  std::vector<std::string> operators;
  /// Overrides authority.allow_self_approval: may a proposer approve its own proposal.
  std::optional<bool> allow_self_approval;
  std::map<std::string, int> grants; ///< principal -> maximum level (added to config)
  std::optional<bool> enforce_enabled; ///< overrides authority.enforce_enabled
  std::optional<std::chrono::milliseconds> observation_window; ///< overrides the config
  std::optional<std::chrono::milliseconds> approval_timeout;   ///< overrides the config
  std::optional<double> rate_per_second; ///< overrides authority.rate_per_second
  std::optional<double> burst;           ///< overrides authority.burst
  bool network = false;                  ///< load CAF's io layer (console, cluster)
  /// Overrides the rollback level of every incident policy (1 asks an operator; 4 runs on
  /// its own when enforce is enabled, else falls back to 1).
  std::optional<int> rollback_level;
  bool chaos = false;                    ///< enable the chaos hooks (as [chaos] enabled)
};

/// One requested change.
struct change {
  std::string resource;
  std::string key;
  std::string value;
};

/// A proposal as a host submits it.
struct proposal_request {
  std::string idempotency_key;
  std::string principal;
  int level = 0;                          ///< 0 read-only .. 4 enforce
  std::vector<std::string> services;      ///< declared target services
  std::vector<std::string> regions;       ///< declared target regions
  std::vector<change> changes;
  std::string justification;
  /// Execution deadline = now + timeout. At levels 1 and 2 the wait for the approval
  /// does not spend it: the time it left at the decision runs again from the approval.
  std::chrono::milliseconds timeout{30000};
  /// Levels 1 and 2: the proposal's own approval window, from its decision; none: the
  /// node's (`approval_timeout`). Longer than zero and no longer than the node's, or the
  /// proposal is refused INVALID_INPUT (docs/architecture.md, "Two clocks"). Part of the
  /// proposal's content: it changes the digest.
  std::optional<std::chrono::milliseconds> approval_window;
};

/// One resource a level-0 read returned, as journaled.
struct resource_read {
  std::string id;
  std::string service;
  std::string region;
  std::map<std::string, std::string> attributes;
};

/// What a level-0 read returns: the active resources of its declared services (in its
/// declared regions, when it names any) in the journal's view its gates evaluated.
struct read_result {
  uint64_t seq = 0;                     ///< the journal seq of the view read
  std::vector<resource_read> resources; ///< in id order, at most 1000
  uint32_t total = 0;                   ///< resources that matched, returned or not
  bool truncated = false;               ///< more than 1000 matched: the first 1000 by id
};

/// The answer to a call: success, or a documented error code with a message.
struct result {
  bool ok = false;
  std::string code;           ///< "" on success, else e.g. "AUTHORITY_DENIED"
  std::string message;
  std::string status;         ///< proposals: refused, succeeded, failed, interrupted, ...
  std::string proposal;       ///< proposals: the digest approvals must name (hex)
  uint64_t seq = 0;           ///< the journal seq of the decision (or of the command)
  uint32_t applied = 0;
  uint32_t compensated = 0;
  std::optional<std::chrono::milliseconds> retry_after;
  /// A level-0 read answered by its flight (status "read"): what it read. None for any
  /// other answer, and for a repeat answered from the journal after the node no longer
  /// keeps the original answer.
  std::optional<read_result> read;
};

/// What an effector is asked to do.
struct effect_request {
  std::string service;
  std::string resource;
  std::string key;
  std::string value;                  ///< the new value (forward changes)
  bool compensation = false;          ///< undoing an earlier change
  std::optional<std::string> restore; ///< compensation: value to restore (none: remove)
  std::string idempotency_key;        ///< the same on every attempt of one action
  std::chrono::nanoseconds timeout{};
};

/// What an effector reports.
struct effect_result {
  bool ok = true;
  std::string error;       ///< why it failed
  bool retryable = false;  ///< timeouts and unavailability
};

using effector = std::function<effect_result(const effect_request&)>;

/// Where an effector's calls run.
enum class effector_mode {
  /// On the service's own threads (`breaker.max_in_flight` of them), off the engine's
  /// scheduler: the effector may block (a network call, a process, a sleep). The default.
  blocking,
  /// On the engine's thread that admits the call (one of its scheduler threads), which
  /// saves two thread hand-offs per call. Only for an effector that returns at once and
  /// never blocks (an in-memory change, a push onto the host's own queue): one that blocks
  /// holds a scheduler thread, and the call's timeout cannot interrupt it. While a chaos
  /// delay is set on its service, its calls run on the service's threads.
  nonblocking,
};

/// What a probe is asked: the current value of one key, as the world holds it.
struct probe_request {
  std::string service;
  std::string resource;
  std::string key;
  std::chrono::nanoseconds timeout{}; ///< the probe must answer within this
};

/// What a probe reports.
struct probe_result {
  bool ok = false;
  std::optional<std::string> value; ///< ok: the current value (none: the key is not set)
  std::string error;                ///< !ok: why no value could be read
  bool retryable = false;           ///< !ok: timeouts and unavailability
};

/// A host function reading the current value of one service's keys.
using prober = std::function<probe_result(const probe_request&)>;

/// A committed journal event as subscribers see it.
struct committed_event {
  uint64_t seq = 0;
  std::string type;
  std::string json; ///< the whole entry as JSON (docs/journal-format.md names)
};

/// A proposal waiting for a person.
struct pending_proposal {
  std::string proposal;
  std::string principal;
  int level = 0;
  size_t changes = 0;
};

/// An action in doubt: its start is journaled and its outcome is not, because the node
/// stopped between the two; whether the effector applied it is unknown
/// (docs/operations.md, "Actions in doubt").
struct in_doubt_action {
  std::string proposal;    ///< its proposal's digest (64 hex)
  std::string principal;   ///< who proposed it
  int level = 0;
  uint64_t decided_seq = 0;
  uint32_t step = 0;       ///< counted from 0
  std::string resource;
  std::string service;     ///< the resource's service (whose probe reads it back)
  std::string key;
  std::string value;       ///< what the step was to set
  uint64_t started_seq = 0; ///< its `action_started` record
  std::chrono::system_clock::time_point started_at;
  std::optional<std::string> journaled_value; ///< the key's value as the journal knows it
};

/// What reading one proposal's actions in doubt back through their probes found.
struct reconciliation {
  std::string proposal; ///< its digest (64 hex)
  std::string outcome;  ///< "applied" or "not-applied" (settled, journaled), or "unresolved"
  std::string evidence; ///< what the probes read, or why it stays in doubt
  uint64_t seq = 0;     ///< settled: its outcome record
};

/// The answer of `engine::reconcile`.
struct reconcile_report {
  result status;                         ///< not ok: nothing was read or settled
  std::vector<reconciliation> proposals; ///< one per proposal in doubt, oldest first
};

/// One difference a policy reload found.
struct policy_difference {
  std::string key;                   ///< e.g. "authority.grant.agent"
  std::optional<std::string> before; ///< none: the key is new
  std::optional<std::string> after;  ///< none: the key is gone
};

/// The answer of `engine::reload_policy`.
struct policy_reload {
  result status;     ///< not ok: refused, the policy in force stays (an invalid one journaled)
  bool changed = false;     ///< a new policy is in force, journaled as `policy_changed`
  std::string version;      ///< the policy in force after the reload (64 hex)
  std::string previous;     ///< the one before it
  std::vector<policy_difference> changes; ///< by key
};

/// A level-4 proposal that changed something without a person and waits for an
/// operator's review (the gate AuditOnly; docs/operations.md, "Auditing level-4 changes").
struct audit_item {
  std::string proposal;      ///< its digest (64 hex): what `audit_ack` names
  std::string principal;     ///< who proposed it
  uint64_t decided_seq = 0;  ///< its `proposal_decided` record
  uint64_t finished_seq = 0; ///< its `proposal_finished` record
  uint32_t steps = 0;        ///< the changes it asked for
  uint32_t applied = 0;      ///< the changes it applied (level 4 keeps them)
  std::string status;        ///< succeeded or failed
  std::string code;          ///< the outcome's code ("" when it succeeded)
};

/// The audit queue as the journal's state holds it.
struct audit_queue_info {
  std::vector<audit_item> items; ///< oldest finish first
  uint64_t head_seq = 0;         ///< the last seq applied to the state read
};

/// A service's circuit breaker as the host sees it.
struct breaker_info {
  std::string service;
  std::string state; ///< closed, open, half-open, forced-open, forced-closed
  uint32_t window_calls = 0;
  uint32_t window_failures = 0;
  uint32_t consecutive_failures = 0;
  uint32_t in_flight = 0;
  uint32_t queued = 0;
  uint64_t refused = 0;
  uint64_t retries = 0;
};

/// A dead letter: an action whose retries were exhausted, or a compensation that failed,
/// waiting for an operator.
struct dead_letter_info {
  uint64_t seq = 0;       ///< its id: the seq of its `dead_lettered` record
  std::string proposal;   ///< the proposal it belonged to (hex)
  uint32_t step = 0;
  std::string principal;  ///< a requeue runs under this principal, at `level`
  int level = 0;
  std::string service;
  std::string resource;
  std::string key;
  std::string value;
  std::string code;       ///< the last error: TIMEOUT or UNAVAILABLE
  std::string message;
  std::chrono::system_clock::time_point failed_at;
  /// A failed compensation's letter: `value` is the value to restore (a requeue restores
  /// it), and `restore` is empty when the key is to be removed (a requeue is refused).
  bool compensation = false;
  std::optional<std::string> restore; ///< compensation: the value to restore (none: remove)
};

/// One metric sample fed by the host (kept for the detector).
struct metric_sample {
  std::string service;
  std::string region;
  double error_rate = 0;
  double latency_ms = 0;
  std::chrono::system_clock::time_point at;
};

/// An incident as the host sees it.
struct incident_info {
  std::string id;            ///< hex digest
  std::string candidate;     ///< hex digest of the candidate it came from
  std::string service;
  std::string region;
  std::string severity;      ///< P0..P3
  std::string status;        ///< open, escalated, resolved, recovered, closed
  std::vector<uint64_t> culprits; ///< seqs of the applied actions its rollback reverts
  std::string rollback;      ///< hex digest of its last rollback ("" none)
  std::string rollback_result; ///< "", succeeded, failed, compensation_failed
  std::chrono::system_clock::time_point onset;
  std::chrono::system_clock::time_point respond_by;
  std::chrono::milliseconds mttr{0}; ///< onset to its close (recovered or closed)
  bool acknowledged = false;
  std::string owner;         ///< who acknowledged it last ("" none)
  std::string resolution;    ///< resolved and closed incidents
  uint32_t notes = 0;        ///< notes journaled for it
};

/// An incident escalated because nobody acknowledged it by its respond_by.
struct escalation_info {
  std::string incident;      ///< hex digest
  std::string service;
  std::string region;
  std::string severity;      ///< P0..P3
  std::chrono::system_clock::time_point respond_by;
  std::chrono::system_clock::time_point at; ///< when it was escalated
  uint64_t seq = 0;          ///< its `incident_escalated` record
};

/// A postmortem report of one incident (docs/incidents.md), from the journal alone.
struct incident_report {
  result status;             ///< ok, or INVALID_INPUT for an unknown incident
  std::string markdown;
  std::string json;
};

/// A raised candidate (a confirmed anomaly with its suspects).
struct candidate_info {
  std::string id;
  std::string service;
  std::string region;
  std::string policy;
  std::string verdict;       ///< "", PROMOTE, DEFER, SUPPRESS
  double error_rate = 0;
  std::vector<uint64_t> culprits;
  std::string incident;      ///< set once promoted
};

/// One attempt to hand a candidate to the orchestrator, from the attempts store.
struct attempt_info {
  std::string id;            ///< hex digest, the same on every read
  std::string candidate;     ///< hex digest
  std::string service;
  std::string region;
  uint32_t attempt = 0;      ///< 1 for a candidate's first attempt
  std::chrono::system_clock::time_point started;
  std::chrono::milliseconds duration{0};
  std::string status;        ///< succeeded, failed
  std::string code;          ///< failed: e.g. UNAVAILABLE, TIMEOUT ("" on success)
  std::string error;         ///< failed: the reason
};

/// Which attempts to list; empty strings match any.
struct attempts_query {
  std::string candidate;     ///< 64 hex characters
  std::string service;
  std::string region;
  std::string status;        ///< succeeded or failed
  uint32_t limit = 100;      ///< 1 to 1000
};

/// Attempts, newest first; a bad query is refused (INVALID_INPUT) with none.
struct attempts_answer {
  result status;
  std::vector<attempt_info> attempts;
};

/// Metric samples judged by the detector, by verdict.
struct metric_counts {
  uint64_t accepted = 0;
  uint64_t bad_value = 0;      ///< NaN, infinite, negative, error rate above 1, absurd latency
  uint64_t unknown_series = 0; ///< no registered resource has that service and region
  uint64_t future = 0;         ///< timestamp too far ahead of the engine's clock
  uint64_t out_of_order = 0;   ///< not newer than the series' previous sample
  uint64_t indexed_actions = 0; ///< applied actions held for root-cause analysis
};

/// A value read from this node's projection with the seq it reflects.
struct read_answer {
  std::optional<std::string> value; ///< none when the resource or key is not set
  uint64_t head_seq = 0;            ///< the last seq applied to the state read
};

/// A running engine. Thread-safe; callbacks run on engine threads.
class engine {
public:
  /// Starts an engine; on failure returns nullptr and sets `error` to "CODE: message".
  static std::unique_ptr<engine> start(const engine_options& opts, std::string* error);

  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Registers one resource (journaled).
  result register_resource(const std::string& id, const std::string& service,
                           const std::string& region,
                           const std::map<std::string, std::string>& attributes = {});

  /// Registers (or replaces) the effector of a service; every call to it goes through the
  /// service's circuit breaker, bulkhead and retries. `mode`: where its calls run
  /// (`effector_mode`; docs/effectors.md, "Embedded effectors").
  void register_effector(const std::string& service, effector fn,
                         effector_mode mode = effector_mode::blocking);

  /// Registers (or replaces) the probe of a service: how the current value of a key is
  /// read back from the world, to settle actions whose outcome is in doubt.
  void register_probe(const std::string& service, prober fn);

  /// Reads `resource`'s `key` through the probe of `service` on the caller's thread
  /// (not through the breaker: a probe changes nothing). Not ok when the service has no
  /// probe, when the timeout is not positive, or when the probe fails.
  probe_result probe(const std::string& service, const std::string& resource,
                     const std::string& key, std::chrono::milliseconds timeout);

  /// Returns every service's breaker state and figures.
  std::vector<breaker_info> breakers();

  /// Forces a service's breaker open or closed (admins only; journaled).
  result breaker_force(const std::string& by, const std::string& service, bool open);

  /// Releases a forced breaker (admins only; journaled).
  result breaker_release(const std::string& by, const std::string& service);

  /// Submits a proposal; the future resolves when it finished or was refused.
  std::future<result> submit(const proposal_request& p);

  /// Submits a proposal; `done` runs when it finished or was refused: on the caller's
  /// thread when refused at once (shed by admission, engine stopped), else as a job on
  /// one of the engine's scheduler workers (one per core, at least two). It may block, say on
  /// another submission's future, but while every worker is held by a blocked callback
  /// nothing else runs: keep long waits out of callbacks.
  void submit(const proposal_request& p, std::function<void(const result&)> done);

  /// Approves or denies the pending proposal or rollback with digest `proposal` (hex).
  /// `AUTHORITY_DENIED` when the approver holds no approver role (`operators`, `admins`),
  /// a lesser one than the level asks (`authority.approver_role`), or made the proposal
  /// (unless `allow_self_approval`); `HALTED` for an approval during a halt, except an
  /// admin's approval of a rollback.
  result approve(const std::string& approver, const std::string& proposal, bool approve = true);

  /// Interrupts a running level-3 proposal; its done steps are rolled back.
  result interrupt(const std::string& by, const std::string& proposal);

  /// Engages or releases the halt (admins only).
  result halt(const std::string& by, const std::string& reason);
  result release(const std::string& by, const std::string& reason);

  /// Sets a principal's maximum level, optionally until a time (admins only).
  result grant(const std::string& by, const std::string& principal, int level,
               std::optional<std::chrono::system_clock::time_point> until = {},
               const std::string& reason = {});

  /// Lists proposals waiting for approval.
  std::vector<pending_proposal> pending();

  /// Lists proposals that are running (approved, or level 3 and 4).
  std::vector<pending_proposal> running();

  /// Lists proposals whose actions started without a journaled outcome (after a crash).
  std::vector<std::string> in_doubt();

  /// Lists each action in doubt with what the journal knows of it (empty when none, or
  /// when the journal cannot be read).
  std::vector<in_doubt_action> in_doubt_actions();

  /// Settles every action in doubt of `proposal` as applied or not (an operator or admin,
  /// with a reason) and finishes the proposal; the answer's seq is its outcome record.
  /// `applied` is refused when the resource changed after the action started.
  result resolve(const std::string& by, const std::string& proposal, bool applied,
                 const std::string& reason);

  /// Reads every action in doubt back through its service's probe (each within
  /// `timeout`, on the caller's thread) and settles each proposal whose readings agree,
  /// as `by` (an operator or admin) would with `resolve`: applied when every resource
  /// holds the value its action was to set, not applied when every one holds the
  /// journal's value; the reason journaled is the probes' evidence. A proposal stays in
  /// doubt when a probe is missing or fails, a resource holds neither value, or the
  /// readings disagree. Refused (nothing read) for a resolver without an approver role or
  /// a timeout that is not positive.
  reconcile_report reconcile(const std::string& by, std::chrono::milliseconds timeout);

  /// Reads the configuration file again and, when its governance policy (docs/
  /// configuration.md, "Audited policy") differs from the one in force, journals
  /// `policy_changed` with the differences and runs every later decision under it. `by`
  /// must be an admin, except for `cause` "signal" (SIGHUP). Refused, with nothing
  /// changed: a file that does not load or check (journaled as `policy_refused` with the
  /// reason, INVALID_INPUT), a node started without a file (INVALID_INPUT), a node that
  /// does not write the journal (a cluster follower: UNAVAILABLE). Other keys of the file
  /// take effect at the next start.
  policy_reload reload_policy(const std::string& by, const std::string& cause = "reload");

  /// The version of the policy in force (64 hex).
  std::string policy_version() const;

  /// Lists the audit queue: every level-4 proposal that applied a change and waits for an
  /// operator's review (empty, with head_seq 0, when the journal does not answer).
  audit_queue_info audit_pending();

  /// Acknowledges the review of level-4 proposal `proposal` (hex) in the audit queue, with
  /// an optional note (at most 4096 bytes); journaled as `audit_acknowledged`, whose seq the
  /// answer carries, and it leaves the queue. `AUTHORITY_DENIED` when `by` holds no
  /// approver role (`operators`, `admins`) or made the proposal (unless
  /// `allow_self_approval`); `INVALID_INPUT` for a proposal not in the queue (unknown,
  /// running, acknowledged already, below level 4, or one that applied nothing). Taken
  /// during a halt too: it changes nothing in the fleet.
  result audit_ack(const std::string& by, const std::string& proposal,
                   const std::string& note = {});

  /// Feeds one metric sample to the detector; returns false if refused (see
  /// `metric_counts` for the reasons) or shed under load (counted in `load()`): per
  /// series, every other sample while degraded and three in four while critical, never a
  /// sample of a series with an open incident or with a change applied within the
  /// longer of the RCA look-back and the observation window (docs/incidents.md). Neither
  /// opens an incident.
  bool feed_metric(const metric_sample& sample);

  /// Returns the detector's sample counts.
  metric_counts metric_stats();

  /// Lists every incident the journal holds.
  std::vector<incident_info> incidents();

  /// Lists every candidate the journal holds (deferred ones wait for `promote`).
  std::vector<candidate_info> candidates();

  /// Lists orchestration attempts kept in the attempts store (docs/incidents.md).
  attempts_answer attempts(const attempts_query& query = {});

  /// An operator promotes a deferred candidate (journaled as a manual decision).
  result promote(const std::string& by, const std::string& candidate,
                 const std::string& justification = {});

  /// An operator rolls back an incident's culprits; the request is its own approval.
  /// A second rollback of a recovered incident is a no-op (status "no-op").
  result rollback(const std::string& by, const std::string& incident,
                  const std::string& justification = {});

  /// An operator rolls back applied actions by seq (also its own approval).
  result rollback_seqs(const std::string& by, const std::vector<uint64_t>& seqs,
                       const std::string& justification = {});

  /// Lists rollbacks waiting for an approval (approve them with `approve`).
  std::vector<std::string> pending_rollbacks();

  /// The incident lifecycle (docs/incidents.md, "The lifecycle"). Each step is journaled
  /// and answers the seq of its record; INVALID_INPUT names an unknown or closed
  /// incident, a step out of order or a missing text, and changes nothing.
  /// `by` takes the incident; `owner` works on it from now on.
  result acknowledge(const std::string& by, const std::string& incident,
                     const std::string& owner, const std::string& note = {});

  /// Adds a note to an open or resolved incident.
  result note(const std::string& by, const std::string& incident, const std::string& text);

  /// Changes an incident's severity (P0..P3) with a reason.
  result set_severity(const std::string& by, const std::string& incident,
                      const std::string& severity, const std::string& reason);

  /// Resolves an acknowledged incident with a resolution (it stays until closed).
  result resolve(const std::string& by, const std::string& incident,
                 const std::string& resolution);

  /// Closes an incident; needs a resolution unless it was resolved, and one that nobody
  /// acknowledged needs it as the reason.
  result close(const std::string& by, const std::string& incident,
               const std::string& resolution = {});

  /// Reopens a resolved or closed incident with a reason.
  result reopen(const std::string& by, const std::string& incident, const std::string& reason);

  /// Calls `fn` for every incident escalated because nobody acknowledged it by its
  /// respond_by, once the escalation is journaled (on an engine thread).
  void on_escalation(std::function<void(const escalation_info&)> fn);

  /// The postmortem report of an incident, read from the journal.
  incident_report report(const std::string& incident);

  /// Lists the dead letters: actions whose retries were exhausted, oldest first.
  std::vector<dead_letter_info> dead_letters();

  /// An admin requeues dead letter `seq`: its action runs again as a new proposal of its
  /// principal and level, through the whole governance path; the result is that
  /// proposal's. The letter leaves the list with the new proposal's allowed decision (one
  /// transaction); a refused requeue leaves it open.
  result requeue(const std::string& by, uint64_t seq, const std::string& reason = {},
                 std::chrono::milliseconds timeout = std::chrono::milliseconds{30000});

  /// An admin discards dead letter `seq` (journaled).
  result discard(const std::string& by, uint64_t seq, const std::string& reason = {});

  /// Calls `fn` for every event committed from now on, in order.
  void subscribe(std::function<void(const committed_event&)> fn);

  /// Returns the journal's head seq and chain (hex).
  std::pair<uint64_t, std::string> head();

  /// Verifies the whole journal; ok, or the first bad seq in `message`.
  result verify();

  /// Returns the SHA-256 state digest of the projection at the head (hex).
  std::string state_digest();

  /// Returns a resource attribute as the journal's projection holds it.
  std::optional<std::string> attribute(const std::string& resource, const std::string& key);

  /// Returns a resource attribute with the seq of the state it was read from: on a
  /// follower, how fresh the local copy is.
  read_answer read_attribute(const std::string& resource, const std::string& key);

  /// Returns the node's cluster role, term, head, lag and peers; none when it has no
  /// [cluster] section.
  std::optional<cluster_info> cluster_status();

  /// Returns admission and shedding figures.
  load_info load();

  /// Releases a principal quarantined for repeated failures (admins only).
  result release_principal(const std::string& by, const std::string& principal);

  /// Returns the failure-mode registry with its live indicators and the degradation level.
  health_info health();

  /// Returns the early warnings raised (newest last, at most 100; active ones first kept).
  std::vector<health_warning> warnings();

  /// Sets an indicator the host measures itself (the node's signal source sets
  /// `prometheus_failed_rounds`); the health actor reads it in its next round. False for
  /// an id the failure-mode registry does not hold.
  bool set_indicator(const std::string& id, double value);

  /// Chaos hook for tests and drills (off by default): while on, every journal write fails
  /// as a full disk would, so every action is refused with AUDIT_UNAVAILABLE.
  void inject_journal_failures(bool on);

  /// Chaos hooks (compiled in, off by default: `[chaos] enabled`, `engine_options::chaos`
  /// or this call). Disabling clears every fault. Each hook below is refused with
  /// AUTHORITY_DENIED while they are off.
  result chaos_enable(bool on);

  /// Chaos: the next `calls` effector calls of `service` fail as an outage would
  /// (retryable; 0 clears).
  result chaos_fail_effector(const std::string& service, uint32_t calls);

  /// Chaos: every effector call of `service` sleeps `d` first (0 clears).
  result chaos_delay_effector(const std::string& service, std::chrono::milliseconds d);

  /// Chaos: every journal write fails (true) or works again (false).
  result chaos_fail_journal(bool on);

  /// Chaos: kills the supervised actor `actor` (`journal`, `blast_radius`, `pipeline`,
  /// `rollback`, `attempt_keeper`, `subscriber:<n>`, `authority`, `admission`, `health`,
  /// `detector`, `orchestrator`, `breaker:<service>`; clustered: `cluster`, `commands`;
  /// in a node: `console`, `http_feed`); its supervisor restarts it. INVALID_INPUT lists
  /// the names for an unknown one.
  result chaos_kill(const std::string& actor);

  /// Chaos: every proposal submitted from now on reaches the pipeline `d` later (0 clears).
  result chaos_delay_messages(std::chrono::milliseconds d);

  /// Virtual clock only: runs everything that is ready now.
  void run();

  /// Virtual clock only: moves time forward and runs what became due.
  void advance(std::chrono::milliseconds d);

  /// Returns the engine's current time (virtual or wall).
  std::chrono::system_clock::time_point now();

  /// Stops all actors; every acknowledged event is durable. Called by the destructor.
  void stop();

  struct impl;
  impl& internals();

private:
  explicit engine(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace bulwark
