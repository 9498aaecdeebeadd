// The pipeline's dead-letter commands: an operator requeues or discards an action whose
// retries were exhausted (a `dead_lettered` record in the projection's list).
//
// A requeue runs the action again as a new proposal of the letter's principal and level,
// under the whole governance path. The letter's resolution rides the new proposal's
// allowed decision in one transaction, so the letter leaves the list exactly when the
// action is running again; a refused requeue leaves it open (and says why). If the new
// run exhausts its retries too, it becomes a new dead letter.

#include <spdlog/spdlog.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/pipeline_impl.hpp"
#include "persistence/compensation_letters.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::pipeline_detail {

namespace {

/// Returns the open letter `seq`, or an error naming why it cannot be resolved.
caf::expected<const dead_lettered*> open_letter(self_ptr self, const fleet_state& fleet,
                                               uint64_t seq) {
  auto& letters = fleet.dead_letters;
  auto i = letters.find(seq);
  if (i == letters.end())
    return refuse(ec::invalid_input, "no open dead letter at seq " + std::to_string(seq)
                                       + " (unknown, or already requeued or discarded)");
  bool requeued = false;
  for (auto& entry : self->state.flights)
    requeued |= entry.second.requeue_of == seq;
  if (requeued || self->state.resolving.count(seq) != 0)
    return refuse(ec::invalid_input,
                  "dead letter " + std::to_string(seq) + " is being resolved already");
  return &i->second;
}

/// The idempotency key of the requeue: the first attempt not refused before, so a requeue
/// refused (say, while halted) can be tried again, and a repeated one finds its flight.
std::string requeue_key(self_ptr self, const fleet_state& fleet, const dead_lettered& x,
                        uint64_t seq) {
  auto& st = self->state;
  for (uint32_t n = 1;; ++n) {
    auto key = "requeue/" + std::to_string(seq) + "/" + std::to_string(n);
    auto full = x.principal.value + "/" + key;
    const digest* id = nullptr;
    auto earlier = fleet.decided.find(idempotency_digest(x.principal, key));
    auto held = st.registry->holder(full);
    if (held)
      id = &*held;
    else if (earlier != nullptr)
      id = &earlier->proposal;
    if (id == nullptr || st.registry->runner(*id))
      return key;
    if (earlier != nullptr && earlier->proposal == *id && earlier->status != decided::refused)
      return key;
  }
}

/// Whether the open letter `x` at `seq` is a failed compensation's; an error when it is
/// one a requeue cannot carry out (the key is to be removed: a proposal sets values) or
/// the journal cannot tell. A compensation's letter holds the value to restore, so its
/// requeue restores it; it never applies the reverted change again.
caf::expected<bool> compensation_letter(self_ptr self, uint64_t seq, const dead_lettered& x) {
  if (!self->state.store)
    return refuse(ec::unavailable, "the journal cannot be read to tell whether dead letter "
                                     + std::to_string(seq) + " is a failed compensation");
  auto comp = compensation_of(*self->state.store, seq, x);
  if (!comp)
    return std::move(comp.error());
  if (!*comp)
    return false;
  if (!(*comp)->restore)
    return refuse(ec::invalid_input,
                  "dead letter " + std::to_string(seq) + " is a failed compensation that must "
                    + "remove " + x.change.resource.value + "." + x.change.key
                    + " (it had no value before): a requeue can only set a value; remove it "
                      "through its effector, then discard the letter");
  return true;
}

} // namespace

caf::result<outcome> requeue_letter(self_ptr self, const dead_letter_command& cmd) {
  proposal p;
  dead_lettered x;
  {
    auto fleet = fleet_of(self);
    auto letter = open_letter(self, fleet.state(), cmd.letter);
    if (!letter)
      return std::move(letter.error());
    x = **letter;
    p.idempotency_key = requeue_key(self, fleet.state(), x, cmd.letter);
    auto& resources = fleet.state().resources;
    if (auto r = resources.find(x.change.resource.value); r != resources.end())
      p.regions = {r->second.region};
  }
  auto comp = compensation_letter(self, cmd.letter, x);
  if (!comp)
    return std::move(comp.error());
  p.principal = x.principal;
  p.level = x.level;
  p.services = {x.service};
  p.mutations = {x.change};
  p.justification = "requeue of dead letter " + std::to_string(cmd.letter)
                    + (*comp ? " (a failed compensation: " + x.change.resource.value + "."
                                 + x.change.key + " back to '" + x.change.value + "')"
                             : std::string{})
                    + " by " + cmd.by.value + (cmd.reason.empty() ? "" : ": " + cmd.reason);
  p.deadline = cmd.deadline;
  auto resolution = make_event(event_type::dead_letter_resolved, now(self),
                               dead_letter_resolved{cmd.letter, cmd.by, true,
                                                    p.idempotency_key, cmd.reason});
  auto id = proposal_digest(p);
  auto key = p.idempotency_key;
  auto reply = submit(self, std::move(p));
  // A new flight carries the resolution into its allowed decision's transaction.
  if (auto f = self->state.flights.find(id); f != self->state.flights.end()
                                                              && f->second.requeue_of == 0) {
    f->second.requeue_of = cmd.letter;
    f->second.with_decision.push_back(std::move(resolution));
  }
  spdlog::info("pipeline: dead letter {} requeued by {} as {}", cmd.letter, cmd.by.value,
               key);
  return reply;
}

caf::result<seq_no> discard_letter(self_ptr self, const dead_letter_command& cmd) {
  if (auto letter = open_letter(self, fleet_of(self).state(), cmd.letter); !letter)
    return std::move(letter.error());
  auto& st = self->state;
  st.resolving.insert(cmd.letter);
  auto rp = self->make_response_promise<seq_no>();
  auto ev = make_event(event_type::dead_letter_resolved, now(self),
                       dead_letter_resolved{cmd.letter, cmd.by, false, "", cmd.reason});
  auto seq = cmd.letter;
  append(self, {std::move(ev)},
         [self, rp, seq](const appended& ack) mutable {
           self->state.resolving.erase(seq);
           rp.deliver(ack.first);
         },
         [self, rp, seq](caf::error& err) mutable {
           self->state.resolving.erase(seq);
           rp.deliver(refuse(ec::audit_unavailable,
                             "the discard could not be journaled: " + describe(err).message));
         });
  spdlog::info("pipeline: dead letter {} discarded by {}", seq, cmd.by.value);
  return rp;
}

} // namespace bulwark::pipeline_detail
