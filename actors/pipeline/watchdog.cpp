// The pipeline's watchdog: the deadlines of the answers it awaits from the authority,
// blast radius and the breakers, on one timer.
//
// A timed request costs CAF 0.17's clock thread two events (the timeout is set when the
// request goes out and cancelled when its answer comes), each pushed through a locked
// ring buffer that wakes that thread. Three per proposal made the clock thread a hot
// spot on two cores. Here the requests are untimed; each awaited answer is kept by the
// time it is given up, and one delayed message to self runs for the earliest: with equal
// timeouts a new entry is never the earliest, so the timer is set about once per timeout
// span, not per request. An answer that comes after it was given up finds its token gone
// and changes nothing: the flight failed closed when its time ran out.

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/pipeline_impl.hpp"

namespace bulwark::pipeline_detail {

namespace {

/// Arms the timer for the earliest watched answer unless an earlier one is set.
void arm(self_ptr self, caf::actor_clock::time_point now) {
  auto& st = self->state;
  if (st.watched.empty() || st.watched.begin()->first >= st.armed)
    return;
  st.armed = st.watched.begin()->first;
  auto after = st.armed > now ? st.armed - now : caf::timespan{0};
  self->delayed_send(self, after, atom::deadline_v, digest{}, uint64_t{0});
}

} // namespace

void watch(self_ptr self, in_flight& f, uint64_t token, awaiting who, caf::timespan after) {
  auto& st = self->state;
  auto now = self->clock().now();
  f.watched = token;
  f.waits = who;
  f.watched_until = now + after;
  st.watched.emplace(f.watched_until, std::make_pair(f.m.id, token));
  arm(self, now);
}

bool unwatch(self_ptr self, in_flight& f, uint64_t token) {
  if (token == 0 || f.watched != token)
    return false;
  auto& st = self->state;
  auto [from, to] = st.watched.equal_range(f.watched_until);
  for (auto i = from; i != to; ++i)
    if (i->second.first == f.m.id && i->second.second == token) {
      st.watched.erase(i);
      break;
    }
  f.watched = 0;
  f.waits = awaiting::none;
  return true;
}

void sweep(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.armed <= now) // this is the armed timer (an earlier one fired before it)
    st.armed = caf::actor_clock::time_point::max();
  while (!st.watched.empty() && st.watched.begin()->first <= now) {
    auto [id, token] = st.watched.begin()->second;
    st.watched.erase(st.watched.begin());
    auto i = st.flights.find(id);
    if (i == st.flights.end() || i->second.watched != token)
      continue; // answered or gone meanwhile
    auto who = i->second.waits;
    i->second.watched = 0;
    i->second.waits = awaiting::none;
    given_up(self, id, token, who);
  }
  arm(self, now);
}

} // namespace bulwark::pipeline_detail
