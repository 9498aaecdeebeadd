#pragma once

// How many random input sequences a property test of the flight machine runs: 10,000 over
// fixed seeds, or BULWARK_FLIGHT_CASES=N.

#include <cstdint>
#include <cstdlib>

namespace bulwark::test {

inline uint64_t flight_cases() {
  if (auto env = std::getenv("BULWARK_FLIGHT_CASES"))
    return std::strtoull(env, nullptr, 10);
  return 10000;
}

} // namespace bulwark::test
