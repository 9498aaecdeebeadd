// The leader's side of replication: serving pulls (at the head they wait for the next
// commit), what each follower confirms it holds, and the watermark of synchronous
// replication that releases the journal's acknowledgements.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/cluster/cluster_links.hpp"
#include "actors/journal/held_acks.hpp"
#include "actors/journal/replica_tail.hpp"
#include "messages/error.hpp"

namespace bulwark::cluster_detail {

namespace {

/// How long a pull at the head waits for a commit before it is answered empty: well
/// inside the request timeout, so a follower in step pulls again long before it would
/// stop counting.
constexpr auto pull_wait = std::chrono::seconds{1};

/// The newest record a follower may take: the store's head, or past it the records of
/// the transaction being committed (replica_tail.hpp).
seq_no served_head(self_ptr self) {
  auto& st = self->state;
  auto head = st.deps.store->head();
  if (st.deps.tail)
    head.value = std::max(head.value, st.deps.tail->head().value);
  return head;
}

/// Reads up to `max` records from `from`: from the journal's tail in memory when it holds
/// them, else from the store.
caf::expected<replica_batch> read_batch(self_ptr self, seq_no from, uint32_t max) {
  auto& st = self->state;
  replica_batch batch;
  batch.from = from;
  batch.term = st.term;
  batch.leader_head = served_head(self);
  if (from.value > batch.leader_head.value)
    return batch;
  max = std::min(max, st.deps.cfg.max_batch);
  if (st.deps.tail
      && st.deps.tail->read(from, max, st.deps.cfg.max_batch_bytes, batch.records))
    return batch;
  // Older than the tail: from the store, up to its own head (the records past it are the
  // transaction being committed, in the tail only; the next pull takes them).
  auto stored = st.deps.store->head();
  if (from.value > stored.value)
    return batch;
  uint64_t bytes = 0;
  auto err = st.deps.store->scan(
    from, stored, [&](seq_no, const uint8_t* chain, const uint8_t* data, size_t size) {
      std::vector<uint8_t> value(chain, chain + 32);
      value.insert(value.end(), data, data + size);
      bytes += value.size();
      batch.records.push_back(std::move(value));
      return batch.records.size() < max && bytes < st.deps.cfg.max_batch_bytes;
    });
  if (err)
    return err;
  return batch;
}

/// A pull refused: this node does not lead (any more).
caf::error not_leader(self_ptr self) {
  auto& cfg = self->state.deps.cfg;
  return refuse(ec::unavailable, cfg.node_id + " is not the leader (" + cfg.leader + " is)");
}

/// Answers a waiting pull with what the journal holds from its `from` now.
void answer_now(self_ptr self, parked_pull& pp) {
  auto batch = read_batch(self, pp.from, pp.max);
  if (batch)
    pp.rp.deliver(std::move(*batch));
  else
    pp.rp.deliver(std::move(batch.error()));
}

/// Records what a pull shows the follower holds durably: its head `from - 1`, counted
/// only when its chain there is this node's (a diverged journal confirms nothing).
void confirm(self_ptr self, peer_slot& p, seq_no from, const digest& chain) {
  auto& st = self->state;
  seq_no held{from.value - 1};
  if (held.value == 0) {
    p.confirmed = held;
    return;
  }
  bool ours = false;
  if (auto in_tail = st.deps.tail ? st.deps.tail->chain_at(held) : caf::none)
    ours = *in_tail == chain;
  else if (held.value <= st.deps.store->head().value)
    if (auto at = st.deps.store->chain_at(held))
      ours = *at == chain;
  p.confirmed = ours ? held : seq_no{};
}

} // namespace

caf::result<replica_batch> serve_pull(self_ptr self, const std::string& node, seq_no from,
                                      const digest& chain, uint32_t max) {
  auto& st = self->state;
  if (!st.leader)
    return not_leader(self);
  auto i = st.peers.find(node);
  if (i == st.peers.end())
    return refuse(ec::invalid_input, "pull from unknown node id \"" + node + "\"");
  if (from.value == 0)
    return refuse(ec::invalid_input, "pull from seq 0");
  auto& p = i->second;
  p.head = seq_no{from.value - 1};
  p.pulled = self->clock().now();
  if (st.deps.window && !st.deps.window->open(p.pulled))
    publish_window(self); // a follower in step again may open it
  confirm(self, p, from, chain);
  advance_watermark(self);
  if (from.value > served_head(self).value) {
    // At the head: the answer waits for the next commit (on_committed), so a follower in
    // step holds each commit one round trip after it, without polling.
    auto rp = self->make_response_promise<replica_batch>();
    st.parked.push_back(parked_pull{node, from, max, rp, self->clock().now()});
    return rp;
  }
  auto batch = read_batch(self, from, max);
  if (!batch)
    return batch.error();
  return std::move(*batch);
}

void on_committed(self_ptr self, seq_no head) {
  auto& st = self->state;
  if (st.parked.empty())
    return;
  auto parked = std::move(st.parked);
  st.parked.clear();
  for (auto& pp : parked) {
    if (pp.from.value > head.value) {
      st.parked.push_back(std::move(pp));
      continue;
    }
    answer_now(self, pp);
  }
}

void answer_parked(self_ptr self, bool all) {
  auto& st = self->state;
  if (st.parked.empty())
    return;
  auto now = self->clock().now();
  auto parked = std::move(st.parked);
  st.parked.clear();
  for (auto& pp : parked) {
    if (!all && now - pp.since < pull_wait) {
      st.parked.push_back(std::move(pp));
      continue;
    }
    if (!st.leader) {
      pp.rp.deliver(not_leader(self));
      continue;
    }
    answer_now(self, pp);
  }
}

void advance_watermark(self_ptr self) {
  auto& st = self->state;
  auto k = st.deps.cfg.sync_followers;
  if (!st.leader || k == 0)
    return;
  std::vector<uint64_t> held;
  for (auto& [id, p] : st.peers)
    held.push_back(p.confirmed.value);
  if (held.size() < k)
    return;
  // The k-th largest confirmed head: k followers hold every record up to it.
  std::nth_element(held.begin(), held.begin() + (k - 1), held.end(), std::greater<>{});
  seq_no upto{held[k - 1]};
  if (upto.value <= st.replicated.value)
    return;
  st.replicated = upto;
  st.confirmed_at = self->clock().now();
  if (st.deps.acks)
    st.deps.acks->release(upto, st.confirmed_at);
  else
    self->send(st.deps.journal, atom::replicated_v, upto);
}

void start_replicating(self_ptr self) {
  auto& st = self->state;
  st.replicated = seq_no{};
  st.confirmed_at = self->clock().now();
  for (auto& [id, p] : st.peers)
    p.confirmed = seq_no{}; // confirmed anew by their pulls under this leadership
  self->send(st.deps.journal, atom::replicate_v, st.deps.cfg.sync_followers > 0);
}

} // namespace bulwark::cluster_detail
