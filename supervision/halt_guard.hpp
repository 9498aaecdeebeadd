#pragma once

/// The HaltGuard: the one gate through which every mutating actor checks the halt and the
/// governance state before it journals a decision or calls an effector (PV-003).
///
/// The authority's verdict carries the halt (HALTED), grants and gates; when the authority
/// does not answer, a mutation fails closed (GOVERNANCE_FAILURE) and only reads go on.
/// The guard also refuses new mutations while JOURNAL-SPACE is critical, before appends
/// start failing. What it hands out on success is a `halt_guard::pass`: the mutating
/// entry points take one (`decide`, `launch` in actors/pipeline/), and since only the
/// guard can construct a pass, a mutating path that skips the check does not compile.

#include <atomic>
#include <memory>
#include <string>

#include "caf/expected.hpp"

#include "messages/ids.hpp"
#include "messages/scope.hpp"

namespace bulwark {

/// Node conditions the guard checks besides governance (set by the health actor).
class node_conditions {
public:
  /// Sets whether JOURNAL-SPACE is critical (new mutations are then refused).
  void set_journal_space_critical(bool on) noexcept {
    space_critical_.store(on, std::memory_order_release);
  }

  /// Returns whether JOURNAL-SPACE is critical.
  bool journal_space_critical() const noexcept {
    return space_critical_.load(std::memory_order_acquire);
  }

  /// Sets the node's degradation level (0 normal, 1 degraded, 2 critical).
  void set_degradation(uint8_t level) noexcept {
    degradation_.store(level, std::memory_order_release);
  }

  /// Returns the node's degradation level (0 normal, 1 degraded, 2 critical).
  uint8_t degradation_level() const noexcept {
    return degradation_.load(std::memory_order_acquire);
  }

private:
  std::atomic<bool> space_critical_{false};
  std::atomic<uint8_t> degradation_{0};
};

/// Checks halt, governance and node conditions; the only source of passes.
class halt_guard {
public:
  /// Proof that the halt and the governance state were checked for one proposal.
  /// Copyable (it travels in continuations), but only `halt_guard` constructs one.
  class pass {
  public:
    /// The proposal the check was made for.
    const digest& proposal() const noexcept {
      return id_;
    }

    /// Whether the proposal mutates (a read's pass allows no mutation).
    bool mutating() const noexcept {
      return mutating_;
    }

  private:
    friend class halt_guard;
    pass(const digest& id, bool mutating) : id_(id), mutating_(mutating) {
    }
    digest id_;
    bool mutating_ = false;
  };

  /// A guard that checks `conditions` too (none: governance and halt only).
  explicit halt_guard(std::shared_ptr<const node_conditions> conditions = nullptr)
    : conditions_(std::move(conditions)) {
  }

  /// Admits proposal `id` on the authority's `verdict` (halt, grant and gates): a refusal
  /// keeps the verdict's code; a mutation is also refused while JOURNAL-SPACE is critical.
  caf::expected<pass> admit(const digest& id, const authority_verdict& verdict, bool mutating,
                            trace_id trace) const;

  /// Admits proposal `id` when the authority did not answer (`why`): a mutation fails
  /// closed with GOVERNANCE_FAILURE (counted under PV-003); a read goes on.
  caf::expected<pass> governance_down(const digest& id, bool mutating, const std::string& why,
                                      trace_id trace) const;

private:
  std::shared_ptr<const node_conditions> conditions_;
};

} // namespace bulwark
