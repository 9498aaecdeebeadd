// The console access trail of a clustered node: a follower's journal refuses local
// writes, so its console's `console_access` events travel to the leader, which journals
// them with the follower's node id before each remote address; kept in order (bounded)
// while the leader is unreachable. The leader queues its own the same way, so a node
// that changes role keeps its trail. `promote` waits for what a follower sent to come
// back through replication, so the old leader never writes past the new one's head.

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/cluster/cluster_links.hpp"
#include "messages/error.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::cluster_detail {

namespace {

constexpr size_t max_queued = 10000; ///< access events kept for the journal at most
constexpr size_t max_batch = 256;    ///< access events per message, either way
constexpr size_t max_principal = 256; ///< field sizes a console writes at most (or less)
constexpr size_t max_command = 64;
constexpr size_t max_remote = 128;
constexpr size_t max_detail = 256;

/// Takes the oldest queued events (at most `max_batch`) and marks them in flight.
std::vector<event> take_batch(cluster_state& st) {
  auto n = std::min(st.access.size(), max_batch);
  st.access_in_flight = n;
  return {st.access.begin(), st.access.begin() + static_cast<std::ptrdiff_t>(n)};
}

/// The batch in flight arrived: drops it from the queue and sends the next.
void delivered(self_ptr self) {
  auto& st = self->state;
  st.access.erase(st.access.begin(),
                  st.access.begin() + static_cast<std::ptrdiff_t>(st.access_in_flight));
  st.access_in_flight = 0;
  flush_access(self);
}

/// The batch in flight did not arrive: it stays first in the queue for the next tick.
void undelivered(self_ptr self, const char* where, const caf::error& err) {
  self->state.access_in_flight = 0;
  spdlog::warn("cluster: console access records not journaled by {} (kept, {} queued; will "
               "retry): {}", where, self->state.access.size(), describe(err).message);
}

/// Refuses a follower's access event that is not one or that a console could not write.
caf::error check_peer_event(const event& ev, console_access& x) {
  if (ev.type != event_type::console_access)
    return refuse(ec::invalid_input, std::string{"access batch holds a "} + to_string(ev.type)
                                       + " event");
  if (auto err = payload_of(ev, x))
    return err;
  if (x.principal.value.size() > max_principal || x.command.size() > max_command
      || x.remote.size() > max_remote || x.detail.size() > max_detail)
    return refuse(ec::invalid_input, "access record with a field over its size limit");
  return {};
}

} // namespace

void record_access(self_ptr self, event ev) {
  auto& st = self->state;
  if (st.access.size() >= max_queued) {
    if (st.access_dropped++ % 1000 == 0)
      spdlog::error("cluster: {} console access records wait for the journal; dropping new "
                    "ones ({} dropped so far)", st.access.size(), st.access_dropped);
    return;
  }
  st.access.push_back(std::move(ev));
  if (st.leader) // a follower sends on its tick: a batch, and none racing a cluster-promote
    flush_access(self);
}

void flush_access(self_ptr self) {
  auto& st = self->state;
  if (st.access_in_flight > 0 || st.access.empty())
    return;
  if (st.leader) {
    self->request(st.deps.journal, caf::infinite, atom::append_v, take_batch(st))
      .then([self](appended&) { delivered(self); },
            [self](caf::error& err) { undelivered(self, "the local journal", err); });
    return;
  }
  auto i = st.peers.find(st.deps.cfg.leader);
  if (i == st.peers.end() || !i->second.connected)
    return; // kept until the leader is back
  self->request(i->second.handle, st.deps.cfg.request_timeout, atom::access_v,
                st.deps.cfg.node_id, take_batch(st))
    .then(
      [self](seq_no last) {
        auto& acked = self->state.access_acked;
        acked = std::max(acked, last);
        delivered(self);
      },
          [self](caf::error& err) { undelivered(self, "the leader", err); });
}

caf::result<seq_no> journal_peer_access(self_ptr self, const std::string& node,
                                        std::vector<event>& events) {
  auto& st = self->state;
  if (!st.leader)
    return refuse(ec::unavailable, st.deps.cfg.node_id + " is not the leader ("
                                     + st.deps.cfg.leader + " is)", {},
                  caf::timespan{std::chrono::seconds{1}});
  if (st.peers.count(node) == 0)
    return refuse(ec::invalid_input, "access records from unknown node id \"" + node + "\"");
  if (events.empty() || events.size() > max_batch)
    return refuse(ec::invalid_input, "access batch of " + std::to_string(events.size())
                                       + " records (1 to " + std::to_string(max_batch) + ")");
  std::vector<event> out;
  out.reserve(events.size());
  auto now = caf::make_timestamp();
  for (auto& ev : events) {
    console_access x;
    if (auto err = check_peer_event(ev, x)) {
      spdlog::warn("cluster: refused access records from {}: {}", node, describe(err).message);
      return err;
    }
    x.remote = node + " " + x.remote;
    // A follower's clock ahead of ours must not put future times into the journal.
    out.push_back(make_event(event_type::console_access, std::min(ev.at, now), x, ev.trace));
  }
  auto rp = self->make_response_promise<seq_no>();
  auto n = out.size();
  self->request(st.deps.journal, caf::infinite, atom::append_v, std::move(out))
    .then(
      [self, rp, n](appended& a) mutable {
        self->state.peer_access += n;
        rp.deliver(a.last);
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace bulwark::cluster_detail
