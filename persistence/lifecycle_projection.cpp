#include "persistence/lifecycle_projection.hpp"

#include <string>

#include "messages/lifecycle.hpp"
#include "persistence/codec.hpp"

namespace bulwark {

namespace {

template <class Payload>
caf::error decoded(seq_no seq, event_type type, const uint8_t* data, size_t size, Payload& x) {
  if (decode(data, size, x))
    return refuse(ec::integrity_violation, "record " + std::to_string(seq.value) + ": "
                                               + to_string(type) + " payload does not decode");
  return {};
}

incident_state* find(fleet_state& st, const digest& id) {
  auto i = st.incidents.find(id);
  return i == st.incidents.end() ? nullptr : &i->second;
}

} // namespace

bool is_lifecycle(event_type type) noexcept {
  auto v = static_cast<uint8_t>(type);
  return v >= 38 && v <= 43;
}

caf::error apply_lifecycle(fleet_state& st, seq_no seq, event_type type, const uint8_t* data,
                           size_t size) {
  switch (type) {
    case event_type::incident_acknowledged: {
      incident_acknowledged x;
      if (auto err = decoded(seq, type, data, size, x))
        return err;
      if (auto n = find(st, x.incident)) {
        n->acknowledged = true;
        n->owner = x.owner;
      }
      return {};
    }
    case event_type::incident_severity_changed: {
      incident_severity_changed x;
      if (auto err = decoded(seq, type, data, size, x))
        return err;
      if (auto n = find(st, x.incident))
        n->level = x.to;
      return {};
    }
    case event_type::incident_noted:
    case event_type::incident_resolved:
    case event_type::incident_reopened: {
      incident_remark x;
      if (auto err = decoded(seq, type, data, size, x))
        return err;
      auto n = find(st, x.incident);
      if (!n)
        return {};
      if (type == event_type::incident_noted) {
        ++n->notes;
      } else if (type == event_type::incident_resolved) {
        n->status = 4;
        n->resolution = x.text;
      } else {
        n->status = 1;
        n->resolution.clear();
        n->mttr = caf::timespan{0};
      }
      return {};
    }
    case event_type::incident_closed_by_operator: {
      incident_closure x;
      if (auto err = decoded(seq, type, data, size, x))
        return err;
      if (auto n = find(st, x.incident)) {
        n->status = 5;
        if (!x.resolution.empty())
          n->resolution = x.resolution;
        n->mttr = x.mttr;
      }
      return {};
    }
    default:
      return refuse(ec::integrity_violation, "record " + std::to_string(seq.value)
                                                 + ": not a lifecycle record");
  }
}

caf::error check_lifecycle_payload(const event& ev) {
  fleet_state scratch;
  if (auto err = apply_lifecycle(scratch, seq_no{1}, ev.type, ev.payload.data(), ev.payload.size()))
    return refuse(ec::invalid_input, std::string{to_string(ev.type)} + " payload does not decode");
  return {};
}

} // namespace bulwark
