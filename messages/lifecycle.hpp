#pragma once

/// The incident lifecycle vocabulary: what operators do to an incident (acknowledge,
/// note, change its severity, resolve, close, reopen), as journal payloads (event types
/// 38-43) and as the request the orchestrator takes.

#include <cstdint>
#include <string>

#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/timespan.hpp"

#include "messages/error.hpp"
#include "messages/ids.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// One lifecycle step an operator asks for.
enum class lifecycle_action : uint8_t {
  acknowledge = 1,
  note = 2,
  set_severity = 3,
  resolve = 4,
  close = 5,
  reopen = 6,
};

const char* to_string(lifecycle_action x) noexcept;
bool parse(std::string_view name, lifecycle_action& out) noexcept;
inline bool valid(lifecycle_action x) noexcept {
  auto v = static_cast<uint8_t>(x);
  return v >= 1 && v <= 6;
}

/// Payload of `incident_acknowledged` (38): someone took the incident.
struct incident_acknowledged {
  digest incident;
  principal_id by;
  std::string owner; ///< who works on it from now on
  std::string note;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incident_acknowledged& x) {
  return f(caf::meta::type_name("incident_acknowledged"), x.incident, x.by, x.owner, x.note);
}

/// Payload of `incident_noted` (39), `incident_resolved` (41, the text is the
/// resolution) and `incident_reopened` (42, the text is the reason).
struct incident_remark {
  digest incident;
  principal_id by;
  std::string text;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incident_remark& x) {
  return f(caf::meta::type_name("incident_remark"), x.incident, x.by, x.text);
}

/// Payload of `incident_severity_changed` (40).
struct incident_severity_changed {
  digest incident;
  principal_id by;
  severity from = severity::p3;
  severity to = severity::p3;
  std::string reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incident_severity_changed& x) {
  return f(caf::meta::type_name("incident_severity_changed"), x.incident, x.by, x.from, x.to,
           x.reason, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.from) && valid(x.to) ? caf::error{}
                                                 : refuse(ec::invalid_input, "severity");
           }));
}

/// Payload of `incident_closed_by_operator` (43): an operator closed it (the recovery
/// the detector verifies is `incident_closed`, 24).
struct incident_closure {
  digest incident;
  principal_id by;
  std::string resolution;
  caf::timespan mttr{}; ///< onset to this close
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incident_closure& x) {
  return f(caf::meta::type_name("incident_closure"), x.incident, x.by, x.resolution, x.mttr);
}

/// A lifecycle step as the orchestrator takes it.
struct lifecycle_command {
  digest incident;
  lifecycle_action action = lifecycle_action::note;
  principal_id by;
  std::string text;          ///< owner, note, reason or resolution
  severity level = severity::p3; ///< set_severity only
  std::string note;          ///< acknowledge only: an optional note
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lifecycle_command& x) {
  return f(caf::meta::type_name("lifecycle_command"), x.incident, x.action, x.by, x.text,
           x.level, x.note, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.action) && valid(x.level) ? caf::error{}
                                                      : refuse(ec::invalid_input, "action");
           }));
}

} // namespace bulwark
