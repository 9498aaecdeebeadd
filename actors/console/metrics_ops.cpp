#include "actors/console/metrics_ops.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>

#include "actors/incident/lifecycle_policy.hpp"
#include "messages/enums.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

std::string prometheus_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

namespace {

double seconds(caf::timespan t) {
  return std::chrono::duration<double>(t).count();
}

uint64_t count_of(const fleet_state& st, event_type t) {
  auto it = st.counts.find(static_cast<uint8_t>(t));
  return it == st.counts.end() ? 0 : it->second;
}

bool is_open(const incident_state& n) {
  return n.status == incident_status::open || n.status == incident_status::escalated;
}

class writer {
public:
  void head(const char* name, const char* type, const std::string& help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  template <class T>
  void sample(const std::string& name, T value, const std::string& labels = {}) {
    out_ << name;
    if (!labels.empty())
      out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  std::string str() const {
    return out_.str();
  }

private:
  std::ostringstream out_;
};

void incidents(writer& w, const fleet_state& st, caf::timestamp now) {
  std::map<std::string, uint64_t> open;
  for (auto s : {severity::p0, severity::p1, severity::p2, severity::p3})
    open[to_string(s)] = 0;
  uint64_t overdue = 0, unacknowledged = 0, recovered = 0;
  caf::timespan mttr{};
  for (auto& [id, n] : st.incidents) {
    if (is_open(n)) {
      ++open[to_string(n.level)];
      unacknowledged += !n.acknowledged;
      overdue += !n.acknowledged && n.respond_by < now;
    }
    if (n.mttr.count() > 0)
      ++recovered, mttr += n.mttr;
  }
  w.head("bulwark_incidents_open", "gauge", "Open incidents (open or escalated), by severity.");
  for (auto& [s, n] : open)
    w.sample("bulwark_incidents_open", n, "severity=\"" + s + "\"");
  w.head("bulwark_incidents_unacknowledged", "gauge", "Open incidents nobody acknowledged.");
  w.sample("bulwark_incidents_unacknowledged", unacknowledged);
  w.head("bulwark_incidents_overdue", "gauge",
         "Open incidents unacknowledged past their respond_by.");
  w.sample("bulwark_incidents_overdue", overdue);
  w.head("bulwark_incident_mttr_seconds", "summary",
         "Onset to verified recovery of the recovered incidents, in seconds.");
  w.sample("bulwark_incident_mttr_seconds_sum", seconds(mttr));
  w.sample("bulwark_incident_mttr_seconds_count", recovered);
  caf::timespan detection{};
  uint64_t detected = 0;
  for (auto& [id, c] : st.candidates)
    if (c.detected_after.count() > 0)
      ++detected, detection += c.detected_after;
  w.head("bulwark_detection_latency_seconds", "summary",
         "First sample over the threshold to the candidate raised by the detector, in "
         "seconds.");
  w.sample("bulwark_detection_latency_seconds_sum", seconds(detection));
  w.sample("bulwark_detection_latency_seconds_count", detected);
}

void journal_counts(writer& w, const fleet_state& st) {
  w.head("bulwark_rollbacks_requested_total", "counter", "Rollbacks requested (journaled).");
  w.sample("bulwark_rollbacks_requested_total", count_of(st, event_type::rollback_requested));
  w.head("bulwark_rollbacks_finished_total", "counter", "Rollbacks finished (journaled).");
  w.sample("bulwark_rollbacks_finished_total", count_of(st, event_type::rollback_finished));
  w.head("bulwark_dead_letters_total", "counter",
         "Actions dead-lettered after their retries were exhausted.");
  w.sample("bulwark_dead_letters_total", count_of(st, event_type::dead_lettered));
  w.head("bulwark_dead_letters_open", "gauge", "Dead letters waiting for an operator.");
  w.sample("bulwark_dead_letters_open", st.dead_letters.size());
  w.head("bulwark_audit_pending", "gauge",
         "Level-4 proposals that changed something and wait for an operator's review.");
  w.sample("bulwark_audit_pending", st.audit.size());
}

void load(writer& w, const load_figures& l) {
  w.head("bulwark_admission_refused_total", "counter",
         "Proposals refused by admission, by reason (shed: queue bound; rate_limited: the "
         "principal's bound; quarantined: the principal is quarantined).");
  w.sample("bulwark_admission_refused_total", l.shed, "reason=\"shed\"");
  w.sample("bulwark_admission_refused_total", l.rate_limited, "reason=\"rate_limited\"");
  w.sample("bulwark_admission_refused_total", l.quarantine_refused, "reason=\"quarantined\"");
  w.head("bulwark_quarantined_principals", "gauge", "Principals quarantined now.");
  w.sample("bulwark_quarantined_principals", l.quarantined_principals);
  w.head("bulwark_telemetry_shed_total", "counter", "Metric samples shed under load.");
  w.sample("bulwark_telemetry_shed_total", l.telemetry_shed);
}

std::string service_label(const std::string& s) {
  return "service=\"" + prometheus_label(s) + '"';
}

void breakers(writer& w, const std::vector<breaker_status>& bs) {
  auto each = [&](const char* name, const char* type, const char* help, auto field) {
    w.head(name, type, help);
    for (auto& b : bs)
      w.sample(name, field(b), service_label(b.service));
  };
  each("bulwark_breaker_window_calls", "gauge", "Calls in the breaker's sliding window.",
       [](const breaker_status& b) { return b.window_calls; });
  each("bulwark_breaker_window_failures", "gauge", "Failed calls in the breaker's window.",
       [](const breaker_status& b) { return b.window_failures; });
  each("bulwark_breaker_window_slow_calls", "gauge",
       "Calls in the breaker's window slower than its slow-call duration.",
       [](const breaker_status& b) { return b.window_slow; });
  each("bulwark_breaker_consecutive_failures", "gauge", "Failures in a row.",
       [](const breaker_status& b) { return b.consecutive_failures; });
  each("bulwark_breaker_refused_total", "counter", "Calls refused fast while open or full.",
       [](const breaker_status& b) { return b.refused; });
  each("bulwark_breaker_retries_total", "counter", "Calls retried.",
       [](const breaker_status& b) { return b.retries; });
}

void approvals(writer& w, const ops_figures& f) {
  w.head("bulwark_approval_oldest_age_seconds", "gauge",
         "Age of the oldest proposal waiting for an approval, in seconds (absent: none waits).");
  w.head("bulwark_approval_next_expiry_seconds", "gauge",
         "Seconds until the soonest waiting approval expires (absent: none waits).");
  if (f.approval_expiries.empty())
    return;
  auto soonest = *std::min_element(f.approval_expiries.begin(), f.approval_expiries.end());
  auto left = std::max(caf::timespan{0}, soonest - f.now);
  caf::timespan age{0};
  for (size_t i = 0; i < f.approval_expiries.size(); ++i) {
    auto window = i < f.approval_windows.size() && f.approval_windows[i] > caf::timespan{0}
                    ? f.approval_windows[i]
                    : f.approval_timeout;
    auto its_left = std::max(caf::timespan{0}, f.approval_expiries[i] - f.now);
    age = std::max(age, window - std::min(window, its_left));
  }
  w.sample("bulwark_approval_oldest_age_seconds", seconds(age));
  w.sample("bulwark_approval_next_expiry_seconds", seconds(left));
}

void verification(writer& w, const ops_figures& f) {
  w.head("bulwark_journal_verify_ok", "gauge",
         "1 when the last full verification of the journal passed, 0 when it failed "
         "(absent: none ran yet).");
  if (f.verified_ok)
    w.sample("bulwark_journal_verify_ok", *f.verified_ok ? 1 : 0);
  w.head("bulwark_journal_verify_age_seconds", "gauge",
         "Seconds since the last full verification of the journal (absent: none ran yet).");
  if (f.verified_age)
    w.sample("bulwark_journal_verify_age_seconds", seconds(*f.verified_age));
  w.head("bulwark_backup_age_seconds", "gauge",
         "Seconds since the last verified backup (absent: none was taken).");
  if (f.backup_age)
    w.sample("bulwark_backup_age_seconds", seconds(*f.backup_age));
}

} // namespace

std::string render_ops_metrics(const fleet_state& st, const ops_figures& f) {
  writer w;
  incidents(w, st, f.now);
  journal_counts(w, st);
  if (f.load)
    load(w, *f.load);
  breakers(w, f.breakers);
  approvals(w, f);
  verification(w, f);
  return w.str();
}

} // namespace bulwark
