// Whether a record's payload decodes as its type says (projection.hpp, `check_payload`):
// refused before append, so no record reaches the journal that the projection could not apply.

#include "persistence/projection.hpp"

#include <string>

#include "messages/cluster.hpp"
#include "messages/incidents.hpp"
#include "messages/notifications.hpp"
#include "persistence/codec.hpp"
#include "persistence/lifecycle_projection.hpp"

namespace bulwark {

namespace {

template <class Payload>
caf::error decodes(const event& ev) {
  Payload x;
  if (auto err = decode(ev.payload, x))
    return refuse(ec::invalid_input, std::string{to_string(ev.type)} + " payload does not decode: "
                                       + describe(err).message);
  return {};
}

} // namespace

caf::error check_payload(const event& ev) {
  switch (ev.type) {
    case event_type::resource_registered:
      return decodes<resource_registered>(ev);
    case event_type::resource_retired:
      return decodes<resource_retired>(ev);
    case event_type::proposal_decided:
      return decodes<proposal_decided>(ev);
    case event_type::action_started:
      return decodes<action_started>(ev);
    case event_type::action_applied:
      return decodes<action_applied>(ev);
    case event_type::action_failed:
      return decodes<action_failed>(ev);
    case event_type::approval_granted:
    case event_type::approval_denied:
    case event_type::approval_expired:
      return decodes<approval_recorded>(ev);
    case event_type::rollback_applied:
      return decodes<rollback_applied>(ev);
    case event_type::breaker_transition:
      return decodes<breaker_transition>(ev);
    case event_type::grant_changed:
      return decodes<grant_changed>(ev);
    case event_type::halt_engaged:
    case event_type::halt_released:
      return decodes<halt_changed>(ev);
    case event_type::console_access:
      return decodes<console_access>(ev);
    case event_type::interrupted:
      return decodes<interrupted>(ev);
    case event_type::proposal_finished:
      return decodes<proposal_finished>(ev);
    case event_type::actor_restarted:
      return decodes<actor_restarted>(ev);
    case event_type::candidate_raised:
      return decodes<candidate_raised>(ev);
    case event_type::candidate_decided:
      return decodes<candidate_decided>(ev);
    case event_type::incident_opened:
      return decodes<incident_opened>(ev);
    case event_type::rollback_requested:
      return decodes<rollback_requested>(ev);
    case event_type::rollback_finished:
      return decodes<rollback_finished>(ev);
    case event_type::incident_closed:
    case event_type::incident_escalated:
      return decodes<incident_outcome>(ev);
    case event_type::orchestration_failed:
      return decodes<orchestration_failed>(ev);
    case event_type::early_warning:
      return decodes<early_warning>(ev);
    case event_type::degradation_changed:
      return decodes<degradation_changed>(ev);
    case event_type::dead_lettered:
      return decodes<dead_lettered>(ev);
    case event_type::dead_letter_resolved:
      return decodes<dead_letter_resolved>(ev);
    case event_type::peer_changed:
      return decodes<peer_changed>(ev);
    case event_type::integrity_alert:
      return decodes<integrity_alert>(ev);
    case event_type::leadership_changed:
      return decodes<leadership_changed>(ev);
    case event_type::incident_acknowledged:
    case event_type::incident_noted:
    case event_type::incident_severity_changed:
    case event_type::incident_resolved:
    case event_type::incident_reopened:
    case event_type::incident_closed_by_operator:
      return check_lifecycle_payload(ev);
    case event_type::notification_sent:
      return decodes<notification_sent>(ev);
    case event_type::analysis_failed:
      return decodes<analysis_failed>(ev);
    case event_type::budget_charged:
      return decodes<budget_charged>(ev);
    case event_type::approval_checked:
      return decodes<approval_checked>(ev);
    case event_type::audit_acknowledged:
      return decodes<audit_acknowledged>(ev);
    case event_type::policy_changed:
      return decodes<policy_changed>(ev);
    case event_type::policy_refused:
      return decodes<policy_refused>(ev);
    case event_type::decision_basis:
      return decodes<decision_basis>(ev);
    case event_type::quarantine_changed:
      return decodes<quarantine_changed>(ev);
    case event_type::compensation_failed:
      return decodes<compensation_failed>(ev);
    case event_type::approval_window:
      return decodes<approval_window>(ev);
  }
  return refuse(ec::invalid_input, "unknown event type " + std::to_string(static_cast<int>(ev.type)));
}

} // namespace bulwark
