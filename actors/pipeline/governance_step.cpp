// The governance step of a proposal in flight: one request to the authority (which checks
// and reserves the scope in blast radius's window), the halt guard's pass, and what
// happens when the authority or blast radius does not answer in time (fail closed; a read
// goes on with blast radius alone).

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/blast_radius/blast_radius.hpp"
#include "actors/pipeline/pipeline_impl.hpp"

namespace bulwark {

using namespace pipeline_detail;

namespace {

void authority_down(self_ptr self, const digest& id, const std::string& why);

} // namespace

void pipeline_detail::given_up(self_ptr self, const digest& id, uint64_t token, awaiting who) {
  auto& st = self->state;
  auto ms = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                             st.settings.governance_timeout).count());
  switch (who) {
    case awaiting::authority:
      return authority_down(self, id, "no answer within " + ms + " ms");
    case awaiting::scope:
      return refuse_flight(self, id, refuse(ec::governance_failure,
                                            "blast radius unavailable: no answer within " + ms
                                              + " ms",
                                            st.flights.at(id).m.trace));
    case awaiting::effector:
      return on_effected(self, id, token,
                         effector_result{false, ec::timeout,
                                         "the effector was called and did not answer in time",
                                         caf::none});
    case awaiting::none:
      return;
  }
}

namespace {

/// Journals the allowed decision (write-ahead), then runs the flight.
void decide(self_ptr self, const halt_guard::pass& pass, const scope_verdict& sv) {
  auto& f = self->state.flights.at(pass.proposal());
  f.allowed_count = sv.allowed_count;
  launch(self, f, pass);
}

/// Whether flight `f` runs at its decision: levels 3 and 4, whose budget is reserved
/// now. Levels 1 and 2 are checked now and charged at their approval (operator_calls.cpp).
bool runs_at_decision(const in_flight& f) {
  return f.m.p.level >= authority_level::act;
}

/// The scope request of flight `f` (proposal `id`) on the committed fleet now; `reserve`:
/// its resources are reserved when it is allowed.
scope_request scope_now(self_ptr self, const in_flight& f, const digest& id, bool reserve) {
  auto fleet = fleet_of(self);
  return scope_of(f.m.p, id, fleet.state(), sizes_of(self, fleet), reserve);
}

/// Asks blast radius alone, for a read going on while the authority is down (the halt
/// guard gave its pass); its answer is watched for `governance_timeout` (watchdog.cpp).
void check_scope(self_ptr self, const halt_guard::pass& pass) {
  auto& st = self->state;
  auto id = pass.proposal();
  auto& f = st.flights.at(id);
  bool runs_now = runs_at_decision(f);
  auto req = scope_now(self, f, id, runs_now);
  auto token = st.next_token++;
  watch(self, f, token, awaiting::scope, st.settings.governance_timeout);
  self->request(st.blast, caf::infinite, atom::check_v, std::move(req))
    .then(
      [self, pass, token, runs_now](const scope_verdict& sv) {
        auto id = pass.proposal();
        auto i = self->state.flights.find(id);
        if (i == self->state.flights.end() || !unwatch(self, i->second, token)) {
          if (sv.allowed && runs_now) // given up: refused already, and its room goes
            release_reservation(self, id);
          return;
        }
        i->second.reserved = sv.allowed && runs_now;
        if (!sv.allowed)
          return refuse_flight(self, id, refuse(ec::blast_radius_exceeded, sv.reason,
                                                i->second.m.trace));
        decide(self, pass, sv);
      },
      [self, id, token](caf::error& err) {
        auto i = self->state.flights.find(id);
        if (i == self->state.flights.end() || !unwatch(self, i->second, token))
          return;
        refuse_flight(self, id, refuse(ec::governance_failure,
                                       "blast radius unavailable: " + describe(err).message,
                                       i->second.m.trace));
      });
}

/// What happens when the authority does not answer: mutations fail closed with
/// GOVERNANCE_FAILURE; a read (no mutations) goes on.
void authority_down(self_ptr self, const digest& id, const std::string& why) {
  auto& f = self->state.flights.at(id);
  auto pass = self->state.guard.governance_down(id, !f.m.p.mutations.empty(), why, f.m.trace);
  if (!pass)
    return refuse_flight(self, id, std::move(pass.error()));
  check_scope(self, *pass); // a read, going on without the authority
}

} // namespace

void pipeline_detail::check_authority(self_ptr self, const digest& id) {
  auto& st = self->state;
  auto authority = st.authority->get();
  if (!authority)
    return authority_down(self, id, "not running");
  auto& f = st.flights.at(id);
  bool runs_now = runs_at_decision(f);
  auto req = scope_now(self, f, id, runs_now);
  auto token = st.next_token++;
  watch(self, f, token, awaiting::authority, st.settings.governance_timeout);
  self->request(authority, caf::infinite, atom::check_v, std::move(req))
    .then(
      [self, id, token, runs_now](authority_verdict& av, scope_verdict& sv) {
        bool reserved = av.allowed && sv.allowed && runs_now;
        auto i = self->state.flights.find(id);
        if (i == self->state.flights.end() || !unwatch(self, i->second, token)) {
          if (reserved) // given up: it failed closed already, and its room goes
            release_reservation(self, id);
          return;
        }
        auto& f = i->second;
        auto pass = self->state.guard.admit(id, av, !f.m.p.mutations.empty(), f.m.trace);
        if (!pass) {
          if (reserved)
            release_reservation(self, id);
          return refuse_flight(self, id, std::move(pass.error()));
        }
        f.reserved = reserved;
        if (!sv.allowed)
          return refuse_flight(self, id, refuse(ec::blast_radius_exceeded, sv.reason, f.m.trace));
        decide(self, *pass, sv);
      },
      [self, id, token](caf::error& err) {
        auto i = self->state.flights.find(id);
        if (i == self->state.flights.end() || !unwatch(self, i->second, token))
          return;
        authority_down(self, id, describe(err).message);
      });
}

} // namespace bulwark
