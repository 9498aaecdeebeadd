#pragma once

/// The committed events the HTTP API's event streams read: a bounded window of the newest
/// ones, shared by the journal's feed (which publishes) and the streams (which wait).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/events.hpp"
#include "persistence/event_json.hpp"

namespace bulwark {

/// Committed events for the event streams: a bounded window of the newest ones. An event is
/// rendered as JSON when a stream first reads it, not when it commits (most are never read).
class event_hub {
public:
  static constexpr size_t window = 1024;

  void publish(const std::vector<journal_entry>& entries) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      for (auto& e : entries) {
        if (e.seq.value <= last_)
          continue; // a restarted feed's catch-up overlaps what the hub holds
        last_ = e.seq.value;
        events_.push_back(item{e, {}});
        if (events_.size() > window)
          events_.pop_front();
      }
    }
    cv_.notify_all();
  }

  /// The newest seq published (0: none): where a restarted feed subscribes from.
  uint64_t last() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_;
  }

  /// Starts the hub at `seq` (the journal's head when the feed first subscribes).
  void start_at(uint64_t seq) {
    std::lock_guard<std::mutex> guard{mtx_};
    last_ = seq;
  }

  void close() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      closed_ = true;
    }
    cv_.notify_all();
  }

  enum class next_result { event, quiet, behind, closed };

  /// The first event after `after`, waiting up to `wait` for one.
  next_result next(uint64_t after, std::chrono::milliseconds wait,
                   std::pair<uint64_t, std::string>& out) {
    std::unique_lock<std::mutex> lock{mtx_};
    auto ready = [&] { return closed_ || (!events_.empty() && seq_of(events_.back()) > after); };
    if (!cv_.wait_for(lock, wait, ready))
      return next_result::quiet;
    if (closed_)
      return next_result::closed;
    if (seq_of(events_.front()) > after + 1)
      return next_result::behind; // the events after `after` left the window
    for (auto& e : events_)
      if (seq_of(e) > after) {
        if (e.text.empty())
          e.text = to_json(e.entry).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out = {seq_of(e), e.text};
        return next_result::event;
      }
    return next_result::quiet;
  }

private:
  struct item {
    journal_entry entry;
    std::string text; ///< the entry as JSON, once a stream read it
  };

  static uint64_t seq_of(const item& x) {
    return x.entry.seq.value;
  }

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  uint64_t last_ = 0;
  std::deque<item> events_;
  bool closed_ = false;
};

} // namespace bulwark
