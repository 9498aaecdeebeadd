#include "persistence/compensation_policy.hpp"

#include "persistence/make_event.hpp"
#include "persistence/sha256.hpp"

namespace bulwark {

digest compensation_incident_id(const digest& proposal, uint32_t step) {
  std::string tag = "bulwark.compensation";
  std::vector<uint8_t> bytes(tag.begin(), tag.end());
  bytes.insert(bytes.end(), proposal.bytes.begin(), proposal.bytes.end());
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<uint8_t>(step >> shift));
  return sha256(bytes.data(), bytes.size());
}

std::string restore_note(const failed_compensation& f) {
  auto where = f.change.resource.value + "." + f.change.key;
  auto holds = " (it holds '" + f.change.value + "')";
  if (f.restore)
    return "restore " + where + " to '" + *f.restore + "'" + holds;
  return "remove " + where + holds;
}

std::vector<event> compensation_failure_records(const failed_compensation& f,
                                                const digest& incident, bool first,
                                                caf::timestamp at, trace_id trace) {
  auto what = "compensation failed: step " + std::to_string(f.step) + " of " + to_hex(f.proposal)
              + ": " + restore_note(f) + ": " + f.message;
  std::vector<event> out;
  out.reserve(3);
  // The letter's change is the compensation itself: a requeue restores the old value.
  mutation undo{f.change.resource, f.change.key, f.restore ? *f.restore : std::string{}};
  out.push_back(make_event(event_type::dead_lettered, at,
                           dead_lettered{f.proposal, f.step, f.principal, f.level, f.service,
                                         undo, f.code, what, at},
                           trace));
  caf::optional<std::string> restore;
  if (f.restore)
    restore = *f.restore;
  out.push_back(make_event(event_type::compensation_failed, at,
                           compensation_failed{f.proposal, f.step, f.change, restore, f.code,
                                               f.message, incident},
                           trace));
  if (!first)
    return out;
  incident_opened io;
  io.incident = incident;
  io.service = f.service;
  io.region = f.region;
  io.level = severity::p1;
  io.onset = at;
  io.respond_by = at + response_time(severity::p1);
  // No culprits: nothing for an automatic rollback to revert (and so no loop of
  // rollbacks); an operator restores the value (the dead letter) and closes it.
  io.rollback_level = f.level;
  io.by = principal_id{"bulwark"};
  io.justification = std::move(what);
  out.push_back(make_event(event_type::incident_opened, at, io, trace));
  return out;
}

} // namespace bulwark
