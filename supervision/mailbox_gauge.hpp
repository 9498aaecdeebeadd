#pragma once

/// Mailbox depths for the BACKLOG indicators. CAF 0.17 lets only the owning actor read
/// `mailbox().size()`, so each actor that matters samples its own mailbox from inside its
/// handlers (`sample_mailbox`) into a gauge; the health actor reads the gauges from any
/// thread. A gauge reports the mean of its samples since the last read, so a backlog
/// that drained between two health rounds is still seen once.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace bulwark {

/// The depth of one actor's mailbox, written by the actor and read by the health actor.
class mailbox_gauge {
public:
  /// Records a depth seen by the owning actor.
  void observe(uint64_t depth) noexcept {
    current_.store(depth, std::memory_order_relaxed);
    sum_.fetch_add(depth, std::memory_order_relaxed);
    samples_.fetch_add(1, std::memory_order_relaxed);
  }

  /// Samples `self`'s mailbox (call only from `self`'s own handlers): on every 32nd
  /// message, and on every message while the last sample was not 0, so a drained mailbox
  /// reads 0 again.
  template <class Self>
  void sample(Self* self) {
    if ((++handled_ & 31u) != 0 && current() == 0)
      return;
    observe(self->mailbox().size());
  }

  /// The last depth seen.
  uint64_t current() const noexcept {
    return current_.load(std::memory_order_relaxed);
  }

  /// The mean depth of the samples since the last `take` (the last depth seen when there
  /// were none): a backlog that lasted, not a moment's burst of replies.
  uint64_t take() noexcept {
    auto n = samples_.exchange(0, std::memory_order_relaxed);
    auto sum = sum_.exchange(0, std::memory_order_relaxed);
    return n == 0 ? current() : sum / n;
  }

private:
  std::atomic<uint64_t> current_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> samples_{0};
  uint64_t handled_ = 0; ///< messages seen by the owner (only the owner touches it)
};

} // namespace bulwark

namespace bulwark {

/// The gauges of the actors the BACKLOG indicators watch (one per actor).
struct mailbox_gauges {
  std::shared_ptr<mailbox_gauge> journal = std::make_shared<mailbox_gauge>();
  /// One per flight family's actor (actors/pipeline/flight_registry.hpp).
  std::array<std::shared_ptr<mailbox_gauge>, 4> flights{
    std::make_shared<mailbox_gauge>(), std::make_shared<mailbox_gauge>(),
    std::make_shared<mailbox_gauge>(), std::make_shared<mailbox_gauge>()};
  std::shared_ptr<mailbox_gauge> authority = std::make_shared<mailbox_gauge>();
  std::shared_ptr<mailbox_gauge> admission = std::make_shared<mailbox_gauge>();
};

} // namespace bulwark
