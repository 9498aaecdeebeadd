#include "actors/incident/lifecycle_policy.hpp"

#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

caf::error no(const std::string& why) {
  return refuse(ec::invalid_input, why);
}

std::string short_id(const digest& id) {
  return to_hex(id).substr(0, 16);
}

/// Refuses a step on a closed incident, or one whose text is missing or too long.
caf::error common_checks(const incident_state& n, const lifecycle_command& c, bool needs_text,
                         const char* what) {
  if (c.action != lifecycle_action::reopen && is_closed(n.status))
    return no("incident " + short_id(c.incident) + " is " + status_name(n.status)
              + "; reopen it first");
  if (c.text.size() > max_lifecycle_text || c.note.size() > max_lifecycle_text)
    return no(std::string{what} + " is longer than 4096 bytes");
  if (needs_text && c.text.empty())
    return no(std::string{to_string(c.action)} + " needs " + what);
  if (!is_valid_id(c.by.value))
    return no("the operator must be a principal name");
  return {};
}

} // namespace

const char* status_name(uint8_t status) noexcept {
  static const char* names[] = {"unknown", "open", "recovered", "escalated", "resolved", "closed"};
  return status <= 5 ? names[status] : "unknown";
}

bool is_closed(uint8_t status) noexcept {
  return status == incident_status::recovered || status == incident_status::closed;
}

caf::expected<event> lifecycle_event(const fleet_state& st, const lifecycle_command& c,
                                     caf::timestamp at) {
  if (!valid(c.action) || !valid(c.level))
    return no("unknown lifecycle step");
  auto i = st.incidents.find(c.incident);
  if (i == st.incidents.end())
    return no("unknown incident " + short_id(c.incident));
  auto& n = i->second;
  auto id = short_id(c.incident);
  bool open = n.status == incident_status::open || n.status == incident_status::escalated;
  switch (c.action) {
    case lifecycle_action::acknowledge: {
      if (auto err = common_checks(n, c, true, "an owner"))
        return err;
      if (!open)
        return no("incident " + id + " is " + status_name(n.status) + ": nothing to acknowledge");
      if (n.acknowledged && n.owner == c.text)
        return no("incident " + id + " is already acknowledged by " + n.owner);
      return make_event(event_type::incident_acknowledged, at,
                        incident_acknowledged{c.incident, c.by, c.text, c.note});
    }
    case lifecycle_action::note:
      if (auto err = common_checks(n, c, true, "a text"))
        return err;
      return make_event(event_type::incident_noted, at, incident_remark{c.incident, c.by, c.text});
    case lifecycle_action::set_severity:
      if (auto err = common_checks(n, c, true, "a reason"))
        return err;
      if (c.level == n.level)
        return no("incident " + id + " is " + to_string(n.level) + " already");
      return make_event(event_type::incident_severity_changed, at,
                        incident_severity_changed{c.incident, c.by, n.level, c.level, c.text});
    case lifecycle_action::resolve:
      if (auto err = common_checks(n, c, true, "a resolution"))
        return err;
      if (n.status == incident_status::resolved)
        return no("incident " + id + " is resolved already");
      if (!n.acknowledged)
        return no("incident " + id + " is not acknowledged; acknowledge it before resolving");
      return make_event(event_type::incident_resolved, at,
                        incident_remark{c.incident, c.by, c.text});
    case lifecycle_action::close: {
      // A resolved incident closes with its resolution; any other needs one, and one
      // nobody acknowledged needs it as the reason it is closed unacknowledged.
      bool needs = n.status != incident_status::resolved || !n.acknowledged;
      if (auto err = common_checks(n, c, needs,
                                   n.acknowledged ? "a resolution"
                                                  : "a reason (it was never acknowledged)"))
        return err;
      return make_event(event_type::incident_closed_by_operator, at,
                        incident_closure{c.incident, c.by, c.text, at - n.onset});
    }
    case lifecycle_action::reopen:
      if (auto err = common_checks(n, c, true, "a reason"))
        return err;
      if (!is_closed(n.status) && n.status != incident_status::resolved)
        return no("incident " + id + " is " + status_name(n.status) + "; only resolved or "
                  + "closed incidents are reopened");
      return make_event(event_type::incident_reopened, at,
                        incident_remark{c.incident, c.by, c.text});
  }
  return no("unknown lifecycle step");
}

bool awaits_acknowledgement(const incident_state& n) noexcept {
  return n.status == incident_status::open && !n.acknowledged;
}

caf::optional<incident_outcome> overdue(const digest& id, const incident_state& n,
                                        caf::timestamp now) {
  if (!awaits_acknowledgement(n) || now < n.respond_by)
    return caf::none;
  return incident_outcome{id, now - n.onset, 0,
                          std::string{"nobody acknowledged it by its respond_by ("}
                            + to_string(n.level) + "): escalated"};
}

} // namespace bulwark
