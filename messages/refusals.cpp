#include "messages/refusals.hpp"

#include <atomic>

namespace bulwark {

namespace {

std::atomic<uint64_t> counters[4];

} // namespace

void count_refusal(protected_value which) noexcept {
  counters[static_cast<uint8_t>(which) & 3].fetch_add(1, std::memory_order_relaxed);
}

uint64_t refusals(protected_value which) noexcept {
  return counters[static_cast<uint8_t>(which) & 3].load(std::memory_order_relaxed);
}

} // namespace bulwark
