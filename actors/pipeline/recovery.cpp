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
         || t == event_type::action_started || t == event_type::action_applied
         || t == event_type::action_failed;
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
    case event_type::action_started: take(action_started{}); break;
    case event_type::action_applied: take(action_applied{}); break;
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

caf::expected<std::vector<flight::journaled_flight>> journaled_flights(journal_store& store,
                                                                       const fleet_state& state) {
  std::map<digest, flight::journaled_flight> found;
  uint64_t lo = UINT64_MAX;
  for (auto& [id, p] : state.proposals) {
    if (p.started != 0 || p.decided_seq == 0 || p.decided_seq > state.seq)
      continue; // in doubt (a start without its outcome), or not in this state
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
      if (j.decision.proposal == id && j.decision.allowed && rebuildable(j.decision.level)) {
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

} // namespace bulwark
