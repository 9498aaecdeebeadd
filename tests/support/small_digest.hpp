#pragma once

// A digest for tests that need a few distinct ids: `id(n)` has `n` as its first byte and
// zero elsewhere, so `id(1) < id(2)` and each is readable in a failure's output.

#include <cstdint>

#include "messages/ids.hpp"

namespace bulwark::test {

inline digest id(uint8_t n) {
  digest d;
  d.bytes[0] = n;
  return d;
}

} // namespace bulwark::test
