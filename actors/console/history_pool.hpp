#pragma once

/// The console's history readers: a few threads and a bounded queue of history queries,
/// so a long query never runs on the console's thread and a flood of them is refused
/// (OVERLOADED) instead of queued without end. Each job gets a deadline, counted from
/// the moment it was accepted, and a cancellation flag its connection can raise.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace bulwark {

/// Why a history job should end early (checked by the job while it reads).
struct history_ticket {
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> finished{false};

  /// 0: go on; 1: past its deadline; 2: cancelled.
  int stop_reason() const {
    if (cancelled.load(std::memory_order_relaxed))
      return 2;
    return std::chrono::steady_clock::now() >= deadline ? 1 : 0;
  }
};

/// The tickets of one connection's queries: raises each one's cancellation when the
/// connection goes away (this holder is destroyed with it).
class history_tickets {
public:
  history_tickets() = default;
  history_tickets(history_tickets&&) = default;
  history_tickets& operator=(history_tickets&&) = default;
  history_tickets(const history_tickets&) = delete;
  history_tickets& operator=(const history_tickets&) = delete;
  ~history_tickets() {
    for (auto& t : tickets_)
      t->cancelled = true;
  }
  void add(std::shared_ptr<history_ticket> t) {
    tickets_.push_back(std::move(t));
  }
  /// Forgets the tickets of finished queries.
  void prune() {
    std::vector<std::shared_ptr<history_ticket>> open;
    for (auto& t : tickets_)
      if (!t->finished)
        open.push_back(t);
    tickets_ = std::move(open);
  }

private:
  std::vector<std::shared_ptr<history_ticket>> tickets_;
};

/// A fixed set of reader threads taking jobs from a bounded queue.
class history_pool {
public:
  using job = std::function<void(history_ticket&)>;

  /// Starts `threads` readers (at least one) with room for `queue` waiting jobs.
  history_pool(unsigned threads, size_t queue);
  /// Cancels waiting and running jobs' tickets and joins the readers; a waiting job
  /// still runs, sees its ticket cancelled and answers so.
  ~history_pool();
  history_pool(const history_pool&) = delete;
  history_pool& operator=(const history_pool&) = delete;

  /// Queues `j` with `timeout`; returns its ticket, or null when the queue is full.
  std::shared_ptr<history_ticket> submit(job j, std::chrono::milliseconds timeout);

  /// Jobs accepted and not yet started.
  size_t waiting() const;

private:
  void run();

  struct item {
    job j;
    std::shared_ptr<history_ticket> ticket;
  };
  size_t queue_max_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<item> queue_;
  std::vector<std::shared_ptr<history_ticket>> running_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace bulwark
