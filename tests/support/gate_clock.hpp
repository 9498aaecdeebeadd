#pragma once

/// A breaker gate's moment `ms` milliseconds into a test: the actor clock from its epoch,
/// the journal's time line from a fixed date (the gate never reads a clock itself).

#include <chrono>
#include <cstdint>

#include "actors/circuit_breaker/breaker_gate.hpp"

namespace bulwark::test {

inline gate_time gate_at(int64_t ms) {
  auto d = std::chrono::milliseconds{ms};
  return gate_time{caf::actor_clock::time_point{} + d,
                   caf::timestamp{std::chrono::milliseconds{1'700'000'000'000}} + d};
}

} // namespace bulwark::test
