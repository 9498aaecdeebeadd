#include "persistence/event_json.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "messages/incidents.hpp"
#include "messages/lifecycle.hpp"
#include "messages/cluster.hpp"
#include "messages/notifications.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

using nlohmann::json;

namespace {

json opt(const caf::optional<std::string>& x) {
  return x ? json(*x) : json(nullptr);
}

json mutation_json(const mutation& m) {
  return {{"resource", m.resource.value}, {"key", m.key}, {"value", m.value}};
}

json gates_json(const std::vector<gate_result>& gates) {
  json out = json::array();
  for (auto& g : gates)
    out.push_back({{"gate", to_string(g.name)}, {"passed", g.passed}, {"note", g.note}});
  return out;
}

json payload_json(const resource_registered& x) {
  return {{"resource", x.resource.value}, {"service", x.service}, {"region", x.region},
          {"attributes", x.attributes}};
}
json payload_json(const resource_retired& x) {
  return {{"resource", x.resource.value}, {"reason", x.reason}};
}
json payload_json(const proposal_decided& x) {
  auto gates = gates_json(x.gates);
  json muts = json::array();
  for (auto& m : x.mutations)
    muts.push_back(mutation_json(m));
  return {{"proposal", to_hex(x.proposal)}, {"idempotency_key", x.idempotency_key},
          {"principal", x.principal.value}, {"level", static_cast<int>(x.level)},
          {"service", x.service}, {"region", x.region}, {"allowed", x.allowed},
          {"code", to_string(x.code)}, {"reason", x.reason},
          {"allowed_count", x.allowed_count}, {"gates", gates}, {"mutations", muts},
          {"justification", x.justification}};
}
json payload_json(const action_started& x) {
  return {{"proposal", to_hex(x.proposal)}, {"step", x.step}, {"change", mutation_json(x.change)}};
}
json payload_json(const action_applied& x) {
  return {{"proposal", to_hex(x.proposal)}, {"step", x.step}, {"resource", x.resource.value},
          {"key", x.key}, {"old_value", opt(x.old_value)}, {"new_value", x.new_value}};
}
json payload_json(const action_failed& x) {
  return {{"proposal", to_hex(x.proposal)}, {"step", x.step}, {"change", mutation_json(x.change)},
          {"code", to_string(x.code)}, {"message", x.message}};
}
json payload_json(const approval_recorded& x) {
  return {{"proposal", to_hex(x.proposal)}, {"approver", x.approver.value}, {"note", x.note}};
}
json payload_json(const rollback_applied& x) {
  return {{"rollback", to_hex(x.rollback)}, {"reverts", x.reverts.value},
          {"resource", x.resource.value}, {"key", x.key}, {"old_value", opt(x.old_value)},
          {"new_value", opt(x.new_value)}};
}
json payload_json(const breaker_transition& x) {
  return {{"service", x.service}, {"from", to_string(x.from)}, {"to", to_string(x.to)},
          {"cause", x.cause}, {"failures", x.failures}, {"calls", x.calls}};
}
json payload_json(const grant_changed& x) {
  return {{"principal", x.principal.value}, {"level", static_cast<int>(x.level)},
          {"until", x.until ? json(format_time(*x.until)) : json(nullptr)},
          {"by", x.by.value}, {"reason", x.reason}};
}
json payload_json(const halt_changed& x) {
  return {{"by", x.by.value}, {"reason", x.reason}};
}
json payload_json(const console_access& x) {
  return {{"principal", x.principal.value}, {"command", x.command}, {"remote", x.remote},
          {"allowed", x.allowed}, {"detail", x.detail}};
}
json payload_json(const interrupted& x) {
  return {{"proposal", to_hex(x.proposal)}, {"by", x.by.value}, {"steps_done", x.steps_done}};
}
json payload_json(const proposal_finished& x) {
  return {{"proposal", to_hex(x.proposal)}, {"succeeded", x.succeeded},
          {"code", to_string(x.code)}, {"applied", x.applied},
          {"compensated", x.compensated}, {"message", x.message}};
}

json seqs_json(const std::vector<seq_no>& xs) {
  json out = json::array();
  for (auto& x : xs)
    out.push_back(x.value);
  return out;
}
int64_t ms_of(caf::timespan d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
json payload_json(const candidate_raised& x) {
  json culprits = json::array();
  for (auto& k : x.culprits)
    culprits.push_back({{"seq", k.seq.value}, {"proposal", to_hex(k.proposal)},
                        {"resource", k.resource.value}, {"key", k.key}, {"score", k.score},
                        {"before_onset_ms", ms_of(k.before_onset)}});
  return {{"candidate", to_hex(x.candidate)}, {"service", x.service}, {"region", x.region},
          {"onset", format_time(x.onset)}, {"confirmed", format_time(x.confirmed)},
          {"error_ppm", x.error_ppm}, {"baseline_ppm", x.baseline_ppm},
          {"threshold_ppm", x.threshold_ppm}, {"culprits", culprits}, {"policy", x.policy},
          {"raised_by", x.raised_by}};
}
json payload_json(const candidate_decided& x) {
  return {{"candidate", to_hex(x.candidate)}, {"decision", to_hex(x.decision)},
          {"policy", x.policy}, {"verdict", to_string(x.verdict)},
          {"severity", to_string(x.level)}, {"by", x.by.value}, {"manual", x.manual},
          {"justification", x.justification}};
}
json payload_json(const incident_opened& x) {
  return {{"incident", to_hex(x.incident)}, {"candidate", to_hex(x.candidate)},
          {"decision", to_hex(x.decision)}, {"service", x.service}, {"region", x.region},
          {"severity", to_string(x.level)}, {"onset", format_time(x.onset)},
          {"respond_by", format_time(x.respond_by)}, {"culprits", seqs_json(x.culprits)},
          {"rollback_level", static_cast<int>(x.rollback_level)}, {"by", x.by.value},
          {"justification", x.justification}};
}
json payload_json(const rollback_requested& x) {
  return {{"rollback", to_hex(x.rollback)}, {"incident", to_hex(x.incident)},
          {"by", x.by.value}, {"level", static_cast<int>(x.level)},
          {"reverts", seqs_json(x.reverts)}, {"justification", x.justification}};
}
json payload_json(const rollback_finished& x) {
  return {{"rollback", to_hex(x.rollback)}, {"incident", to_hex(x.incident)},
          {"succeeded", x.succeeded}, {"code", to_string(x.code)}, {"reverted", x.reverted},
          {"message", x.message}};
}
json payload_json(const incident_outcome& x) {
  return {{"incident", to_hex(x.incident)}, {"mttr_ms", ms_of(x.mttr)},
          {"error_ppm", x.error_ppm}, {"detail", x.detail}};
}
json payload_json(const orchestration_failed& x) {
  return {{"candidate", to_hex(x.candidate)}, {"service", x.service}, {"region", x.region},
          {"attempt", x.attempt}, {"code", to_string(x.code)}, {"reason", x.reason},
          {"retry_in_ms", ms_of(x.retry_in)}};
}
json payload_json(const actor_restarted& x) {
  return {{"supervisor", x.supervisor}, {"child", x.child}, {"reason", x.reason},
          {"restarts_in_window", x.restarts_in_window}, {"escalated", x.escalated}};
}

json payload_json(const early_warning& x) {
  return {{"mode", x.mode}, {"indicator", x.indicator}, {"level", to_string(x.level)},
          {"value", x.value}, {"threshold", x.threshold}, {"action", x.action}};
}

json payload_json(const degradation_changed& x) {
  return {{"from", to_string(x.from)}, {"to", to_string(x.to)}, {"cause", x.cause}};
}

json payload_json(const dead_lettered& x) {
  return {{"proposal", to_hex(x.proposal)}, {"step", x.step}, {"principal", x.principal.value},
          {"level", static_cast<int>(x.level)}, {"service", x.service},
          {"change", mutation_json(x.change)}, {"code", to_string(x.code)},
          {"message", x.message}, {"failed_at", format_time(x.failed_at)}};
}

json payload_json(const dead_letter_resolved& x) {
  return {{"letter", x.letter}, {"by", x.by.value}, {"requeued", x.requeued},
          {"idempotency_key", x.idempotency_key}, {"reason", x.reason}};
}

json payload_json(const peer_changed& x) {
  return {{"node_id", x.node_id}, {"up", x.up}, {"reason", x.reason},
          {"peer_head", x.peer_head.value}};
}

json payload_json(const integrity_alert& x) {
  return {{"local_node", x.local_node}, {"peer_node", x.peer_node}, {"seq", x.seq.value},
          {"local_chain", to_hex(x.local_chain)}, {"peer_chain", to_hex(x.peer_chain)},
          {"reason", x.reason}};
}

json payload_json(const leadership_changed& x) {
  return {{"leader", x.leader}, {"term", x.term}, {"previous", x.previous}, {"by", x.by}};
}

json payload_json(const incident_acknowledged& x) {
  return {{"incident", to_hex(x.incident)}, {"by", x.by.value}, {"owner", x.owner},
          {"note", x.note}};
}

json payload_json(const incident_remark& x) {
  return {{"incident", to_hex(x.incident)}, {"by", x.by.value}, {"text", x.text}};
}

json payload_json(const incident_severity_changed& x) {
  return {{"incident", to_hex(x.incident)}, {"by", x.by.value}, {"from", to_string(x.from)},
          {"to", to_string(x.to)}, {"reason", x.reason}};
}

json payload_json(const incident_closure& x) {
  return {{"incident", to_hex(x.incident)}, {"by", x.by.value}, {"resolution", x.resolution},
          {"mttr_ms", ms_of(x.mttr)}};
}

json payload_json(const notification_sent& x) {
  return {{"webhook", x.webhook}, {"kind", x.kind}, {"event_seq", x.event_seq},
          {"status", to_string(x.status)}, {"attempts", x.attempts}, {"reason", x.reason}};
}

json payload_json(const analysis_failed& x) {
  return {{"proposal", to_hex(x.proposal)}, {"step", x.step}, {"service", x.service},
          {"from", format_time(x.from)}, {"to", format_time(x.to)}, {"samples", x.samples},
          {"breaches", x.breaches}, {"failure_limit", x.failure_limit},
          {"worst_region", x.worst_region}, {"worst_ppm", x.worst_ppm},
          {"threshold_ppm", x.threshold_ppm}, {"reason", x.reason}};
}

json payload_json(const approval_checked& x) {
  json grant = nullptr;
  if (x.grant)
    grant = static_cast<int>(*x.grant);
  return {{"proposal", to_hex(x.proposal)}, {"approver", x.approver.value},
          {"approve", x.approve}, {"role", x.role}, {"grant", std::move(grant)},
          {"gates", gates_json(x.gates)}};
}

json payload_json(const budget_charged& x) {
  json entries = json::array();
  for (auto& e : x.entries)
    entries.push_back({{"resource", e.resource.value}, {"service", e.service},
                       {"region", e.region}});
  return {{"proposal", to_hex(x.proposal)}, {"principal", x.principal.value},
          {"entries", std::move(entries)}, {"window_ms", ms_of(x.window)},
          {"until", format_time(x.until)}};
}

json payload_json(const audit_acknowledged& x) {
  return {{"proposal", to_hex(x.proposal)}, {"by", x.by.value}, {"note", x.note}};
}

json optional_text(const caf::optional<std::string>& x) {
  return x ? json(*x) : json(nullptr);
}

json payload_json(const policy_changed& x) {
  json changes = json::array();
  for (auto& c : x.changes)
    changes.push_back({{"key", c.key}, {"before", optional_text(c.before)},
                       {"after", optional_text(c.after)}});
  json entries = json::object();
  for (auto& e : x.entries)
    entries[e.key] = e.value;
  return {{"version", x.version}, {"previous", x.previous}, {"by", x.by.value},
          {"cause", x.cause}, {"changes", std::move(changes)}, {"entries", std::move(entries)}};
}

json payload_json(const policy_refused& x) {
  return {{"by", x.by.value}, {"cause", x.cause}, {"reason", x.reason}};
}

json payload_json(const decision_basis& x) {
  return {{"proposal", to_hex(x.proposal)}, {"policy_version", x.policy_version},
          {"services", x.services}, {"regions", x.regions},
          {"approval_window_ms", x.approval_window ? json(ms_of(*x.approval_window)) : json(nullptr)}};
}

json payload_json(const quarantine_changed& x) {
  return {{"principal", x.principal.value}, {"quarantined", x.quarantined},
          {"by", x.by.value}, {"reason", x.reason}};
}

json payload_json(const compensation_failed& x) {
  return {{"proposal", to_hex(x.proposal)}, {"step", x.step},
          {"change", mutation_json(x.change)}, {"restore", opt(x.restore)},
          {"code", to_string(x.code)}, {"message", x.message},
          {"incident", to_hex(x.incident)}};
}

json payload_json(const approval_window& x) {
  return {{"proposal", to_hex(x.proposal)}, {"window_ms", ms_of(x.window)}};
}

template <class Payload>
json decode_json(const event& ev) {
  Payload x;
  if (payload_of(ev, x))
    return {{"undecodable", to_hex(ev.payload.data(), ev.payload.size())}};
  return payload_json(x);
}

} // namespace

json payload_to_json(const event& ev) {
  switch (ev.type) {
    case event_type::resource_registered:
      return decode_json<resource_registered>(ev);
    case event_type::resource_retired:
      return decode_json<resource_retired>(ev);
    case event_type::proposal_decided:
      return decode_json<proposal_decided>(ev);
    case event_type::action_started:
      return decode_json<action_started>(ev);
    case event_type::action_applied:
      return decode_json<action_applied>(ev);
    case event_type::action_failed:
      return decode_json<action_failed>(ev);
    case event_type::approval_granted:
    case event_type::approval_denied:
    case event_type::approval_expired:
      return decode_json<approval_recorded>(ev);
    case event_type::rollback_applied:
      return decode_json<rollback_applied>(ev);
    case event_type::breaker_transition:
      return decode_json<breaker_transition>(ev);
    case event_type::grant_changed:
      return decode_json<grant_changed>(ev);
    case event_type::halt_engaged:
    case event_type::halt_released:
      return decode_json<halt_changed>(ev);
    case event_type::console_access:
      return decode_json<console_access>(ev);
    case event_type::interrupted:
      return decode_json<interrupted>(ev);
    case event_type::proposal_finished:
      return decode_json<proposal_finished>(ev);
    case event_type::actor_restarted:
      return decode_json<actor_restarted>(ev);
    case event_type::candidate_raised:
      return decode_json<candidate_raised>(ev);
    case event_type::candidate_decided:
      return decode_json<candidate_decided>(ev);
    case event_type::incident_opened:
      return decode_json<incident_opened>(ev);
    case event_type::rollback_requested:
      return decode_json<rollback_requested>(ev);
    case event_type::rollback_finished:
      return decode_json<rollback_finished>(ev);
    case event_type::incident_closed:
    case event_type::incident_escalated:
      return decode_json<incident_outcome>(ev);
    case event_type::orchestration_failed:
      return decode_json<orchestration_failed>(ev);
    case event_type::early_warning:
      return decode_json<early_warning>(ev);
    case event_type::degradation_changed:
      return decode_json<degradation_changed>(ev);
    case event_type::dead_lettered:
      return decode_json<dead_lettered>(ev);
    case event_type::dead_letter_resolved:
      return decode_json<dead_letter_resolved>(ev);
    case event_type::peer_changed:
      return decode_json<peer_changed>(ev);
    case event_type::integrity_alert:
      return decode_json<integrity_alert>(ev);
    case event_type::leadership_changed:
      return decode_json<leadership_changed>(ev);
    case event_type::incident_acknowledged:
      return decode_json<incident_acknowledged>(ev);
    case event_type::incident_noted:
    case event_type::incident_resolved:
    case event_type::incident_reopened:
      return decode_json<incident_remark>(ev);
    case event_type::incident_severity_changed:
      return decode_json<incident_severity_changed>(ev);
    case event_type::incident_closed_by_operator:
      return decode_json<incident_closure>(ev);
    case event_type::notification_sent:
      return decode_json<notification_sent>(ev);
    case event_type::analysis_failed:
      return decode_json<analysis_failed>(ev);
    case event_type::budget_charged:
      return decode_json<budget_charged>(ev);
    case event_type::approval_checked:
      return decode_json<approval_checked>(ev);
    case event_type::audit_acknowledged:
      return decode_json<audit_acknowledged>(ev);
    case event_type::policy_changed:
      return decode_json<policy_changed>(ev);
    case event_type::policy_refused:
      return decode_json<policy_refused>(ev);
    case event_type::decision_basis:
      return decode_json<decision_basis>(ev);
    case event_type::quarantine_changed:
      return decode_json<quarantine_changed>(ev);
    case event_type::compensation_failed:
      return decode_json<compensation_failed>(ev);
    case event_type::approval_window:
      return decode_json<approval_window>(ev);
  }
  return {{"undecodable", to_hex(ev.payload.data(), ev.payload.size())}};
}

std::string format_time(caf::timestamp at) {
  auto ns = at.time_since_epoch().count();
  auto secs = static_cast<std::time_t>(ns / 1'000'000'000);
  auto ms = (ns / 1'000'000) % 1000;
  if (ns < 0 && ms != 0) {
    secs -= 1;
    ms += 1000;
  }
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

json to_json(const journal_entry& entry) {
  return {{"seq", entry.seq.value},
          {"chain", to_hex(entry.chain)},
          {"type", to_string(entry.ev.type)},
          {"at", format_time(entry.ev.at)},
          {"trace", entry.ev.trace.value},
          {"payload", payload_to_json(entry.ev)}};
}

std::string summarize(const journal_entry& entry) {
  auto p = payload_to_json(entry.ev);
  std::string out;
  for (auto& [key, value] : p.items()) {
    if (key == "proposal" || key == "rollback" || key == "incident" || key == "candidate"
        || key == "decision") {
      out += key + "=" + value.get<std::string>().substr(0, 12) + " ";
      continue;
    }
    out += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()) + " ";
  }
  if (!out.empty())
    out.pop_back();
  return out;
}

} // namespace bulwark
