#pragma once

/// Counters of raw values from outside that were refused because they would break a
/// protected invariant (PV-001 raw event type, PV-002 unvalidated digest, PV-003 a
/// mutation whose halt and governance state could not be checked). Process-wide and
/// monotonic: the health actor reads their growth per rate window.

#include <cstdint>

namespace bulwark {

/// The protected invariants whose refusals are counted.
enum class protected_value : uint8_t {
  raw_event_type = 1,     ///< PV-001
  unvalidated_digest = 2, ///< PV-002
  halt_guard = 3,         ///< PV-003
};

/// Counts one refusal under `which` (thread-safe).
void count_refusal(protected_value which) noexcept;

/// Returns the refusals counted under `which` since the process started.
uint64_t refusals(protected_value which) noexcept;

} // namespace bulwark
