// Routing of mutating operator commands (halt, grant, breaker overrides, dead letters,
// promotions, rollbacks, approvals, registrations): run by the local command actor while
// this node writes, else forwarded once to the leader with the caller kept, else refused.

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/cluster/cluster_links.hpp"
#include "messages/error.hpp"

namespace bulwark::cluster_detail {

namespace {

constexpr auto retry = caf::timespan{std::chrono::seconds{1}};

/// How long a forwarded command may take: a requeue waits for its proposal (until its
/// deadline); anything else gets a minute (rollbacks run compensations).
caf::timespan forward_timeout(self_ptr self, const operator_command& cmd) {
  auto floor = caf::timespan{std::chrono::seconds{60}};
  if (cmd.kind != command_kind::requeue)
    return floor;
  auto left = cmd.deadline - node_now(self) + std::chrono::seconds{5};
  return std::max(floor, caf::timespan{left});
}

/// Refuses the command when no node can run it now; none when it can run here or there.
caf::error refusal_of(self_ptr self, const operator_command& cmd) {
  auto& st = self->state;
  auto& me = st.deps.cfg.node_id;
  if (cmd.hops > 0 && st.peers.count(cmd.origin) == 0)
    return refuse(ec::invalid_input, "command forwarded from unknown node id \"" + cmd.origin
                                       + "\"");
  if (writable_now(self)
      || (st.leader && cmd.kind == command_kind::enroll
          && followers_in_step(self) >= st.deps.cfg.sync_followers))
    // Registrations are not held back by min_followers: a node registers its fleet at
    // start, before any follower is connected (as before commands were routed). With
    // sync_followers they are: their acknowledgement waits for those followers (`bulwark
    // node --fleet` registers the rest once they are in step).
    return st.deps.commands ? caf::error{}
                            : refuse(ec::unavailable, me + " runs no command actor", {}, retry);
  if (st.leader)
    return short_of_followers(self);
  if (cmd.hops > 0) // a stale view of who leads must not bounce commands between nodes
    return refuse(ec::unavailable, me + " is not the leader (" + st.deps.cfg.leader
                                     + " is); a forwarded command is not forwarded again",
                  {}, retry);
  auto i = st.peers.find(st.deps.cfg.leader);
  if (i == st.peers.end() || !i->second.connected || st.stopped)
    return refuse(ec::unavailable, "follower " + me + " cannot reach the leader "
                                     + st.deps.cfg.leader, {}, retry);
  return {};
}

caf::result<operator_answer> forward(self_ptr self, operator_command& cmd) {
  auto& st = self->state;
  auto leader = st.peers.at(st.deps.cfg.leader).handle;
  if (cmd.origin.empty())
    cmd.origin = st.deps.cfg.node_id;
  ++cmd.hops;
  spdlog::info("cluster: forwarding {} of {} to the leader {}", to_string(cmd.kind),
               cmd.by.value, st.deps.cfg.leader);
  auto timeout = forward_timeout(self, cmd);
  return forward_to_leader<operator_answer>(self, leader, timeout, atom::command_v,
                                            std::move(cmd));
}

} // namespace

caf::result<operator_answer> route_command(self_ptr self, operator_command& cmd) {
  if (auto err = refusal_of(self, cmd)) {
    spdlog::warn("cluster: refused {} of {}: {}", to_string(cmd.kind), cmd.by.value,
                 describe(err).message);
    return err;
  }
  if (self->state.leader) {
    if (cmd.origin.empty())
      cmd.origin = self->state.deps.cfg.node_id;
    return self->delegate(self->state.deps.commands, atom::command_v, std::move(cmd));
  }
  return forward(self, cmd);
}

void fail_forwarded(self_ptr self, const std::string& why) {
  auto waiting = std::exchange(*self->state.forwarded, {});
  for (auto& [n, fail] : waiting)
    fail(refuse(ec::unavailable, why + ": the command may have run; check before repeating",
                {}, retry));
}

caf::error leader_error(self_ptr self, caf::error err) {
  if (err.category() == caf::atom(error_category))
    return err;
  return refuse(ec::unavailable, "the leader " + self->state.deps.cfg.leader
                                   + " did not answer (" + describe(err).message
                                   + "); the command may have run: check before repeating",
                {}, retry);
}

} // namespace bulwark::cluster_detail
