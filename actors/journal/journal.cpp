#include "actors/journal/journal.hpp"
#include "actors/journal/journal_snapshots.hpp"
#include "actors/journal/journal_subscribers.hpp"
#include "supervision/mailbox_gauge.hpp"

#include <cstring>
#include <mutex>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/blocking_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_response_promise.hpp"
#include "caf/mailbox_element.hpp"

#include "messages/cluster.hpp"
#include "messages/events.hpp"
#include "messages/state.hpp"
#include "persistence/record.hpp"
#include "persistence/replay.hpp"

namespace bulwark {

using journal_detail::journal_ptr;
using journal_detail::publish;
using journal_detail::subscribe;
using journal_detail::take_over_memory;
using journal_detail::unsubscribe;
using journal_detail::count_applied;
using journal_detail::maybe_snapshot;
using journal_detail::on_encoder_down;
using journal_detail::store_encoded_snapshot;

namespace {

constexpr uint32_t max_read = 10000;

/// Registers the current request as waiting for `count` events of the next transaction
/// and schedules the commit.
void admit(journal_ptr self, size_t count) {
  auto& st = self->state;
  pending_append w;
  w.count = count;
  w.arrived = self->clock().now();
  // The answer is sent by hand (what a response promise would send, without its
  // per-request cost), and for a held acknowledgement from the cluster actor's thread.
  if (auto* el = self->current_mailbox_element())
    w.to = reply_to{el->sender, el->mid, std::move(el->stages)};
  st.waiting.push_back(std::move(w));
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, atom::commit_v);
  }
}

/// Never two writers: a follower's journal holds the leader's records only.
caf::error follower_refusal() {
  return refuse(ec::unavailable,
                "this node is a follower: its journal takes the leader's records only", {},
                caf::timespan{std::chrono::seconds{1}});
}

/// Whether the leader's lease may have lapsed (a fence is set and its instant passed).
bool past_fence(journal_ptr self) {
  auto fence = self->state.fence;
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  return fence != 0 && std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() >= fence;
}

/// Never a write past the lease: another node may lead by now.
caf::error fence_refusal() {
  return refuse(ec::unavailable,
                "this node's lease as leader may have lapsed: it writes nothing until it "
                "holds the lease again",
                {}, caf::timespan{std::chrono::seconds{1}});
}

/// Queues one event for the next transaction; the answer comes after its commit.
caf::result<appended> enqueue(journal_ptr self, event&& ev) {
  if (!self->state.writable)
    return follower_refusal();
  if (past_fence(self)) {
    ++self->state.fenced;
    return fence_refusal();
  }
  // A record the projection could not apply never reaches the journal (PV-001).
  if (auto err = check_payload(ev))
    return err;
  self->state.batch.push_back(std::move(ev));
  admit(self, 1);
  return caf::delegated<appended>{};
}

/// Queues `events` for the next transaction, all or none.
caf::result<appended> enqueue(journal_ptr self, std::vector<event>&& events) {
  if (!self->state.writable)
    return follower_refusal();
  if (past_fence(self)) {
    ++self->state.fenced;
    return fence_refusal();
  }
  for (auto& ev : events)
    if (auto err = check_payload(ev))
      return err;
  for (auto& ev : events)
    self->state.batch.push_back(std::move(ev));
  admit(self, events.size());
  return caf::delegated<appended>{};
}

/// Answers one waiting append with `msg` (an `appended` or an error).
void answer(journal_ptr self, pending_append& w, caf::message msg) {
  answer_append(w, std::move(msg), self->ctrl(), self->context());
}


/// Feeds the meter: one latency (arrival to acknowledgement) per answered append.
void record_latencies(journal_ptr self, const std::vector<pending_append>& answered,
                      size_t events) {
  auto& st = self->state;
  record_answered(st.settings.meter.get(), self->clock().now(), answered, events,
                  st.latencies);
}

