// The console's history readers: threads, a bounded queue, deadlines and cancellation.

#include "actors/console/history_pool.hpp"

#include <algorithm>

namespace bulwark {

history_pool::history_pool(unsigned threads, size_t queue) : queue_max_(queue) {
  for (unsigned i = 0; i < std::max(threads, 1u); ++i)
    threads_.emplace_back([this] { run(); });
}

history_pool::~history_pool() {
  {
    std::lock_guard<std::mutex> g{mtx_};
    stopping_ = true;
    for (auto& x : queue_)
      x.ticket->cancelled = true;
    for (auto& t : running_)
      t->cancelled = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

std::shared_ptr<history_ticket> history_pool::submit(job j, std::chrono::milliseconds timeout) {
  auto ticket = std::make_shared<history_ticket>();
  ticket->deadline = std::chrono::steady_clock::now() + timeout;
  {
    std::lock_guard<std::mutex> g{mtx_};
    if (stopping_ || queue_.size() >= queue_max_)
      return nullptr;
    queue_.push_back(item{std::move(j), ticket});
  }
  cv_.notify_one();
  return ticket;
}

size_t history_pool::waiting() const {
  std::lock_guard<std::mutex> g{mtx_};
  return queue_.size();
}

void history_pool::run() {
  for (;;) {
    item x;
    {
      std::unique_lock<std::mutex> g{mtx_};
      cv_.wait(g, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      x = std::move(queue_.front());
      queue_.pop_front();
      running_.push_back(x.ticket);
    }
    x.j(*x.ticket);
    x.ticket->finished = true;
    std::lock_guard<std::mutex> g{mtx_};
    running_.erase(std::find(running_.begin(), running_.end(), x.ticket));
  }
}

} // namespace bulwark
