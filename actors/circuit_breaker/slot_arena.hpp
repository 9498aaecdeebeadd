#pragma once

/// Objects kept in reusable slots of one array and named by tokens: a steady state (as
/// many objects leaving as arriving) allocates nothing. A token is the slot's index plus
/// one in its low 32 bits and the slot's generation in its high 32 bits; freeing a slot
/// bumps its generation, so the token of an object that is gone never finds the object
/// that reuses its slot (until that slot has been reused 2^32 times). The live objects
/// form a list in the order they were placed, so walking them is as deterministic as
/// walking a map by increasing token.

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace bulwark {

/// An arena of `T` (default-constructible, move-assignable) addressed by tokens.
template <class T>
class slot_arena {
public:
  /// Takes a slot after every live object; returns its token (never 0). A new slot holds
  /// a default `T`, a reused one what its last user left in it (see `erase`).
  /// Invalidates references into the arena.
  uint64_t emplace() {
    uint32_t i;
    if (free_ != none) {
      i = free_;
      free_ = slots_[i].next;
    } else {
      i = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    auto& s = slots_[i];
    s.live = true;
    s.prev = tail_;
    s.next = none;
    if (tail_ != none)
      slots_[tail_].next = i;
    else
      head_ = i;
    tail_ = i;
    ++size_;
    return token_of(i);
  }

  /// Returns the object named by `token`, or null if it is gone (or never was).
  T* find(uint64_t token) noexcept {
    auto low = static_cast<uint32_t>(token);
    if (low == 0 || low > slots_.size())
      return nullptr;
    auto& s = slots_[low - 1];
    if (!s.live || s.generation != static_cast<uint32_t>(token >> 32))
      return nullptr;
    return &s.value;
  }

  /// Removes the object named by `token` (nothing if it is gone); its slot is reused by
  /// the next `emplace`. The object is left as it is, so that a steady state does not pay
  /// for resetting every field: move out what must not linger (handles that keep others
  /// alive) before erasing, and assign every field after `emplace`.
  void erase(uint64_t token) {
    if (find(token) == nullptr)
      return;
    auto i = static_cast<uint32_t>(token) - 1;
    auto& s = slots_[i];
    if (s.prev != none)
      slots_[s.prev].next = s.next;
    else
      head_ = s.next;
    if (s.next != none)
      slots_[s.next].prev = s.prev;
    else
      tail_ = s.prev;
    s.live = false;
    ++s.generation;
    s.prev = none;
    s.next = free_;
    free_ = i;
    --size_;
  }

  /// Calls `f(token, object)` for each live object, oldest first. `f` may erase the
  /// object it is given, and no other.
  template <class F>
  void each(F f) {
    for (auto i = head_; i != none;) {
      auto next = slots_[i].next;
      f(token_of(i), slots_[i].value);
      i = next;
    }
  }

  /// Returns the number of live objects.
  size_t size() const noexcept {
    return size_;
  }

  /// Returns the number of slots (live or free): the most objects ever held at once.
  size_t capacity() const noexcept {
    return slots_.size();
  }

private:
  static constexpr uint32_t none = std::numeric_limits<uint32_t>::max();

  struct slot {
    T value;
    uint32_t generation = 0;
    uint32_t prev = none; ///< live: the previous live slot
    uint32_t next = none; ///< live: the next live slot; free: the next free slot
    bool live = false;
  };

  uint64_t token_of(uint32_t i) const noexcept {
    return (uint64_t{slots_[i].generation} << 32) | (uint64_t{i} + 1);
  }

  std::vector<slot> slots_;
  uint32_t head_ = none; ///< the oldest live slot
  uint32_t tail_ = none; ///< the newest live slot
  uint32_t free_ = none; ///< the most recently freed slot
  size_t size_ = 0;
};

} // namespace bulwark