/// Computes each waiting append's answer from the committed entries, in order.
void compute_replies(journal_ptr self, const std::vector<pending_append>& waiting,
                     const std::vector<journal_entry>& entries) {
  auto& replies = self->state.replies;
  replies.clear();
  size_t pos = 0;
  for (auto& w : waiting) {
    if (w.count == 0) {
      auto& head = entries.back();
      replies.push_back(appended{seq_no{head.seq.value + 1}, head.seq, head.chain});
      continue;
    }
    auto& first = entries[pos];
    auto& last = entries[pos + w.count - 1];
    replies.push_back(appended{first.seq, last.seq, last.chain});
    pos += w.count;
  }
}

/// Sets whether local appends are allowed. Turned off, nothing is held for followers any
/// more: the held acknowledgements are answered UNAVAILABLE (`why` they were not
/// confirmed) and the cluster actor hears of no more commits.
void set_writable(journal_ptr self, bool on, const char* why = "") {
  auto& st = self->state;
  if (!on) {
    st.settings.acks->fail(unconfirmed(why));
    st.hold = false;
    st.replicator = nullptr;
  }
  st.writable = on;
  if (auto& mem = st.settings.memory) {
    std::lock_guard<std::mutex> guard{mem->mtx};
    mem->writable = on;
    if (!on) {
      mem->hold = false;
      mem->replicator = nullptr;
    }
  }
}

/// A commit failed after its records went to the followers: they may hold records at
/// seqs this journal would fill with others, so it stops writing (fail closed); the
/// cluster actor sees the withdrawal and steps down.
void stop_after_shipped(journal_ptr self, seq_no first) {
  spdlog::error("journal: the records from seq {} were handed to the followers before their "
                "commit failed: this node stops writing (a follower may hold them)",
                first.value);
  self->state.settings.tail->withdraw(first);
  set_writable(self, false, "this node's commit failed");
}

/// Commits every queued append in one transaction and answers its requesters.
void commit_now(journal_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  st.deferrals = 0;
  if (st.waiting.empty()) {
    store_encoded_snapshot(self); // an encoder's nudge
    return;
  }
  auto waiting = std::move(st.waiting);
  auto batch = std::move(st.batch);
  st.waiting.clear();
  st.batch.clear();
  if (past_fence(self)) {
    // Checked where the write lands: queued before the lease lapsed, still not written.
    st.fenced += waiting.size();
    spdlog::warn("journal: {} appends refused: the lease as leader may have lapsed",
                 waiting.size());
    auto msg = caf::make_message(fence_refusal());
    for (auto& w : waiting)
      answer(self, w, msg);
    return;
  }
  // A leader hands the encoded records to its cluster actor before the commit, so the
  // followers write them while this node's fsync runs (replica_tail.hpp).
  seq_no first{st.store->head().value + 1};
  bool shipped = false;
  journal_store::encoded_fn ship;
  if (st.replicator)
    ship = [&](std::vector<std::vector<uint8_t>>&& records) {
      shipped = true;
      seq_no last{first.value + records.size() - 1};
      st.settings.tail->add(first, std::move(records));
      caf::anon_send(st.replicator, atom::committed_v, last);
    };
  auto result = st.store->append(std::move(batch), ship);
  if (!result) {
    spdlog::error("journal: commit of {} appends failed: {}", waiting.size(),
                  describe(result.error()).message);
    auto msg = caf::make_message(result.error());
    for (auto& w : waiting)
      answer(self, w, msg);
    if (shipped)
      stop_after_shipped(self, first);
    return;
  }
  ++st.commits;
  auto& entries = *result;
  st.view->apply(entries, [](const journal_entry& e, const caf::error& err) {
    spdlog::error("journal: projection refused seq {}: {}", e.seq.value, describe(err).message);
  });
  auto events = entries.size();
  auto last = entries.back().seq;
  count_applied(self, entries);
  compute_replies(self, waiting, entries);
  // Subscribers hear of the entries before requesters hear back, so an actor that is
  // both sees its own projection updated when its append is acknowledged.
  publish(self, std::move(entries));
  if (st.hold) {
    // Released by the cluster actor once enough followers confirm (or at once when the
    // watermark already covers it).
    st.settings.acks->hold(held_commit{last, std::move(waiting), st.replies, events},
                           self->clock().now());
  } else {
    for (size_t i = 0; i < waiting.size(); ++i)
      answer(self, waiting[i], caf::make_message(st.replies[i]));
    record_latencies(self, waiting, events);
  }
  maybe_snapshot(self);
}

