#include "actors/journal/journal_subscribers.hpp"

#include <algorithm>
#include <mutex>
#include <utility>

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "messages/error.hpp"

namespace bulwark::journal_detail {

namespace {

/// Sends the entries after `from` to a new subscriber, in pages.
void catch_up(journal_ptr self, const subscriber_actor& sub, seq_no from) {
  auto& st = self->state;
  auto head = st.store->head();
  std::vector<journal_entry> page;
  auto err = st.store->read(seq_no{from.value + 1}, head, [&](journal_entry&& e) {
    page.push_back(std::move(e));
    if (page.size() == 1024) {
      self->send(sub, atom::committed_v, std::move(page));
      page.clear();
    }
    return true;
  });
  if (!page.empty())
    self->send(sub, atom::committed_v, std::move(page));
  if (err)
    spdlog::error("journal: catch-up read failed: {}", describe(err).message);
}

} // namespace

void publish(journal_ptr self, std::vector<journal_entry>&& entries) {
  auto& subs = self->state.subscribers;
  if (subs.empty())
    return;
  auto msg = caf::make_message(atom::committed_v, std::move(entries));
  for (auto& sub : subs)
    caf::actor_cast<caf::abstract_actor*>(sub)->enqueue(self->ctrl(), caf::make_message_id(),
                                                         msg, self->context());
}

void subscribe(journal_ptr self, subscriber_actor sub, seq_no from) {
  catch_up(self, sub, from);
  self->monitor(sub);
  if (auto& mem = self->state.settings.memory) {
    std::lock_guard<std::mutex> guard{mem->mtx};
    mem->subscribers.push_back(caf::actor_cast<caf::weak_actor_ptr>(sub));
  }
  self->state.subscribers.push_back(std::move(sub));
}

void unsubscribe(journal_ptr self, const caf::actor_addr& who) {
  if (auto& mem = self->state.settings.memory) {
    std::lock_guard<std::mutex> guard{mem->mtx};
    auto& subs = mem->subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::weak_actor_ptr& s) {
                                auto strong = s.lock();
                                return !strong || strong->address() == who;
                              }),
               subs.end());
  }
  auto& subs = self->state.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const subscriber_actor& s) { return s.address() == who; }),
             subs.end());
}

void take_over_memory(journal_ptr self) {
  auto& mem = self->state.settings.memory;
  if (!mem)
    return;
  std::lock_guard<std::mutex> guard{mem->mtx};
  self->state.writable = mem->writable;
  // A restarted leader's journal keeps holding acknowledgements for the followers (what
  // the dead one held was answered UNAVAILABLE).
  self->state.hold = mem->hold;
  self->state.fence = mem->fence;
  if (auto strong = mem->replicator.lock())
    self->state.replicator = caf::actor_cast<caf::actor>(std::move(strong));
  for (auto& weak : mem->subscribers)
    if (auto strong = weak.lock()) {
      auto sub = caf::actor_cast<subscriber_actor>(std::move(strong));
      self->monitor(sub);
      self->state.subscribers.push_back(std::move(sub));
    }
}

} // namespace bulwark::journal_detail
