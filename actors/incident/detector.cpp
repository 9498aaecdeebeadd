#include "actors/incident/detector.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "messages/commands.hpp"
#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

using self_ptr = detector_actor::stateful_pointer<detector_state>;

caf::timestamp now(self_ptr self) {
  return self->state.epoch + (self->clock().now() - self->state.start);
}

template <class T>
bool decoded(const event& ev, T& x) {
  return !decode(ev.payload, x);
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
      if (w != st.where.end())
        st.rca.add(w->second.first, w->second.second,
                   applied_action{e.seq, x.proposal, x.resource, x.key, e.ev.at});
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
      st.incidents[x.incident] = watched_incident{x.service, x.region, x.onset};
      // Nothing to roll back (no suspect): recovery is watched from the opening on.
      if (x.culprits.empty())
        st.detect.watch(x.incident, x.service, x.region, e.ev.at);
      break;
    }
    case event_type::rollback_finished: {
      rollback_finished x;
      if (!decoded(e.ev, x) || !x.succeeded)
        break;
      if (auto i = st.incidents.find(x.incident); i != st.incidents.end())
        st.detect.watch(x.incident, i->second.service, i->second.region, e.ev.at);
      break;
    }
    case event_type::incident_closed:
    case event_type::incident_escalated: {
      incident_outcome x;
      if (decoded(e.ev, x))
        st.incidents.erase(x.incident);
      break;
    }
    default:
      break;
  }
}

/// Journals the end of a recovery watch.
void journal_recovery(self_ptr self, const recovery& r) {
  auto i = self->state.incidents.find(r.incident);
  if (i == self->state.incidents.end())
    return;
  incident_outcome x{r.incident, r.at - i->second.onset, to_ppm(r.error_rate),
                     r.recovered ? "error rate back under the threshold for the verification window"
                                 : "error rate not back under the threshold in time: escalated"};
  auto type = r.recovered ? event_type::incident_closed : event_type::incident_escalated;
  self->request(self->state.journal, caf::infinite, atom::append_v, make_event(type, r.at, x))
    .then([](const appended&) {},
          [id = r.incident](caf::error& err) {
            spdlog::error("detector: the outcome of incident {} could not be journaled: {}",
                          to_hex(id), describe(err).message);
          });
}

/// Turns a confirmed anomaly into a candidate for the orchestrator.
void raise(self_ptr self, const anomaly& a) {
  auto& st = self->state;
  auto ranked = st.rca.rank(a.service, a.region, a.onset);
  auto c = make_candidate(a, ranked, policy_for(st.settings, a.service, a.region));
  spdlog::info("detector: anomaly in {}/{} (error rate {:.3f}, threshold {:.3f}); candidate {} "
               "with {} suspects",
               a.service, a.region, a.error_rate, a.threshold, to_hex(c.candidate).substr(0, 12),
               c.culprits.size());
  auto orchestrator = st.orchestrator->get();
  if (!orchestrator) {
    spdlog::error("detector: the orchestrator is down: candidate {} is not decided",
                  to_hex(c.candidate).substr(0, 12));
    return;
  }
  self->request(orchestrator, caf::infinite, atom::candidate_v, std::move(c))
    .then([](const incident_decision&) {},
          [](caf::error& err) {
            spdlog::error("detector: the orchestrator refused a candidate: {}",
                          describe(err).message);
          });
}

void seed(detector_state& st, journal_store& store, const fleet_state& fs, caf::timestamp at) {
  for (auto& [id, r] : fs.resources) {
    st.where[id] = {r.service, r.region};
    st.detect.add_series(r.service, r.region);
  }
  for (auto& [id, n] : fs.incidents)
    if (n.status == 1) {
      st.incidents[id] = watched_incident{n.service, n.region, n.onset};
      // Its rollback finished (or it had none) before this start: verification begins
      // again now (after a restart, judged against the floor until the warm-up ends).
      if (n.rollback_result == 1 || n.culprits.empty())
        st.detect.watch(id, n.service, n.region, at);
    }
  auto head = fs.seq;
  auto from = head > detector_replay_records ? head - detector_replay_records + 1 : 1;
  if (head == 0)
    return;
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

/// Seeds the state from `fs` and subscribes to the commits after it.
void begin(self_ptr self, journal_store& store, const fleet_state& fs) {
  seed(self->state, store, fs, now(self));
  self->send(self->state.journal, atom::subscribe_v, caf::actor_cast<subscriber_actor>(self),
             seq_no{fs.seq});
}

} // namespace

detector_actor::behavior_type detector(detector_actor::stateful_pointer<detector_state> self,
                                       incident_settings settings, journal_actor journal,
                                       orchestrator_slot orchestrator,
                                       std::shared_ptr<journal_store> store,
                                       caf::optional<fleet_state> fs, caf::timestamp epoch) {
  auto& st = self->state;
  st.settings = settings;
  st.detect = detector_policy{settings.detector};
  st.rca = rca_policy{settings.rca};
  st.journal = journal;
  st.orchestrator = std::move(orchestrator);
  st.epoch = epoch;
  st.start = self->clock().now();
  if (fs) {
    begin(self, *store, *fs);
  } else {
    // Restarted: the journal's state first; `await` holds every other message until then.
    self->request(journal, caf::infinite, atom::state_v)
      .await([self, store](const fleet_state& now) { begin(self, *store, now); },
             [self](caf::error& err) {
               spdlog::error("detector: no journal state to restart from: {}",
                             describe(err).message);
               self->quit(err);
             });
  }
  return {    [self](atom::committed, const std::vector<journal_entry>& entries) {
      for (auto& e : entries)
        if (e.seq.value > self->state.seq)
          follow(self->state, e);
    },
    [self](atom::sample, const metric_in& m) -> uint8_t {
      auto obs = self->state.detect.observe(m, now(self));
      for (auto& r : obs.verified)
        journal_recovery(self, r);
      if (obs.confirmed)
        raise(self, *obs.confirmed);
      return static_cast<uint8_t>(obs.verdict);
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
