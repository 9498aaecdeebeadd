#include "actors/incident/postmortem_policy.hpp"

#include <algorithm>

#include "messages/lifecycle.hpp"
#include "persistence/lifecycle_projection.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

template <class Payload>
bool read(const journal_entry& e, Payload& x) {
  return !payload_of(e.ev, x);
}

std::string ms_text(caf::timespan d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

} // namespace

postmortem_builder::postmortem_builder(digest incident, caf::timespan lookback) {
  r_.incident = incident;
  r_.lookback = lookback;
}

void postmortem_builder::scan(const journal_entry& e) {
  if (found_ || e.ev.type != event_type::incident_opened)
    return;
  incident_opened x;
  if (!read(e, x) || x.incident != r_.incident)
    return;
  found_ = true;
  r_.candidate = x.candidate;
  r_.service = x.service;
  r_.region = x.region;
  r_.onset = x.onset;
}

void postmortem_builder::timeline(const journal_entry& e, std::string by, std::string detail) {
  r_.timeline.push_back(
    postmortem_step{e.seq.value, e.ev.at, to_string(e.ev.type), std::move(by), std::move(detail)});
}

void postmortem_builder::collect(const journal_entry& e) {
  if (!found_)
    return;
  switch (e.ev.type) {
    case event_type::resource_registered: {
      resource_registered x;
      if (read(e, x))
        where_[x.resource.value] = {x.service, x.region};
      return;
    }
    case event_type::action_applied: {
      action_applied x;
      if (!read(e, x) || e.ev.at > r_.onset || e.ev.at < r_.onset - r_.lookback)
        return;
      auto w = where_.find(x.resource.value);
      if (w == where_.end() || w->second != std::make_pair(r_.service, r_.region))
        return;
      r_.changes.push_back(postmortem_change{e.seq.value, e.ev.at, x.proposal, x.resource.value,
                                             x.key, x.old_value, x.new_value, false, 0, false});
      return;
    }
    case event_type::candidate_raised: {
      candidate_raised x;
      if (!read(e, x) || x.candidate != r_.candidate)
        return;
      r_.detected = true;
      r_.confirmed = x.confirmed;
      r_.error_ppm = x.error_ppm;
      r_.baseline_ppm = x.baseline_ppm;
      r_.threshold_ppm = x.threshold_ppm;
      r_.raised_by = x.raised_by;
      r_.policy = x.policy;
      for (auto& c : x.culprits)
        culprits_[c.seq.value] = c.score;
      timeline(e, x.raised_by, "error rate " + std::to_string(x.error_ppm) + " ppm over "
                                 + std::to_string(x.threshold_ppm) + " ppm, "
                                 + std::to_string(x.culprits.size()) + " suspect(s)");
      return;
    }
    case event_type::candidate_decided: {
      candidate_decided x;
      if (!read(e, x) || x.candidate != r_.candidate)
        return;
      r_.verdict = to_string(x.verdict);
      r_.decided_by = x.by.value;
      r_.manual = x.manual;
      r_.justification = x.justification;
      timeline(e, x.by.value, std::string{to_string(x.verdict)} + " " + to_string(x.level)
                                + (x.manual ? " (manual)" : ""));
      return;
    }
    case event_type::incident_opened: {
      incident_opened x;
      if (!read(e, x) || x.incident != r_.incident)
        return;
      r_.opened = e.ev.at;
      r_.respond_by = x.respond_by;
      r_.opened_severity = r_.severity = to_string(x.level);
      r_.status = "open";
      timeline(e, x.by.value, std::string{to_string(x.level)} + ", "
                                + std::to_string(x.culprits.size()) + " culprit(s) to revert");
      return;
    }
    case event_type::rollback_requested: {
      rollback_requested x;
      if (!read(e, x) || x.incident != r_.incident)
        return;
      rollback_ids_.insert(x.rollback);
      postmortem_rollback rb;
      rb.rollback = x.rollback;
      rb.seq = e.seq.value;
      rb.requested = e.ev.at;
      rb.by = x.by.value;
      for (auto& s : x.reverts)
        rb.reverts.push_back(s.value);
      r_.rollbacks.push_back(std::move(rb));
      timeline(e, x.by.value, "revert " + std::to_string(x.reverts.size()) + " change(s)");
      return;
    }
    case event_type::approval_granted:
    case event_type::approval_denied:
    case event_type::approval_expired: {
      approval_recorded x;
      if (read(e, x) && rollback_ids_.count(x.proposal) != 0)
        timeline(e, x.approver.value, x.note);
      return;
    }
    case event_type::rollback_applied: {
      rollback_applied x;
      if (!read(e, x) || rollback_ids_.count(x.rollback) == 0)
        return;
      for (auto& c : r_.changes)
        if (c.seq == x.reverts.value)
          c.reverted = true;
      return;
    }
    case event_type::rollback_finished: {
      rollback_finished x;
      if (!read(e, x) || x.incident != r_.incident)
        return;
      for (auto& rb : r_.rollbacks)
        if (rb.rollback == x.rollback) {
          rb.finished = true;
          rb.succeeded = x.succeeded;
          rb.code = x.code == ec::none ? "" : to_string(x.code);
          rb.reverted = x.reverted;
          rb.finished_at = e.ev.at;
        }
      timeline(e, "", (x.succeeded ? "succeeded, " : "failed, ") + std::to_string(x.reverted)
                        + " reverted" + (x.message.empty() ? "" : ": " + x.message));
      return;
    }
    case event_type::incident_closed:
    case event_type::incident_escalated: {
      incident_outcome x;
      if (!read(e, x) || x.incident != r_.incident)
        return;
      timeline(e, "", x.detail);
      if (r_.status == "closed")
        return;
      if (e.ev.type == event_type::incident_escalated) {
        ++r_.escalations;
        if (r_.status != "resolved")
          r_.status = "escalated";
        return;
      }
      r_.status = "recovered";
      r_.recovered = e.ev.at;
      if (!closed_) {
        closed_ = true;
        r_.closed = e.ev.at;
        r_.mttr = e.ev.at - r_.onset;
      }
      return;
    }
    default:
      if (is_lifecycle(e.ev.type))
        on_lifecycle(e);
      return;
  }
}

