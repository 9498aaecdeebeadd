#include "actors/incident/detector.hpp"

#include <tuple>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/sec.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/incident/attempt_policy.hpp"
#include "messages/commands.hpp"
#include "messages/lifecycle.hpp"
#include "persistence/codec.hpp"
#include "persistence/attempt_store.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

caf::timespan handoff_delay(uint32_t failed) noexcept {
  caf::timespan delay = std::chrono::seconds{1};
  for (uint32_t i = 1; i < failed && delay < std::chrono::seconds{30}; ++i)
    delay *= 2;
  return std::min<caf::timespan>(delay, std::chrono::seconds{30});
}

namespace {

using detector_ptr = detector_actor::stateful_pointer<detector_state>;

caf::timestamp now(detector_ptr self) {
  return self->state.epoch + (self->clock().now() - self->state.start);
}

template <class T>
bool decoded(const event& ev, T& x) {
  return !decode(ev.payload, x);
}

/// Tells the shedding core what protects a series (`f` runs under its lock).
template <class F>
void shielding(detector_state& st, F f) {
  if (!st.shedding)
    return;
  std::lock_guard<std::mutex> guard{st.shedding->lock};
  f(st.shedding->core);
}

/// Follows one committed entry: the fleet, the RCA index and the incidents.
void follow(detector_state& st, const journal_entry& e) {
  st.seq = e.seq.value;
  switch (e.ev.type) {
    case event_type::resource_registered: {
      resource_registered x;
      if (decoded(e.ev, x)) {
        st.where[x.resource.value] = {x.service, x.region};
        st.detect.add_series(x.service, x.region);
      }
      break;
    }
    case event_type::action_applied: {
      action_applied x;
      if (!decoded(e.ev, x))
        break;
      auto w = st.where.find(x.resource.value);
      if (w != st.where.end()) {
        st.rca.add(w->second.first, w->second.second,
                   applied_action{e.seq, x.proposal, x.resource, x.key, e.ev.at});
        shielding(st, [&](sample_shedder& s) { s.change_applied(w->second, e.ev.at); });
      }
      st.rca.prune(e.ev.at - 2 * st.settings.rca.lookback);
      break;
    }
    case event_type::rollback_applied: {
      rollback_applied x;
      if (decoded(e.ev, x))
        st.rca.remove(x.reverts);
      break;
    }
    case event_type::incident_opened: {
      incident_opened x;
      if (!decoded(e.ev, x))
        break;
      st.incidents[x.incident] = watched_incident{x.service, x.region, x.onset,
                                                  x.rollback_level, false};
      shielding(st, [&](sample_shedder& s) { s.incident_opened({x.service, x.region}, x.incident); });
      // Nothing to roll back (no suspect): recovery is watched from the opening on. An
      // incident without a candidate is a failed compensation's: no signal closes it,
      // only an operator (the change it names stays applied until restored).
      if (x.culprits.empty() && !x.candidate.is_zero())
        st.detect.watch(x.incident, x.service, x.region, e.ev.at);
      break;
    }
    case event_type::rollback_finished: {
      rollback_finished x;
      if (!decoded(e.ev, x) || !x.succeeded)
        break;
      if (auto i = st.incidents.find(x.incident); i != st.incidents.end())
        st.detect.watch(x.incident, i->second.service, i->second.region, e.ev.at,
                        !i->second.escalated);
      break;
    }
    case event_type::candidate_raised: {
      candidate_raised x;
      if (decoded(e.ev, x) && st.pending.erase(x.candidate) > 0) // journaled: handed over
        st.detect.settle(x.service, x.region, x.onset);
      break;
    }
    case event_type::incident_closed: {
      incident_outcome x;
      if (decoded(e.ev, x)) {
        st.incidents.erase(x.incident);
        shielding(st, [&](sample_shedder& s) { s.incident_closed(x.incident); });
      }
      break;
    }
    case event_type::incident_closed_by_operator: {
      // Closed by an operator: no longer watched, its series no longer protected.
      incident_closure x;
      if (decoded(e.ev, x)) {
        st.incidents.erase(x.incident);
        shielding(st, [&](sample_shedder& s) { s.incident_closed(x.incident); });
      }
      break;
    }
    case event_type::incident_escalated: {
      // Escalated incidents stay open and workable: a later rollback or a recovery
      // still closes them.
      incident_outcome x;
      if (decoded(e.ev, x))
        if (auto i = st.incidents.find(x.incident); i != st.incidents.end())
          i->second.escalated = true;
      break;
    }
    default:
      break;
  }
}

/// Journals the end of a recovery watch.
void journal_recovery(detector_ptr self, const recovery& r) {
  auto i = self->state.incidents.find(r.incident);
  if (i == self->state.incidents.end())
    return;
  incident_outcome x{r.incident, r.at - i->second.onset, to_ppm(r.error_rate),
                     r.recovered ? "error rate back under the threshold for the verification window"
                                 : "error rate not back under the threshold in time: escalated"};
  auto type = r.recovered ? event_type::incident_closed : event_type::incident_escalated;
  if (!r.recovered) // escalated, still open: closed once the series recovers after all
    self->state.detect.watch(r.incident, i->second.service, i->second.region, r.at, false);
  self->request(self->state.journal, caf::infinite, atom::append_v, make_event(type, r.at, x))
    .then([](const appended&) {},
          [id = r.incident](caf::error& err) {
            spdlog::error("detector: the outcome of incident {} could not be journaled: {}",
                          to_hex(id), describe(err).message);
          });
}

/// An incident whose rollback approval expired: escalated (journaled), then the same
/// rollback is asked for again, so an operator is asked once more.
void escalate_expired(detector_ptr self, const digest& id, caf::timestamp at) {
  auto i = self->state.incidents.find(id);
  if (i == self->state.incidents.end())
    return;
  incident_outcome x{id, at - i->second.onset, 0,
                     "nobody approved the rollback in time: escalated, approval asked again"};
  rollback_order again{id, {}, principal_id{"bulwark"}, i->second.rollback_level,
                       "the approval of the incident's rollback expired: asked again"};
  self->request(self->state.journal, caf::infinite, atom::append_v,
                make_event(event_type::incident_escalated, at, x))
    .then(
      [self, again](const appended&) {
        self->request(self->state.rollbacks, caf::infinite, atom::rollback_v, again)
          .then(
            [id = again.incident](const rollback_status& s) {
              spdlog::info("detector: rollback of escalated incident {} asked again: {}",
                           to_hex(id).substr(0, 12), s.status);
            },
            [id = again.incident](caf::error& err) {
              spdlog::warn("detector: rollback of escalated incident {} not asked again: {}",
                           to_hex(id).substr(0, 12), describe(err).message);
            });
      },
      [id](caf::error& err) {
        spdlog::error("detector: the escalation of incident {} could not be journaled: {}",
                      to_hex(id), describe(err).message);
      });
}

/// Acts on a committed entry beyond following it: an expired rollback approval.
void react(detector_ptr self, const journal_entry& e) {
  rollback_finished x;
  if (e.ev.type == event_type::rollback_finished && decoded(e.ev, x) && !x.succeeded
      && x.code == ec::approval_expired && !x.incident.is_zero())
    escalate_expired(self, x.incident, e.ev.at);
  // A failed compensation's incident (no candidate) was opened outside the orchestrator:
  // it arms its respond_by timer, so nobody acknowledging it escalates it.
  incident_opened io;
  if (e.ev.type == event_type::incident_opened && decoded(e.ev, io) && io.candidate.is_zero())
    if (auto orchestrator = self->state.orchestrator->get())
      self->send(orchestrator, atom::respond_v, io.incident);
}

/// The code and reason of a failed attempt (CAF's own errors named in Bulwark's terms).
std::pair<ec, std::string> failure_of(const caf::error& err) {
  auto info = describe(err);
  if (info.code != ec::none)
    return {info.code, info.message};
  if (err == caf::sec::request_timeout)
    return {ec::timeout, "the orchestrator did not answer within "
                           + std::to_string(handoff_timeout / std::chrono::seconds{1}) + " s"};
  return {ec::unavailable, "the orchestrator is not running (" + info.message + ")"};
}

/// Journals a failed attempt, lets a persisting excess be raised again, and schedules
/// the next attempt.
void handoff_failed(detector_ptr self, const digest& id, const caf::error& err) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return; // journaled meanwhile (its candidate_raised was committed)
  auto& p = i->second;
  p.in_flight = false;
  auto [code, reason] = failure_of(err);
  if (code == ec::invalid_input) {
    // The orchestrator journaled the candidate and its policy refused to decide it
    // (an unknown policy id): another attempt would change nothing.
    spdlog::error("detector: candidate {} is journaled but not decided: {}",
                  to_hex(id).substr(0, 12), reason);
    st.pending.erase(i);
    return;
  }
  auto delay = handoff_delay(p.attempts);
  spdlog::warn("detector: attempt {} to hand over candidate {} failed ({}): again in {} ms",
               p.attempts, to_hex(id).substr(0, 12), reason,
               std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
  st.detect.rearm(p.candidate.service, p.candidate.region);
  orchestration_failed x{id, p.candidate.service, p.candidate.region, p.attempts, code, reason,
                         delay};
  self->request(st.journal, handoff_timeout, atom::append_v,
                make_event(event_type::orchestration_failed, now(self), x))
    .then([](const appended&) {},
          [id](caf::error& e) {
            spdlog::error("detector: failed attempt at candidate {} not journaled: {}",
                          to_hex(id).substr(0, 12), describe(e).message);
          });
  self->delayed_send(self, delay, atom::retry_v, id, p.attempts);
}

/// A pending candidate is decided: no more attempts, and its excess is reported.
void handed_over(detector_state& st, const digest& id) {
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  auto& c = i->second.candidate;
  st.detect.settle(c.service, c.region, c.onset);
  st.pending.erase(i);
}

/// Keeps one finished attempt in the attempts store (`x` without its end yet); a store
/// that cannot take it is logged, never retried (the journal holds the failures).
void keep_attempt(detector_ptr self, attempt_record x, const caf::error& err) {
  if (!self->state.attempts)
    return;
  x.duration = now(self) - x.started;
  x.succeeded = !err;
  if (err)
    std::tie(x.code, x.error) = failure_of(err);
  if (auto e = self->state.attempts->put(x))
    spdlog::warn("detector: attempt {} at candidate {} not kept: {}", x.attempt,
                 to_hex(x.candidate).substr(0, 12), describe(e).message);
}

/// One attempt to have the orchestrator decide and journal a pending candidate.
void hand_over(detector_ptr self, const digest& id) {
  auto& p = self->state.pending.at(id);
  ++p.attempts;
  p.in_flight = true;
  attempt_record x;
  x.candidate = id;
  x.service = p.candidate.service;
  x.region = p.candidate.region;
  x.attempt = p.attempts;
  x.started = now(self);
  x.id = attempt_id(id, x.attempt, x.started);
  auto orchestrator = self->state.orchestrator->get();
  if (!orchestrator) {
    auto err = refuse(ec::unavailable, "the orchestrator is not running");
    keep_attempt(self, std::move(x), err);
    return handoff_failed(self, id, err);
  }
  self->request(orchestrator, handoff_timeout, atom::candidate_v, p.candidate)
    .then(
      [self, id, x](const incident_decision&) {
        keep_attempt(self, x, caf::error{});
        handed_over(self->state, id);
      },
      [self, id, x](caf::error& err) {
        keep_attempt(self, x, err);
        handoff_failed(self, id, err);
      });
}

/// Turns a confirmed anomaly into a candidate for the orchestrator.
void raise(detector_ptr self, const anomaly& a) {
  auto& st = self->state;
  auto ranked = st.rca.rank(a.service, a.region, a.onset);
  auto c = make_candidate(a, ranked, policy_for(st.settings, a.service, a.region));
  spdlog::info("detector: anomaly in {}/{} (error rate {:.3f}, threshold {:.3f}); candidate {} "
               "with {} suspects",
               a.service, a.region, a.error_rate, a.threshold, to_hex(c.candidate).substr(0, 12),
               c.culprits.size());
  // The same excess raised again (after a failed attempt): the candidate handed over
  // before, so its id and journal record stay the same.
  for (auto& [id, p] : st.pending)
    if (p.candidate.service == c.service && p.candidate.region == c.region
        && p.candidate.onset == c.onset) {
      if (!p.in_flight)
        hand_over(self, id);
      return;
    }
  auto id = c.candidate;
  st.pending.emplace(id, pending_candidate{std::move(c), 0, false});
  hand_over(self, id);
}

/// Seeds the series and the open incidents from the journal's committed state `fs`.
void seed(detector_state& st, const fleet_state& fs, caf::timestamp at) {
  shielding(st, [](sample_shedder& s) { s.clear_incidents(); });
  for (auto& [id, r] : fs.resources) {
    st.where[id] = {r.service, r.region};
    st.detect.add_series(r.service, r.region);
  }
  for (auto& [id, n] : fs.incidents)
    if (n.status == 1 || n.status == 3) { // open, or escalated (still open)
      bool escalated = n.status == 3;
      st.incidents[id] = watched_incident{n.service, n.region, n.onset,
                                          static_cast<authority_level>(n.rollback_level),
                                          escalated};
      sample_shedder::series where{n.service, n.region};
      digest incident = id;
      shielding(st, [&](sample_shedder& s) { s.incident_opened(where, incident); });
      // Its rollback finished (or it had none) before this start: verification begins
      // again now (after a restart, judged against the floor until the warm-up ends).
      if (n.rollback_result == 1 || (n.culprits.empty() && !n.candidate.is_zero()))
        st.detect.watch(id, n.service, n.region, at, !escalated);
    }
}

/// Rebuilds the index of applied changes from the newest records up to `head` (records
/// at or below the head never change: read without the view's lock).
void replay(detector_state& st, journal_store& store, uint64_t head) {
  st.seq = head;
  if (head == 0)
    return;
  auto from = head > detector_replay_records ? head - detector_replay_records + 1 : 1;
  auto err = store.read(seq_no{from}, seq_no{head}, [&](journal_entry&& e) {
    if (e.ev.type == event_type::action_applied || e.ev.type == event_type::rollback_applied)
      follow(st, e);
    return true;
  });
  if (err)
    spdlog::error("detector: cannot rebuild the index: {}", describe(err).message);
  st.seq = head;
  store.release_resident(); // the scan's pages need not stay resident
}

/// Seeds the state from the committed view and the newest records, and subscribes to the
/// commits after the view's head.
void begin(detector_ptr self, journal_store& store, const committed_view& view) {
  uint64_t head = 0;
  {
    auto fleet = view.read();
    seed(self->state, fleet.state(), now(self));
    head = fleet.state().seq;
  }
  replay(self->state, store, head);
  self->send(self->state.journal, atom::subscribe_v, caf::actor_cast<subscriber_actor>(self),
             seq_no{head});
}

} // namespace

