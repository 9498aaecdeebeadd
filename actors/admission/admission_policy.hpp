#pragma once

/// The pure core of admission control (load shedding): bounded priority queues in front
/// of the pipeline. Operator commands and rollbacks go ahead of automation; within a
/// class principals take turns (round robin), so one noisy principal cannot starve the
/// others; beyond the bound a caller hears OVERLOADED with a retry_after at once. The
/// automation share shrinks as the degradation level rises and recovers when it falls;
/// operators and rollbacks keep their room at every level. A principal whose proposals
/// keep failing is quarantined until an operator releases it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "caf/optional.hpp"
#include "caf/timespan.hpp"

#include "messages/enums.hpp"

namespace bulwark {

/// Who a proposal comes from, in priority order.
enum class admission_class : uint8_t {
  operator_ = 0,  ///< a person (an admin or a console operator)
  rollback = 1,   ///< a compensation asked for by an incident
  automation = 2, ///< scripts, controllers, agents
};

/// Returns "operator", "rollback" or "automation".
const char* to_string(admission_class x) noexcept;

/// The part of `bound` automation may use at `level`: all (normal), half (degraded) or
/// a quarter (critical), at least 1.
size_t automation_share(size_t bound, degradation level) noexcept;

/// Bounds of admission (`[admission]`).
/// A proposal holds its in-flight slot until its outcome, also while it waits for an
/// approval, so the defaults are generous; a node under pressure sets them lower.
struct admission_limits {
  size_t max_in_flight = 65536; ///< proposals the pipeline works on at once
  size_t max_queued = 65536;    ///< waiting proposals, all classes together
  size_t per_principal = 16384; ///< waiting proposals of one principal
  uint32_t quarantine_after = 20; ///< consecutive failures that quarantine a principal
  caf::timespan retry_base = std::chrono::milliseconds{50}; ///< retry_after per queue turn
};

/// What `offer` decided.
struct admission_verdict {
  bool accepted = false;                  ///< queued (or to be dispatched at once)
  std::string reason;                     ///< why not
  bool quarantined = false;               ///< refused because the principal is quarantined
  caf::optional<caf::timespan> retry_after;
};

/// Bounded, prioritised, fair admission queues.
class admission_policy {
public:
  explicit admission_policy(admission_limits limits = {}) : limits_(limits) {
  }

  /// The limits it applies.
  const admission_limits& limits() const noexcept {
    return limits_;
  }

  /// Offers proposal `ticket` of `principal` in class `cls`.
  admission_verdict offer(uint64_t ticket, const std::string& principal, admission_class cls);

  /// Takes the tickets to dispatch now (highest class first, principals in turn), as long
  /// as fewer than the in-flight bound run.
  std::vector<uint64_t> dispatch();

  /// Marks a dispatched ticket finished; `failed` counts towards its principal's quarantine.
  /// Returns true if this failure quarantined the principal.
  bool finished(uint64_t ticket, bool failed);

  /// Takes over the quarantined principals of an earlier admission actor (a restart).
  void restore_quarantine(std::set<std::string> principals) {
    quarantined_ = std::move(principals);
  }

  /// Releases a quarantined principal; false if it was not quarantined.
  bool release(const std::string& principal);

  /// Sets the degradation level: automation may use all (normal), half (degraded) or a
  /// quarter (critical) of the queue and in-flight bounds.
  void set_level(degradation level) noexcept {
    level_ = level;
  }

  size_t queued() const noexcept {
    return queued_;
  }
  size_t in_flight() const noexcept {
    return running_.size();
  }
  /// The retry_after of one queue turn.
  caf::timespan retry_base() const noexcept {
    return limits_.retry_base;
  }
  uint64_t refused() const noexcept {
    return refused_;
  }
  const std::set<std::string>& quarantined() const noexcept {
    return quarantined_;
  }

  /// Waiting tickets of `principal`.
  size_t queued_of(const std::string& principal) const;

private:
  struct lane {
    std::map<std::string, std::deque<uint64_t>> by_principal;
    std::deque<std::string> turns; ///< principals with waiting tickets, next first
  };

  size_t share(size_t bound) const noexcept;
  caf::timespan retry_after() const;

  admission_limits limits_;
  degradation level_ = degradation::normal;
  lane lanes_[3];
  size_t queued_ = 0;
  size_t automation_running_ = 0;
  std::map<uint64_t, std::pair<std::string, admission_class>> running_;
  std::map<std::string, uint32_t> failures_; ///< consecutive, by principal
  std::set<std::string> quarantined_;
  uint64_t refused_ = 0;
};

} // namespace bulwark
