#pragma once

/// The caller's side of admission control: bounded places in the admission queues,
/// reserved on the submitting thread before any message is sent. A caller beyond the
/// bound of its class (or of its principal), or a quarantined principal, is refused at
/// once, so a flood never reaches the admission actor's mailbox. The admission actor owns
/// the gate: it gives a place back when its proposal leaves the queue (dispatched to the
/// pipeline, refused or answered), publishes its quarantined principals here, and a
/// restarted admission actor takes them over. Lock-free except for the quarantine list,
/// which is read only while it is not empty. Never reads the clock: time comes in.

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "caf/optional.hpp"
#include "caf/timespan.hpp"

#include "actors/admission/admission_policy.hpp"
#include "messages/error.hpp"

namespace bulwark {

/// What `admission_gate::try_enter` decided.
struct gate_pass {
  bool admitted = false;                    ///< a place is reserved: send the proposal
  ec code = ec::none;                       ///< OVERLOADED or AUTHORITY_DENIED (quarantine)
  std::string reason;                       ///< why not
  caf::optional<caf::timespan> retry_after; ///< set for OVERLOADED
};

/// Refusals counted at the gate and by the admission actor, by reason.
struct gate_counts {
  uint64_t queue_full = 0;  ///< the class's bound was reached
  uint64_t principal = 0;   ///< the principal's bound was reached
  uint64_t quarantine = 0;  ///< the principal is quarantined
  uint64_t total() const noexcept {
    return queue_full + principal + quarantine;
  }
};

/// Bounded places in the admission queues, shared by callers and the admission actor.
class admission_gate {
public:
  /// Number of principals the gate counts separately; beyond it the admission actor
  /// alone checks the per-principal bound (the class bound still holds).
  static constexpr size_t principal_slots = 1024;

  explicit admission_gate(admission_limits limits = {}) : limits_(limits) {
  }

  admission_gate(const admission_gate&) = delete;
  admission_gate& operator=(const admission_gate&) = delete;

  /// Reserves a waiting place for one proposal of `principal` in class `cls` while the
  /// node is at `level`; on a refusal nothing is reserved and the refusal is counted.
  gate_pass try_enter(const std::string& principal, admission_class cls, degradation level);

  /// Gives back the place of one proposal of `principal` (it left the queue).
  void leave(const std::string& principal);

  /// Counts a refusal made by the admission actor itself.
  void count_refusal(bool quarantined) noexcept;

  /// Proposals holding a place: queued in admission or on their way to it.
  uint64_t waiting() const noexcept {
    return waiting_.load(std::memory_order_relaxed);
  }

  /// Places held by `principal` (0 when the gate does not count it separately).
  uint64_t waiting_of(const std::string& principal) const;

  /// Refusals so far, by reason.
  gate_counts refused() const noexcept;

  /// Publishes the quarantined principals (by the admission actor).
  void set_quarantined(std::set<std::string> principals);

  /// The quarantined principals, e.g. for a restarted admission actor.
  std::set<std::string> quarantined() const;

  /// Rate-limits the shedding log: counts one refusal and returns how many were counted
  /// since the last report when a report is due at `now_ns` (at most one per `every_ns`),
  /// else 0.
  uint64_t report_due(int64_t now_ns, int64_t every_ns) noexcept;

  /// The limits the gate enforces.
  const admission_limits& limits() const noexcept {
    return limits_;
  }

private:
  struct slot {
    std::atomic<uint64_t> key{0};
    std::atomic<uint64_t> count{0};
  };

  slot* find(uint64_t key, bool insert);
  const slot* find(uint64_t key) const;
  gate_pass refuse_full(admission_class cls, uint64_t bound);

  admission_limits limits_;
  std::atomic<uint64_t> waiting_{0};
  std::array<slot, principal_slots> slots_;
  std::atomic<uint64_t> full_{0}, principal_{0}, quarantine_{0};
  std::atomic<uint64_t> since_report_{0};
  std::atomic<int64_t> next_report_ns_{0};
  std::atomic<size_t> quarantined_n_{0};
  mutable std::mutex quarantine_mtx_;
  std::set<std::string> quarantined_;
};

} // namespace bulwark
