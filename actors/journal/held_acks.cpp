#include "actors/journal/held_acks.hpp"

#include <string>

#include "caf/actor_control_block.hpp"
#include "caf/mailbox_element.hpp"

#include "messages/error.hpp"

namespace bulwark {

void answer_append(pending_append& w, caf::message msg, caf::strong_actor_ptr from,
                   caf::execution_unit* host) {
  auto& to = w.to;
  if (!to.stages.empty())
    to.deliver(std::move(msg));
  else if (to.sender != nullptr)
    to.sender->enqueue(std::move(from), to.id.response_id(), std::move(msg), host);
  to.sender = nullptr; // answered once
}

void record_answered(append_meter* meter, caf::actor_clock::time_point now,
                     const std::vector<pending_append>& answered, size_t events,
                     std::vector<caf::timespan>& scratch) {
  if (!meter)
    return;
  scratch.clear();
  for (auto& w : answered)
    scratch.push_back(now - w.arrived);
  meter->record(now, events, scratch);
}

held_acks::held_acks(std::shared_ptr<append_meter> meter) : meter_(std::move(meter)) {
}

void held_acks::start() {
  std::lock_guard<std::mutex> guard{mtx_};
  replicated_ = seq_no{};
}

void held_acks::hold(held_commit h, caf::actor_clock::time_point now) {
  std::vector<held_commit> out;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    held_.push_back(std::move(h));
    answer_covered(out);
  }
  send(out, now);
}

void held_acks::release(seq_no upto, caf::actor_clock::time_point now) {
  std::vector<held_commit> out;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (upto.value > replicated_.value)
      replicated_ = upto;
    answer_covered(out);
  }
  send(out, now);
}

void held_acks::release_all(caf::actor_clock::time_point now) {
  std::vector<held_commit> out;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!held_.empty() && held_.back().last.value > replicated_.value)
      replicated_ = held_.back().last;
    answer_covered(out);
  }
  send(out, now);
}

void held_acks::fail(const caf::error& err) {
  std::deque<held_commit> out;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    out.swap(held_);
  }
  auto msg = caf::make_message(err);
  for (auto& h : out)
    for (auto& w : h.waiting)
      answer_append(w, msg);
}

void held_acks::answer_covered(std::vector<held_commit>& out) {
  while (!held_.empty() && held_.front().last.value <= replicated_.value) {
    out.push_back(std::move(held_.front()));
    held_.pop_front();
  }
}

void held_acks::send(std::vector<held_commit>& out, caf::actor_clock::time_point now) {
  // Outside the lock: oldest first, as they were committed.
  std::vector<caf::timespan> latencies;
  for (auto& h : out) {
    for (size_t i = 0; i < h.waiting.size(); ++i)
      answer_append(h.waiting[i], caf::make_message(h.replies[i]));
    record_answered(meter_.get(), now, h.waiting, h.events, latencies);
  }
}

caf::error unconfirmed(const char* why) {
  return refuse(ec::unavailable,
                std::string{"committed on this node but not confirmed by the sync followers "
                            "before "}
                  + why
                  + ": it survives a failover only if a follower holds it; check before "
                    "repeating",
                {}, caf::timespan{std::chrono::seconds{1}});
}

} // namespace bulwark