/// The scheduled commit: while messages are queued behind it (appends, mostly), it yields
/// to them a bounded number of times, so one transaction takes what two would have; the
/// bound keeps a steady stream of messages from starving the commit.
void commit(journal_ptr self) {
  auto& st = self->state;
  if (!st.waiting.empty() && st.deferrals < journal_state::max_commit_deferrals
      && !self->mailbox().empty()) {
    ++st.deferrals;
    self->send(self, atom::commit_v);
    return;
  }
  commit_now(self);
}

/// Appends a leader's records that link to the local chain; applies and publishes them.
caf::result<appended> import_batch(journal_ptr self, const replica_batch& batch) {
  auto& st = self->state;
  if (st.writable)
    return refuse(ec::unavailable, "this node writes its own journal: it imports nothing");
  auto head = st.store->head();
  if (batch.records.empty())
    return appended{seq_no{head.value + 1}, head, st.store->head_chain()};
  if (batch.from.value != head.value + 1)
    return refuse(ec::integrity_violation,
                  "replica batch starts at seq " + std::to_string(batch.from.value)
                    + ", the local head is " + std::to_string(head.value));
  if (auto err = st.store->import_records(batch.records))
    return err;
  // Durable: the answer goes out before the records are applied and published, so the
  // follower's next pull (which confirms them to a leader holding acknowledgements for
  // them) does not wait for this node's projection.
  auto rp = self->make_response_promise<appended>();
  rp.deliver(appended{batch.from, st.store->head(), st.store->head_chain()});
  // Decoded from the batch itself (import_records checked every record), not read back.
  std::vector<journal_entry> entries(batch.records.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    auto& e = entries[i];
    auto& r = batch.records[i];
    e.seq = seq_no{batch.from.value + i};
    std::memcpy(e.chain.bytes.data(), r.data(), chain_size);
    if (auto derr = decode_record(e.seq, r.data() + chain_size, r.size() - chain_size, e.ev)) {
      spdlog::error("journal: imported seq {} could not be decoded to apply: {}", e.seq.value,
                    describe(derr).message);
      entries.resize(i);
      break;
    }
  }
  st.view->apply(entries, [](const journal_entry& e, const caf::error& err) {
    spdlog::error("journal: projection refused imported seq {}: {}", e.seq.value,
                  describe(err).message);
  });
  count_applied(self, entries);
  publish(self, std::move(entries));
  maybe_snapshot(self);
  return rp;
}

} // namespace

journal_state::~journal_state() {
  auto err = refuse(ec::audit_unavailable,
                    "the journal stopped before this append was committed (nothing of it is "
                    "in the journal)");
  auto msg = caf::make_message(err);
  for (auto& w : waiting)
    answer_append(w, msg);
  if (settings.acks)
    settings.acks->fail(unconfirmed("the journal stopped"));
}

