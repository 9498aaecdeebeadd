// The rollbacks a restart of the executor (or of the process) interrupted, found in the
// journal when the executor starts: one that waited for its approval is rebuilt and waits
// again; the others are closed with a journaled terminal record and its reason, and an
// incident's asked for again (rollback.hpp).

#include <map>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/rollback/rollback.hpp"
#include "actors/rollback/rollback_runs.hpp"
#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/record.hpp"

namespace bulwark {

namespace {

template <class Payload>
caf::error decode_payload(seq_no seq, const uint8_t* bytes, size_t size, Payload& x) {
  if (decode(bytes + record_header_size, size - record_header_size, x))
    return refuse(ec::integrity_violation,
                  "record " + std::to_string(seq.value) + " does not decode");
  return {};
}

/// The time in a record's header (bytes 10-17: ns since the epoch, big-endian, signed).
caf::timestamp time_of(const uint8_t* bytes) {
  uint64_t ns = 0;
  for (size_t i = 10; i < 18; ++i)
    ns = (ns << 8) | bytes[i];
  return caf::timestamp{caf::timespan{static_cast<int64_t>(ns)}};
}

} // namespace

caf::expected<std::vector<unfinished_rollback>> unfinished_rollbacks(journal_store& store,
                                                                      seq_no to) {
  std::map<digest, unfinished_rollback> open;
  std::vector<digest> order; // first request first
  caf::error bad;
  if (to.value == 0)
    return std::vector<unfinished_rollback>{};
  auto err = store.scan(seq_no{1}, to, [&](seq_no seq, const uint8_t*, const uint8_t* bytes,
                                           size_t size) {
    if (size < record_header_size) {
      bad = refuse(ec::integrity_violation, "record " + std::to_string(seq.value)
                                              + " is too short");
      return false;
    }
    switch (static_cast<event_type>(bytes[1])) {
      case event_type::rollback_requested: {
        rollback_requested x;
        if ((bad = decode_payload(seq, bytes, size, x)))
          return false;
        auto id = x.rollback;
        if (open.count(id) == 0)
          order.push_back(id);
        open[id] = unfinished_rollback{std::move(x), seq, false, time_of(bytes), false};
        break;
      }
      case event_type::rollback_finished: {
        rollback_finished x;
        if ((bad = decode_payload(seq, bytes, size, x)))
          return false;
        open.erase(x.rollback);
        break;
      }
      case event_type::approval_granted:
      case event_type::approval_denied:
      case event_type::approval_expired: {
        approval_recorded x;
        if ((bad = decode_payload(seq, bytes, size, x)))
          return false;
        if (auto i = open.find(x.proposal); i != open.end()) {
          if (static_cast<event_type>(bytes[1]) == event_type::approval_granted)
            i->second.approved = true;
          else
            i->second.answered = true;
        }
        break;
      }
      default:
        break;
    }
    return true;
  });
  if (err || bad)
    return err ? err : bad;
  store.release_resident(); // the scan's pages need not stay resident
  std::vector<unfinished_rollback> out;
  for (auto& id : order)
    if (auto i = open.find(id); i != open.end()) {
      out.push_back(std::move(i->second));
      open.erase(i);
    }
  return out;
}

namespace {

using recovery_ptr = rollback_actor::stateful_pointer<rollback_state>;

/// Asks for the rollback of `incident` again once its interrupted one is closed, as an
/// expired approval does: below level 4 an operator approves it again.
void ask_again(recovery_ptr self, const unfinished_rollback& u) {
  auto fleet = fleet_of(self);
  auto& incidents = fleet.state().incidents;
  auto i = incidents.find(u.plan.incident);
  if (u.plan.incident.is_zero() || i == incidents.end() || i->second.rollback != u.plan.rollback
      || (i->second.status != 1 && i->second.status != 3))
    return; // an operator's rollback by seqs, an older one, or an incident no longer open
  rollback_order again{u.plan.incident, {}, principal_id{"bulwark"}, u.plan.level,
                       "asked again: the rollback executor restarted before rollback "
                         + to_hex(u.plan.rollback).substr(0, 12) + " finished"};
  self->request(caf::actor_cast<rollback_actor>(self), caf::infinite, atom::rollback_v, again)
    .then(
      [id = u.plan.incident](const rollback_status& s) {
        spdlog::info("rollback: the rollback of incident {} asked again: {}",
                     to_hex(id).substr(0, 12), s.status);
      },
      [id = u.plan.incident](caf::error& err) {
        spdlog::warn("rollback: the rollback of incident {} not asked again: {}",
                     to_hex(id).substr(0, 12), describe(err).message);
      });
}

/// Rebuilds a rollback that waited for its approval, planned again from the journal; one
/// that cannot be planned any more (a later change of a key it reverts) is not rebuilt:
/// it is closed as before.
bool rebuilt(recovery_ptr self, const unfinished_rollback& u) {
  auto steps = rollback_detail::plan_steps(self, u.plan.reverts);
  if (!steps || steps->empty()) {
    spdlog::warn("rollback: {} waited for its approval and cannot be rebuilt: {}",
                 to_hex(u.plan.rollback),
                 steps ? std::string{"nothing left to revert"} : describe(steps.error()).message);
    return false;
  }
  spdlog::info("rollback: {} (requested at seq {}) rebuilt: it awaits its approval",
               to_hex(u.plan.rollback), u.requested.value);
  rollback_detail::rebuild(self, u.plan, std::move(*steps), u.at);
  return true;
}

} // namespace

void recover_unfinished(recovery_ptr self) {
  auto& st = self->state;
  auto found = unfinished_rollbacks(*st.store, seq_no{st.started_at});
  if (!found) {
    spdlog::error("rollback: cannot read the unfinished rollbacks from the journal: {}",
                  describe(found.error()).message);
    return;
  }
  for (auto& u : *found) {
    bool ran = u.approved || u.plan.level == authority_level::enforce;
    if (!ran && !u.answered && rebuilt(self, u))
      continue;
    auto why = ran ? std::string{"the rollback executor restarted before this rollback "
                                 "finished: none of its compensations is journaled (a call "
                                 "under way is in doubt; a new run uses the same idempotency "
                                 "keys)"}
                   : std::string{"the rollback executor restarted while this rollback "
                                 "waited for its approval"};
    rollback_finished x{u.plan.rollback, u.plan.incident, false, ec::unavailable, 0, why};
    spdlog::warn("rollback: {} (requested at seq {}) closed: {}", to_hex(u.plan.rollback),
                 u.requested.value, why);
    self->request(st.journal, caf::infinite, atom::append_v,
                  make_event(event_type::rollback_finished, rollback_now(self), x))
      .then([self, u](const appended&) { ask_again(self, u); },
            [id = u.plan.rollback](caf::error& err) {
              spdlog::error("rollback: the close of {} could not be journaled: {}", to_hex(id),
                            describe(err).message);
            });
  }
}

} // namespace bulwark
