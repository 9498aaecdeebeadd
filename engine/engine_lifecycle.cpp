// The embedding API of the incident lifecycle: acknowledge, note, severity, resolve,
// close, reopen (through the orchestrator, which checks and journals each step), the
// respond_by escalation hooks and the postmortem report.

#include "actors/incident/orchestrator.hpp"
#include "actors/incident/postmortem_render.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/journal_store.hpp"

namespace bulwark {

namespace {

result step(engine::impl& d, const std::string& by, const std::string& incident,
            lifecycle_action action, std::string text, severity level = severity::p3,
            std::string note = {}) {
  digest id;
  if (!parse_digest(incident, id))
    return engine::impl::invalid_input("incident digest must be 64 hex characters");
  if (!is_valid_id(by))
    return engine::impl::invalid_input("the operator must be a principal name");
  auto r = d.call<seq_no>(d.orchestrator->get(), atom::lifecycle_v,
                          lifecycle_command{id, action, principal_id{by}, std::move(text), level,
                                            std::move(note)});
  d.pump();
  if (!r)
    return engine::impl::to_result(r.error());
  result out;
  out.ok = true;
  out.status = to_string(action);
  out.proposal = incident;
  out.seq = r->value;
  return out;
}

std::chrono::system_clock::time_point wall(caf::timestamp t) {
  return wall_clock(t);
}

} // namespace

result engine::acknowledge(const std::string& by, const std::string& incident,
                           const std::string& owner, const std::string& note) {
  return step(*impl_, by, incident, lifecycle_action::acknowledge, owner, severity::p3, note);
}

result engine::note(const std::string& by, const std::string& incident, const std::string& text) {
  return step(*impl_, by, incident, lifecycle_action::note, text);
}

result engine::set_severity(const std::string& by, const std::string& incident,
                            const std::string& level, const std::string& reason) {
  severity s;
  if (!parse(level, s))
    return engine::impl::invalid_input("severity must be P0, P1, P2 or P3");
  return step(*impl_, by, incident, lifecycle_action::set_severity, reason, s);
}

result engine::resolve(const std::string& by, const std::string& incident,
                       const std::string& resolution) {
  return step(*impl_, by, incident, lifecycle_action::resolve, resolution);
}

result engine::close(const std::string& by, const std::string& incident,
                     const std::string& resolution) {
  return step(*impl_, by, incident, lifecycle_action::close, resolution);
}

result engine::reopen(const std::string& by, const std::string& incident,
                      const std::string& reason) {
  return step(*impl_, by, incident, lifecycle_action::reopen, reason);
}

void engine::on_escalation(std::function<void(const escalation_info&)> fn) {
  if (!impl_->escalations) // before the orchestrator starts: it takes this one
    impl_->escalations = std::make_shared<escalation_hooks>();
  impl_->escalations->add([fn = std::move(fn)](const escalation_notice& n) {
    fn(escalation_info{to_hex(n.incident), n.service, n.region, to_string(n.level),
                       wall(n.respond_by), wall(n.at), n.seq.value});
  });
}

incident_report engine::report(const std::string& incident) {
  auto& d = *impl_;
  incident_report out;
  digest id;
  if (!parse_digest(incident, id)) {
    out.status = engine::impl::invalid_input("incident digest must be 64 hex characters");
    return out;
  }
  auto r = read_postmortem(*d.store, id, d.cfg.incident.rca.lookback);
  if (!r) {
    out.status = impl::to_result(r.error());
    return out;
  }
  out.status.ok = true;
  out.markdown = to_markdown(*r);
  out.json = to_json(*r).dump();
  return out;
}

} // namespace bulwark
