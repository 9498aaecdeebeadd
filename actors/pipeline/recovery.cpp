// What a starting pipeline reads of its flights from the journal (recovery.hpp).

#include "actors/pipeline/recovery.hpp"

#include <algorithm>
#include <map>

#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/record.hpp"

namespace bulwark {

bool names_a_flight(event_type t) {
  return t == event_type::proposal_finished || t == event_type::approval_granted
         || t == event_type::approval_window || t == event_type::action_started
         || t == event_type::action_applied || t == event_type::action_failed
         || t == event_type::decision_basis;
}

caf::expected<digest> proposal_named(const event& ev) {
  caf::error err;
  digest id;
  auto take = [&](auto x) {
    err = payload_of(ev, x);
    id = x.proposal;
  };
  switch (ev.type) {
    case event_type::proposal_finished: take(proposal_finished{}); break;
    case event_type::approval_granted: take(approval_recorded{}); break;
    case event_type::approval_window: take(approval_window{}); break;
    case event_type::action_started: take(action_started{}); break;
    case event_type::action_applied: take(action_applied{}); break;
    case event_type::decision_basis: take(decision_basis{}); break;
    default: take(action_failed{}); break;
  }
  if (err)
    return err;
  return id;
}

namespace {

bool rebuildable(authority_level level) {
  return level == authority_level::assist || level == authority_level::recommend
         || level == authority_level::act;
}

} // namespace

namespace {

/// Reads the decision and the later flight records of every running proposal of `state`
/// that `wanted` (its projected state, its decision) keeps; in the order of decisions.
template <class Wanted>
caf::expected<std::vector<flight::journaled_flight>>
read_flights(journal_store& store, const fleet_state& state, Wanted wanted) {
  std::map<digest, flight::journaled_flight> found;
  uint64_t lo = UINT64_MAX;
  for (auto& [id, p] : state.proposals) {
    if (p.decided_seq == 0 || p.decided_seq > state.seq)
      continue; // not in this state
    caf::error bad;
    auto err = store.read(seq_no{p.decided_seq}, seq_no{p.decided_seq}, [&](journal_entry&& e) {
      flight::journaled_flight j;
      j.decided = e.seq;
      j.decided_at = e.ev.at;
      if (e.ev.type != event_type::proposal_decided || payload_of(e.ev, j.decision)) {
        bad = refuse(ec::integrity_violation, "record " + std::to_string(e.seq.value)
                                                + " is not the decision it should be");
        return false;
      }
      if (j.decision.proposal == id && wanted(p, j.decision)) {
        lo = std::min(lo, e.seq.value);
        found.emplace(id, std::move(j));
      }
      return true;
    });
    if (err || bad)
      return err ? err : bad;
  }
  if (!found.empty() && lo < state.seq) {
    caf::error bad;
    auto err = store.scan(seq_no{lo + 1}, seq_no{state.seq},
                          [&](seq_no seq, const uint8_t*, const uint8_t* bytes, size_t size) {
                            if (size < record_header_size
                                || !names_a_flight(static_cast<event_type>(bytes[1])))
                              return true;
                            event ev;
                            if (auto e = decode_record(seq, bytes, size, ev)) {
                              bad = std::move(e);
                              return false;
                            }
                            auto id = proposal_named(ev);
                            if (!id) {
                              bad = std::move(id.error());
                              return false;
                            }
                            if (auto i = found.find(*id); i != found.end()
                                                          && i->second.decided < seq)
                              i->second.later.emplace_back(seq, std::move(ev));
                            return true;
                          });
    if (err || bad)
      return err ? err : bad;
    store.release_resident(); // the scan's pages need not stay resident
  }
  std::vector<flight::journaled_flight> out;
  out.reserve(found.size());
  for (auto& [id, j] : found)
    out.push_back(std::move(j));
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.decided < b.decided; });
  return out;
}

} // namespace

caf::expected<std::vector<flight::journaled_flight>> journaled_flights(journal_store& store,
                                                                       const fleet_state& state) {
  // In doubt (a start without its outcome) is not rebuilt: it waits for an operator.
  return read_flights(store, state, [](const proposal_state& p, const proposal_decided& d) {
    return p.started == 0 && d.allowed && rebuildable(d.level);
  });
}

caf::expected<std::vector<doubtful_action>> doubtful_actions(journal_store& store,
                                                             const fleet_state& state) {
  auto flights = read_flights(store, state, [](const proposal_state& p, const proposal_decided&) {
    return p.started != 0;
  });
  if (!flights)
    return flights.error();
  std::vector<doubtful_action> out;
  for (auto& j : *flights) {
    // Steps started, minus those with an outcome record, in the order they started.
    std::map<uint32_t, std::pair<seq_no, event>> open;
    uint32_t applied = 0;
    for (auto& [seq, ev] : j.later) {
      if (ev.type == event_type::action_started) {
        action_started x;
        if (!payload_of(ev, x))
          open.emplace(x.step, std::make_pair(seq, ev));
      } else if (ev.type == event_type::action_applied) {
        action_applied x;
        if (!payload_of(ev, x)) {
          open.erase(x.step);
          ++applied;
        }
      } else if (ev.type == event_type::action_failed) {
        action_failed x;
        if (!payload_of(ev, x))
          open.erase(x.step);
      }
    }
    for (auto& [step, started] : open) {
      action_started x;
      if (auto err = payload_of(started.second, x))
        return err;
      doubtful_action a;
      a.proposal = j.decision.proposal;
      a.principal = j.decision.principal;
      a.level = j.decision.level;
      a.decided = j.decided;
      a.step = step;
      a.change = x.change;
      a.started = started.first;
      a.started_at = started.second.at;
      if (auto r = state.resources.find(x.change.resource.value); r != state.resources.end())
        if (auto v = r->second.attributes.find(x.change.key); v != r->second.attributes.end())
          a.journaled_value = v->second;
      a.applied = applied;
      a.steps = static_cast<uint32_t>(j.decision.mutations.size());
      out.push_back(std::move(a));
    }
  }
  return out;
}

} // namespace bulwark