detector_actor::behavior_type detector(detector_actor::stateful_pointer<detector_state> self,
                                       incident_settings settings, journal_actor journal,
                                       orchestrator_slot orchestrator, rollback_actor rollbacks,
                                       std::shared_ptr<shed_board> shedding,
                                       std::shared_ptr<journal_store> store,
                                       std::shared_ptr<attempt_store> attempts,
                                       std::shared_ptr<const committed_view> view,
                                       caf::timestamp epoch) {
  auto& st = self->state;
  st.settings = settings;
  st.detect = detector_policy{settings.detector};
  st.rca = rca_policy{settings.rca};
  st.history = signal_history{settings.signal_retention};
  st.journal = journal;
  st.orchestrator = std::move(orchestrator);
  st.rollbacks = std::move(rollbacks);
  st.shedding = std::move(shedding);
  st.attempts = std::move(attempts);
  st.epoch = epoch;
  st.start = self->clock().now();
  begin(self, *store, *view);
  return {    [self](atom::committed, const std::vector<journal_entry>& entries) {
      for (auto& e : entries)
        if (e.seq.value > self->state.seq) {
          follow(self->state, e);
          react(self, e);
        }
    },
    [self](atom::sample, const metric_in& m) -> uint8_t {
      // The threshold a sample is judged by is the one before it is learned from; before
      // the warm-up ends, the floor.
      auto& d = self->state.detect;
      auto th = d.threshold(m.service, m.region);
      auto obs = d.observe(m, now(self));
      if (obs.verdict == sample_verdict::accepted)
        self->state.history.record(m.service, m.region, m.at, m.error_rate,
                                   th > 0 ? th : d.settings().floor);
      for (auto& r : obs.verified)
        journal_recovery(self, r);
      if (obs.confirmed)
        raise(self, *obs.confirmed);
      return static_cast<uint8_t>(obs.verdict);
    },
    [self](atom::retry, const digest& id, uint32_t attempts) {
      // A timer of an attempt that is still the last one, and none in flight.
      auto i = self->state.pending.find(id);
      if (i != self->state.pending.end() && !i->second.in_flight && i->second.attempts == attempts)
        hand_over(self, id);
    },
    [self](atom::analyze, const std::string& service, caf::timestamp from,
           caf::timestamp to) {
      return self->state.history.summary(service, from, to);
    },
    [self](atom::stats) {
      std::vector<uint64_t> out(5, 0);
      for (auto& [v, n] : self->state.detect.counts())
        out[static_cast<size_t>(v)] = n;
      out.push_back(self->state.rca.size());
      return out;
    },
  };
}

} // namespace bulwark
