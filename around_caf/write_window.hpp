#pragma once

/// Until when a clustered node may hand its own submissions straight to its admission,
/// without a round trip through its cluster actor.
///
/// The cluster actor opens the window while the node leads, holds its lease and has the
/// followers it needs in step, and moves its end forward on every tick (two ticks ahead,
/// never past the lease's deadline); it closes it before anything else when the node
/// stops leading. A cluster actor that stops ticking lets it close on its own. The window
/// only routes: the journal refuses every local append of a node that does not lead or
/// whose lease may have lapsed (its fence), so a submission that reads the window a moment
/// before it closes is refused there, never run by two writers.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace bulwark {

class write_window {
public:
  using clock = std::chrono::steady_clock; ///< the actor clock's (caf::actor_clock)

  /// Open until `until` (later calls may move it either way).
  void open_until(clock::time_point until) noexcept {
    until_.store(until.time_since_epoch().count(), std::memory_order_release);
  }

  void close() noexcept {
    until_.store(0, std::memory_order_release);
  }

  /// Whether a submission made at `now` may go straight to this node's admission.
  bool open(clock::time_point now = clock::now()) const noexcept {
    return now.time_since_epoch().count() < until_.load(std::memory_order_acquire);
  }

private:
  std::atomic<clock::rep> until_{0};
};

/// Whether a submission on this node goes through its cluster actor: the node is
/// `clustered` and its write window (`window`; none: never opened) is closed.
inline bool through_cluster(bool clustered, const write_window* window) noexcept {
  return clustered && !(window != nullptr && window->open());
}

} // namespace bulwark
