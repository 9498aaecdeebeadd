#pragma once

/// A FIFO queue in one array used as a ring: once it has grown to the largest size it
/// holds, pushing and popping allocate nothing (a `std::deque` allocates and frees a
/// block every few hundred bytes of traffic).

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace bulwark {

/// A first-in first-out queue of `T` (default-constructible, move-assignable).
template <class T>
class ring_queue {
public:
  /// Returns true if the queue holds nothing.
  bool empty() const noexcept {
    return size_ == 0;
  }

  /// Returns the number of elements.
  size_t size() const noexcept {
    return size_;
  }

  /// Returns the oldest element.
  /// @pre `!empty()`
  T& front() noexcept {
    return buf_[head_];
  }

  /// Returns the oldest element.
  /// @pre `!empty()`
  const T& front() const noexcept {
    return buf_[head_];
  }

  /// Appends `x` (doubles the array when it is full).
  void push_back(T x) {
    if (size_ == buf_.size())
      grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = std::move(x);
    ++size_;
  }

  /// Removes the oldest element; its place is reset, so it holds no resources.
  /// @pre `!empty()`
  void pop_front() {
    buf_[head_] = T{};
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
  }

  /// Removes every element (the array stays).
  void clear() {
    while (!empty())
      pop_front();
    head_ = 0;
  }

private:
  void grow() {
    // Powers of two, so that the index wraps with a mask.
    std::vector<T> next(std::max<size_t>(8, buf_.size() * 2));
    for (size_t i = 0; i < size_; ++i)
      next[i] = std::move(buf_[(head_ + i) & (buf_.size() - 1)]);
    buf_.swap(next);
    head_ = 0;
  }

  std::vector<T> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
};

} // namespace bulwark