void postmortem_builder::on_lifecycle(const journal_entry& e) {
  switch (e.ev.type) {
    case event_type::incident_acknowledged: {
      incident_acknowledged x;
      if (!read(e, x) || x.incident != r_.incident)
        return;
      if (!r_.acknowledged)
        r_.acknowledged = e.ev.at;
      r_.owner = x.owner;
      timeline(e, x.by.value, "owner " + x.owner + (x.note.empty() ? "" : ": " + x.note));
      return;
    }
    case event_type::incident_severity_changed: {
      incident_severity_changed x;
      if (!read(e, x) || x.incident != r_.incident)
        return;
      r_.severity = to_string(x.to);
      timeline(e, x.by.value, std::string{to_string(x.from)} + " -> " + to_string(x.to) + ": "
                                + x.reason);
      return;
    }
    case event_type::incident_closed_by_operator: {
      incident_closure x;
      if (!read(e, x) || x.incident != r_.incident)
        return;
      r_.status = "closed";
      if (!x.resolution.empty())
        r_.resolution = x.resolution;
      if (!closed_) {
        closed_ = true;
        r_.closed = e.ev.at;
        r_.mttr = e.ev.at - r_.onset;
      }
      timeline(e, x.by.value, x.resolution + " (MTTR " + ms_text(e.ev.at - r_.onset) + ")");
      return;
    }
    default: {
      incident_remark x;
      if (!read(e, x) || x.incident != r_.incident)
        return;
      if (e.ev.type == event_type::incident_noted) {
        ++r_.notes;
      } else if (e.ev.type == event_type::incident_resolved) {
        r_.status = "resolved";
        r_.resolution = x.text;
      } else { // reopened: open again, the MTTR waits for the next close
        r_.status = "open";
        closed_ = false;
        r_.closed = caf::none;
        r_.mttr = caf::none;
      }
      timeline(e, x.by.value, x.text);
      return;
    }
  }
}

postmortem_report postmortem_builder::finish() const {
  auto out = r_;
  for (auto& c : out.changes)
    if (auto i = culprits_.find(c.seq); i != culprits_.end()) {
      c.culprit = true;
      c.score = i->second;
    }
  return out;
}

} // namespace bulwark
