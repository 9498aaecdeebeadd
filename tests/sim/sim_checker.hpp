#pragma once

/// The simulation's invariants, checked from what the journal committed and what the
/// world's effectors saw (nothing here reads the engine's memory):
///
/// - `write-ahead`: every effector call for a proposal's step ran after that step's
///   `action_started` was durable, every call of a rollback after its `rollback_requested`;
/// - `decided-once`: every acknowledged proposal has exactly one `proposal_decided`, at the
///   seq its answer names; no proposal and no idempotency key is decided twice, no proposal
///   finishes twice;
/// - `rollback-restores`: every `rollback_applied` is backed by a successful compensation
///   that asked for the value it names and left the world holding it; a flight's
///   compensation names the value its action replaced;
/// - `no-duplicate-incident`: no incident id and no candidate opens two incidents, and no
///   candidate is decided twice.
/// - `idempotent-repeat`: a request repeated later with the same idempotency key and content
///   is the same proposal (its first answer, never "used for another proposal");
/// - `blast-radius`: no allowed proposal changes more services, or more resources of one
///   service, than the configuration allows.
/// - `fleet-budget`: at each `budget_charged`, the resources every principal's executions
///   charged within the window, per service and per (service, region), stay within the
///   percent (compensation gives them back as docs/journal-format.md says).
/// - `flight-ends` (at the end of a run, once drained): every allowed proposal of levels
///   1 to 3 has its outcome, waits for an approval the live pipeline knows of, or is in
///   doubt: a restart of the pipeline (or of the process) loses none;
/// - `rollback-ends` (the same): every journaled rollback plan has its
///   `rollback_finished`, or waits for an approval the live executor knows of: none is
///   left started and unfinished by a restart of the executor.
/// The chain and the replay digest are checked by the driver (sim_run.cpp).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "bulwark/engine.hpp"
#include "sim/sim_world.hpp"

namespace bulwark::sim {

/// One broken invariant.
struct violation {
  std::string invariant;
  std::string detail;
};

/// Follows the journal and the world's call log; reports what breaks an invariant.
class sim_checker {
public:
  /// Feeds one committed record, in seq order (`payload` as docs/journal-format.md names).
  void record(uint64_t seq, const std::string& type, const nlohmann::json& payload);

  /// The blast-radius limits the engine runs with.
  void limits(uint32_t max_services, double max_percent, int64_t window_ms) {
    max_services_ = max_services;
    max_percent_ = max_percent;
    window_ms_ = window_ms;
  }

  /// Remembers an answer to a submission; checked once the records up to its seq are in.
  void answered(const result& r);

  /// Checks the answer to a request repeated later under its idempotency key.
  void repeated_later(const result& r);

  /// Checks what the records seen so far allow: new effector calls, answers, rollbacks.
  void check(const std::vector<call_record>& calls);

  /// At the end of a run: checks `flight-ends` and `rollback-ends` against what the live
  /// engine reports (hex digests): proposals in doubt, proposals and rollbacks waiting
  /// for an approval.
  void settled(const std::vector<std::string>& in_doubt,
               const std::vector<std::string>& waiting_flights,
               const std::vector<std::string>& waiting_rollbacks);

  /// The last seq fed.
  uint64_t seen() const noexcept {
    return seen_;
  }
  /// Takes the violations found since the last call.
  std::vector<violation> take();

  uint64_t rollback_mutations = 0; ///< `rollback_applied` records checked
  uint64_t budget_charges = 0;     ///< `budget_charged` records checked
  uint64_t effects_checked = 0;    ///< effector calls checked against their write-ahead
  uint64_t answers_checked = 0;    ///< acknowledged proposals checked
  uint64_t incidents = 0;          ///< incidents opened

private:
  struct applied_action {
    std::string proposal;
    uint32_t step = 0;
    std::optional<std::string> old_value;
  };
  struct rollback_record {
    uint64_t seq = 0;
    std::string rollback;
    uint64_t reverts = 0;
    std::string resource;
    std::string key;
    std::optional<std::string> restore;
  };

  void fail(const std::string& invariant, const std::string& detail);
  void check_call(const call_record& c);
  void check_rollback(const rollback_record& r, const std::vector<call_record>& calls);

  uint64_t seen_ = 0;
  size_t calls_checked_ = 0;
  std::map<std::pair<std::string, uint32_t>, uint64_t> started_;
  std::map<uint64_t, applied_action> applied_;
  std::map<std::string, uint64_t> rollbacks_;          ///< rollback id -> requested seq
  std::map<std::string, std::vector<uint64_t>> decided_; ///< proposal -> decision seqs
  std::set<std::string> decided_keys_;                 ///< principal + key
  std::set<std::string> finished_;
  std::map<std::string, uint64_t> flights_;    ///< allowed at levels 1-3 -> decision seq
  std::map<std::string, int> rollbacks_open_;  ///< rollback id -> plans minus finishes
  std::set<std::string> incident_ids_;
  std::set<std::string> incident_candidates_;
  std::set<std::string> candidates_decided_;
  void check_scope(uint64_t seq, const nlohmann::json& decision);
  void check_budget(uint64_t seq, const nlohmann::json& charged);

  struct charge {
    std::string region;
    std::string proposal;
    int64_t until = 0; ///< ms since the epoch
  };
  std::map<std::string, std::map<std::string, charge>> budget_; ///< service -> resource

  uint32_t max_services_ = 0; ///< 0: not checked
  double max_percent_ = 100;
  int64_t window_ms_ = 0;
  std::map<std::string, std::string> service_of_;    ///< resource -> service
  std::map<std::string, uint32_t> active_; ///< service, and "service/region" -> registered
  std::map<std::string, uint64_t> matched_; ///< rollback + key -> records matched
  std::vector<result> answers_;
  std::vector<rollback_record> rollbacks_applied_;
  std::vector<violation> found_;
};

} // namespace bulwark::sim
