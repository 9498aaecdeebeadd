#pragma once

/// Settings that change while a node runs: a policy reload gives an actor new settings
/// without restarting it. The engine journals the new policy first, then `set`s each
/// actor's settings here; an actor `refresh`es its copy where it takes a request, so the
/// next decision runs under the new policy and a restarted actor starts with it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace bulwark {

/// One actor's settings of type `T`, shared by the engine (writer) and the actor
/// (reader). `T` has a member `live` (a `std::shared_ptr<live_settings<T>>`): the cell the
/// actor refreshes from; values stored here never hold it (no ownership cycle).
template <class T>
class live_settings {
public:
  explicit live_settings(T initial) {
    set(std::move(initial));
  }

  /// Grows by one with each `set`.
  uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

  /// The newest settings.
  std::shared_ptr<const T> get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return value_;
  }

  /// Replaces the settings.
  void set(T x) {
    x.live = nullptr;
    auto next = std::make_shared<const T>(std::move(x));
    {
      std::lock_guard<std::mutex> guard{mtx_};
      value_ = std::move(next);
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }

private:
  mutable std::mutex mtx_;
  std::shared_ptr<const T> value_;
  std::atomic<uint64_t> generation_{0};
};

/// Copies the newest settings of `current.live` into `current` when they changed since
/// generation `seen`; returns true then. Without a cell, nothing changes.
template <class T>
bool refresh(T& current, uint64_t& seen) {
  auto cell = current.live;
  if (!cell)
    return false;
  auto g = cell->generation();
  if (g == seen)
    return false;
  current = *cell->get();
  current.live = std::move(cell);
  seen = g;
  return true;
}

/// The admins, shared by every room that checks for one; a policy reload replaces them.
class admin_list {
public:
  explicit admin_list(std::set<std::string> admins = {}) : admins_(std::move(admins)) {
  }

  /// 1 if `who` is an admin, else 0 (as `std::set::count`).
  size_t count(const std::string& who) const {
    std::lock_guard<std::mutex> guard{mtx_};
    return admins_.count(who);
  }

  std::set<std::string> get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return admins_;
  }

  void set(std::set<std::string> admins) {
    std::lock_guard<std::mutex> guard{mtx_};
    admins_ = std::move(admins);
  }

private:
  mutable std::mutex mtx_;
  std::set<std::string> admins_;
};

} // namespace bulwark
