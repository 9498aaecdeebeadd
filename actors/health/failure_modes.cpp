#include "actors/health/failure_modes.hpp"

namespace bulwark {

const std::vector<failure_mode_def>& failure_modes() {
  static const std::vector<failure_mode_def> modes{
    {"VAL-1", "silent corruption",
     "the chain tail is verified at start and before each write batch; a full verification "
     "runs in the background",
     "stop writes, run `bulwark verify`, restore the last verified backup up to the seq "
     "before the first bad record"},
    {"VAL-2", "approval limbo",
     "an unanswered approval expires at its timeout and the proposal is aborted",
     "review the pending proposals (`proposals`) and approve or deny them before they "
     "expire"},
    {"VAL-4", "restart storm",
     "supervisors restart with exponential backoff and escalate past their intensity "
     "limit; the engine then stays closed",
     "find the crashing actor in the actor_restarted events and halt automation before "
     "the supervisor escalates"},
    {"VAL-5", "verification staleness",
     "a full verification runs every health.verify_interval_ms",
     "run `verify` and check the backup age (`status`)"},
    {"JOURNAL-SPACE", "journal space",
     "at the critical level new proposals are refused (AUDIT_UNAVAILABLE) before writes "
     "start failing",
     "raise journal.max_map_mb or free disk space, then take a backup"},
    {"BACKLOG", "backlog", "bounded queues refuse with OVERLOADED and retry_after",
     "reduce the submission rate or raise breaker max_in_flight"},
    {"PV-001", "raw event type",
     "event types are an enum; an unknown type from a record or request is refused",
     "find the sender of the malformed records or requests"},
    {"PV-002", "unvalidated hash",
     "digests are built only by validated constructors; a malformed digest is refused",
     "find the client sending malformed digests (console access trail)"},
    {"PV-003", "missing halt guard",
     "every mutating entry point takes a halt_guard pass; the guard refuses while halted "
     "or while governance is down",
     "check the halt and the governance supervisor before resubmitting"},
    {"SIGNAL-SOURCE", "signal source unreachable",
     "the source keeps polling every interval; its series report no data (never healthy) "
     "and no sample is invented, so no incident opens or closes on them",
     "check that [prometheus] address answers GET /api/v1/query (the node's status lists "
     "each series' reason); detection is blind for those series meanwhile"},
  };
  return modes;
}

const std::vector<indicator_def>& indicator_defs() {
  using k = indicator_kind;
  static const std::vector<indicator_def> defs{
    {"corrupt_records", "VAL-1", k::gauge, "bad records found by the last full verification",
     {1, 1}},
    {"pending_approvals", "VAL-2", k::gauge, "proposals waiting for approval", {50, 200}},
    {"approval_age_pct", "VAL-2", k::gauge, "oldest pending approval's age, % of its timeout",
     {75, 90}},
    {"restarts", "VAL-4", k::counter, "restarts across the tree per rate window", {10, 30}},
    {"restart_intensity_pct", "VAL-4", k::gauge,
     "highest supervisor's recent restarts, % of its intensity limit", {60, 80}},
    {"verification_age_s", "VAL-5", k::gauge, "seconds since the last full verification",
     {3600, 86400}},
    {"journal_space_pct", "JOURNAL-SPACE", k::gauge,
     "journal use, % of the smaller of max map and use plus free disk", {80, 90}},
    {"backlog", "BACKLOG", k::gauge, "proposals in the pipeline (running or waiting for approval)",
     {100, 1000}},
    {"admission_queued", "BACKLOG", k::gauge, "proposals waiting in admission", {100, 1000}},
    {"journal_waiting", "BACKLOG", k::gauge,
     "most appends one journal commit answered in the last 10 s (the journal's queue)",
     {100, 1000}},
    {"mailbox_journal", "BACKLOG", k::gauge,
     "messages waiting in the journal's mailbox (mean of its samples since the last round)",
     {100, 1000}},
    {"mailbox_pipeline", "BACKLOG", k::gauge,
     "messages waiting in the pipeline's mailbox (mean of its samples since the last round)",
     {100, 1000}},
    {"mailbox_authority", "BACKLOG", k::gauge,
     "messages waiting in the authority's mailbox (mean of its samples since the last round)",
     {100, 1000}},
    {"mailbox_admission", "BACKLOG", k::gauge,
     "messages waiting in the admission actor's mailbox (mean of its samples since the last "
     "round)",
     {100, 1000}},
    {"effector_queued", "BACKLOG", k::gauge,
     "effector calls waiting in the breakers' bulkheads for a pool thread", {100, 1000}},
    {"pv001_refused", "PV-001", k::counter, "raw event types refused per rate window",
     {5, 100}},
    {"pv002_refused", "PV-002", k::counter, "malformed digests refused per rate window",
     {5, 100}},
    {"pv003_refused", "PV-003", k::counter,
     "mutations refused because halt and governance could not be checked, per rate window",
     {1, 100}},
    {"prometheus_failed_rounds", "SIGNAL-SOURCE", k::gauge,
     "consecutive polling rounds in which the prometheus source could not reach its server",
     {1, 3}},
  };
  return defs;
}

const failure_mode_def* find_mode(const std::string& id) {
  for (auto& m : failure_modes())
    if (m.id == id)
      return &m;
  return nullptr;
}

} // namespace bulwark