journal_actor::behavior_type journal(journal_actor::stateful_pointer<journal_state> self,
                                     std::shared_ptr<journal_store> store, projection proj,
                                     journal_settings settings) {
  auto& st = self->state;
  st.store = std::move(store);
  st.settings = settings;
  if (!st.settings.view)
    st.settings.view = std::make_shared<committed_view>();
  st.view = st.settings.view;
  st.view->reset(std::move(proj));
  if (!st.settings.acks)
    st.settings.acks = std::make_shared<held_acks>(st.settings.meter);
  if (!st.settings.tail)
    st.settings.tail = std::make_shared<replica_tail>();
  st.last_snapshot = st.view->owned().state().seq;
  take_over_memory(self);
  self->set_down_handler([self](const caf::down_msg& msg) {
    if (on_encoder_down(self, msg))
      return;
    unsubscribe(self, msg.source);
  });
  auto gauge = self->state.settings.mailbox; // BACKLOG: sampled where appends arrive
  return {
    [self, gauge](atom::append, event& ev) -> caf::result<appended> {
      if (gauge)
        gauge->sample(self);
      return enqueue(self, std::move(ev));
    },
    [self, gauge](atom::append, std::vector<event>& events) -> caf::result<appended> {
      if (gauge)
        gauge->sample(self);
      return enqueue(self, std::move(events));
    },
    [self](atom::head) -> caf::result<seq_no, digest> {
      return {self->state.store->head(), self->state.store->head_chain()};
    },
    [self](atom::read, seq_no from, seq_no to,
           uint32_t limit) -> caf::result<std::vector<journal_entry>> {
      std::vector<journal_entry> out;
      limit = std::min(limit, max_read);
      auto err = self->state.store->read(from, to, [&](journal_entry&& e) {
        out.push_back(std::move(e));
        return out.size() < limit;
      });
      if (err)
        return err;
      return out;
    },
    [self](atom::verify) -> caf::result<verify_report> {
      return self->state.store->verify(seq_no{1}, seq_no{UINT64_MAX}, 2);
    },
    [self](atom::state) -> caf::result<fleet_state> {
      return self->state.view->owned().state();
    },
    [self](atom::subscribe, subscriber_actor& sub, seq_no from) {
      subscribe(self, std::move(sub), from);
    },
    [self](atom::commit) { commit(self); },
    [self](atom::import, const replica_batch& batch) -> caf::result<appended> {
      return import_batch(self, batch);
    },
    [self](atom::writable, bool on) -> bool {
      if (!on) {
        commit_now(self); // appends accepted so far land before any import
        self->state.settings.tail->clear();
      }
      set_writable(self, on, "this node stopped leading");
      return on;
    },
    [self](atom::fence, int64_t at) {
      auto& st = self->state;
      st.fence = at;
      if (auto& mem = st.settings.memory) {
        std::lock_guard<std::mutex> guard{mem->mtx};
        mem->fence = at;
      }
    },
    [self](atom::replicate, bool hold) {
      auto& st = self->state;
      st.hold = hold;
      st.replicator = caf::actor_cast<caf::actor>(self->current_sender());
      st.settings.tail->clear(); // a new leadership: nothing from before is served
      if (hold)
        st.settings.acks->start(); // a new leadership: confirmed anew
      else // acknowledgements no longer wait: the held go out
        st.settings.acks->release_all(self->clock().now());
      if (auto& mem = st.settings.memory) {
        std::lock_guard<std::mutex> guard{mem->mtx};
        mem->hold = hold;
        mem->replicator = caf::actor_cast<caf::weak_actor_ptr>(st.replicator);
      }
    },
    [self](atom::replicated, seq_no upto) {
      self->state.settings.acks->release(upto, self->clock().now());
    },
  };
}

} // namespace bulwark

namespace bulwark {

caf::expected<journal_actor> spawn_journal(caf::actor_system& sys,
                                           std::shared_ptr<journal_store> store,
                                           journal_settings settings, bool attached) {
  auto rebuilt = replay(*store);
  if (!rebuilt)
    return rebuilt.error();
  if (attached) {
    settings.background_snapshots = false;
    return sys.spawn(journal, std::move(store), std::move(rebuilt->proj), settings);
  }
  return sys.spawn<caf::detached>(journal, std::move(store), std::move(rebuilt->proj),
                                  settings);
}

} // namespace bulwark
