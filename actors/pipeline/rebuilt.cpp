// The flights a restart interrupted, rebuilt from the journal when the pipeline starts
// (after a restart of the pipeline or of the process): each goes back into the flight
// machine where the journal says it was (actors/flight/flight_recovery.hpp).

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/pipeline_impl.hpp"
#include "actors/pipeline/recovery.hpp"

namespace bulwark::pipeline_detail {

void rebuild_flights(self_ptr self, journal_store& store, const fleet_state& at) {
  auto& st = self->state;
  auto found = journaled_flights(store, at);
  if (!found) {
    spdlog::error("pipeline: cannot read the unfinished flights from the journal: {}",
                  describe(found.error()).message);
    return;
  }
  for (auto& j : *found) {
    if (family_of(j.decision.level) != st.family)
      continue; // another family's
    auto r = flight::recovery_of(j, st.machine);
    if (!r)
      continue;
    auto id = j.decision.proposal;
    if (st.flights.count(id) != 0)
      continue;
    trace_id trace{0};
    for (int i = 0; i < 8; ++i)
      trace.value = (trace.value << 8) | id.bytes[i];
    in_flight f;
    f.m = flight::start(flight::proposal_of(j.decision), id, trace);
    f.key = j.decision.principal.value + "/" + j.decision.idempotency_key;
    if (!j.decision.idempotency_key.empty())
      st.registry->claim(f.key, id);
    st.registry->running(id, st.family);
    st.flights.emplace(id, std::move(f));
    auto refused = drive(self, id, [&](auto& m, auto& cx, auto& out) {
      return flight::recovered(m, *r, cx, out);
    });
    if (refused) { // cannot happen for what recovery_of returns: say so, keep nothing
      spdlog::error("pipeline: flight {} not rebuilt: {}", to_hex(id), refused.message);
      drop(self, id, refuse(refused.code, refused.message, trace));
      continue;
    }
    auto i = st.flights.find(id);
    if (i == st.flights.end())
      continue;
    if (i->second.m.at == flight::phase::awaiting_approval)
      st.rebuilt.insert(id);
    spdlog::info("pipeline: flight {} (level {}) rebuilt from the journal: {}", to_hex(id),
                 static_cast<int>(j.decision.level), flight::to_string(i->second.m.at));
  }
}

void settle_rebuilt(self_ptr self, const journal_entry& e) {
  auto& st = self->state;
  if (e.ev.type != event_type::proposal_finished && e.ev.type != event_type::action_started)
    return;
  auto id = proposal_named(e.ev);
  if (!id || st.rebuilt.erase(*id) == 0)
    return;
  auto i = st.flights.find(*id);
  if (i == st.flights.end() || i->second.m.at != flight::phase::awaiting_approval)
    return;
  spdlog::warn("pipeline: rebuilt flight {} was settled by a commit of the pipeline before "
               "its restart (seq {}): the journal holds it",
               to_hex(*id), e.seq.value);
  drop(self, *id, refuse(ec::unavailable,
                         "the pipeline before the restart journaled this proposal's "
                         "outcome or start: see the journal (and in-doubt)",
                         i->second.m.trace));
}

} // namespace bulwark::pipeline_detail
