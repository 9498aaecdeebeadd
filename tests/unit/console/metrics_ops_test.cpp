// The operational figures of /metrics: incidents, rollbacks, dead letters, admission,
// breakers' windows, waiting approvals, verification and backup age.

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "actors/console/metrics_ops.hpp"
#include "actors/incident/lifecycle_policy.hpp"
#include "messages/enums.hpp"
#include "support/small_digest.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

incident_state incident(severity level, uint8_t status, bool acked, caf::timestamp respond_by) {
  incident_state n;
  n.level = level, n.status = status, n.acknowledged = acked, n.respond_by = respond_by;
  return n;
}

using test::id;

} // namespace

TEST_CASE("incidents: open by severity, unacknowledged, overdue past respond_by, MTTR") {
  fleet_state st;
  ops_figures f;
  f.now = caf::timestamp{} + 1000s;
  st.incidents[id(1)] = incident(severity::p1, incident_status::open, false, f.now - 1s);
  st.incidents[id(2)] = incident(severity::p1, incident_status::escalated, false, f.now + 60s);
  st.incidents[id(3)] = incident(severity::p2, incident_status::open, true, f.now - 60s);
  auto closed = incident(severity::p0, incident_status::recovered, false, f.now - 600s);
  closed.mttr = 90s;
  st.incidents[id(4)] = closed;
  auto text = render_ops_metrics(st, f);
  CHECK(has(text, "# TYPE bulwark_incidents_open gauge"));
  CHECK(has(text, "bulwark_incidents_open{severity=\"P0\"} 0"));
  CHECK(has(text, "bulwark_incidents_open{severity=\"P1\"} 2"));
  CHECK(has(text, "bulwark_incidents_open{severity=\"P2\"} 1"));
  CHECK(has(text, "bulwark_incidents_open{severity=\"P3\"} 0"));
  CHECK(has(text, "bulwark_incidents_unacknowledged 2"));
  CHECK(has(text, "bulwark_incidents_overdue 1")); // the acknowledged one is not overdue
  CHECK(has(text, "# TYPE bulwark_incident_mttr_seconds summary"));
  CHECK(has(text, "bulwark_incident_mttr_seconds_sum 90"));
  CHECK(has(text, "bulwark_incident_mttr_seconds_count 1"));
  CHECK(has(text, "bulwark_detection_latency_seconds_count 0"));
}

TEST_CASE("detection latency: onset to confirmation of the candidates the detector raised") {
  fleet_state st;
  candidate_state a, b, manual;
  a.detected_after = 4s;
  b.detected_after = 6s;
  st.candidates[id(1)] = a;
  st.candidates[id(2)] = b;
  st.candidates[id(3)] = manual; // raised by a person: no detection latency
  auto text = render_ops_metrics(st, ops_figures{});
  CHECK(has(text, "# TYPE bulwark_detection_latency_seconds summary"));
  CHECK(has(text, "bulwark_detection_latency_seconds_sum 10"));
  CHECK(has(text, "bulwark_detection_latency_seconds_count 2"));
}

TEST_CASE("rollbacks and dead letters from the journal's counts") {
  fleet_state st;
  st.counts[static_cast<uint8_t>(event_type::rollback_requested)] = 3;
  st.counts[static_cast<uint8_t>(event_type::rollback_finished)] = 2;
  st.counts[static_cast<uint8_t>(event_type::dead_lettered)] = 5;
  st.dead_letters[7] = dead_lettered{};
  auto text = render_ops_metrics(st, ops_figures{});
  CHECK(has(text, "# TYPE bulwark_rollbacks_requested_total counter"));
  CHECK(has(text, "bulwark_rollbacks_requested_total 3"));
  CHECK(has(text, "bulwark_rollbacks_finished_total 2"));
  CHECK(has(text, "bulwark_dead_letters_total 5"));
  CHECK(has(text, "bulwark_dead_letters_open 1"));
}

TEST_CASE("the audit queue's length is a gauge, zero when nothing waits for a review") {
  fleet_state st;
  auto empty = render_ops_metrics(st, ops_figures{});
  CHECK(has(empty, "# TYPE bulwark_audit_pending gauge"));
  CHECK(has(empty, "bulwark_audit_pending 0"));
  st.audit.pending[id(1)] = audit_entry{};
  st.audit.pending[id(2)] = audit_entry{};
  st.audit.running[id(3)] = audit_flight{}; // not finished: not waiting for a review
  CHECK(has(render_ops_metrics(st, ops_figures{}), "bulwark_audit_pending 2"));
}

TEST_CASE("admission refusals by reason, absent without a gate") {
  ops_figures f;
  CHECK(render_ops_metrics(fleet_state{}, f).find("bulwark_admission_refused_total")
        == std::string::npos);
  f.load = load_figures{4, 2, 1, 1, 9};
  auto text = render_ops_metrics(fleet_state{}, f);
  CHECK(has(text, "bulwark_admission_refused_total{reason=\"shed\"} 4"));
  CHECK(has(text, "bulwark_admission_refused_total{reason=\"rate_limited\"} 2"));
  CHECK(has(text, "bulwark_admission_refused_total{reason=\"quarantined\"} 1"));
  CHECK(has(text, "bulwark_quarantined_principals 1"));
  CHECK(has(text, "bulwark_telemetry_shed_total 9"));
}

TEST_CASE("breakers' window figures per service, the label escaped") {
  ops_figures f;
  breaker_status b;
  b.service = "pay\"ments", b.window_calls = 10, b.window_failures = 3, b.window_slow = 2;
  b.refused = 6, b.retries = 1;
  f.breakers.push_back(b);
  auto text = render_ops_metrics(fleet_state{}, f);
  CHECK(has(text, "bulwark_breaker_window_calls{service=\"pay\\\"ments\"} 10"));
  CHECK(has(text, "bulwark_breaker_window_failures{service=\"pay\\\"ments\"} 3"));
  CHECK(has(text, "bulwark_breaker_window_slow_calls{service=\"pay\\\"ments\"} 2"));
  CHECK(has(text, "bulwark_breaker_refused_total{service=\"pay\\\"ments\"} 6"));
  CHECK(has(text, "bulwark_breaker_retries_total{service=\"pay\\\"ments\"} 1"));
}

TEST_CASE("waiting approvals: the oldest's age and the soonest expiry, none: no sample") {
  ops_figures f;
  f.now = caf::timestamp{} + 1000s;
  f.approval_timeout = 300s;
  auto text = render_ops_metrics(fleet_state{}, f);
  CHECK(has(text, "# TYPE bulwark_approval_next_expiry_seconds gauge"));
  CHECK(text.find("\nbulwark_approval_next_expiry_seconds ") == std::string::npos);
  f.approval_expiries = {f.now + 200s, f.now + 40s};
  text = render_ops_metrics(fleet_state{}, f);
  CHECK(has(text, "bulwark_approval_next_expiry_seconds 40"));
  CHECK(has(text, "bulwark_approval_oldest_age_seconds 260"));
  f.approval_expiries = {f.now - 5s}; // expired, not yet swept: never negative
  text = render_ops_metrics(fleet_state{}, f);
  CHECK(has(text, "bulwark_approval_next_expiry_seconds 0"));
  CHECK(has(text, "bulwark_approval_oldest_age_seconds 300"));
  // A proposal's own, shorter window: its age is measured in it, not in the node's.
  f.approval_expiries = {f.now + 50s, f.now + 250s};
  f.approval_windows = {60s, 300s};
  text = render_ops_metrics(fleet_state{}, f);
  CHECK(has(text, "bulwark_approval_next_expiry_seconds 50"));
  CHECK(has(text, "bulwark_approval_oldest_age_seconds 50"));
}

TEST_CASE("verification and backup age: absent until known") {
  ops_figures f;
  auto text = render_ops_metrics(fleet_state{}, f);
  CHECK(text.find("\nbulwark_journal_verify_ok ") == std::string::npos);
  CHECK(text.find("\nbulwark_backup_age_seconds ") == std::string::npos);
  f.verified_ok = false, f.verified_age = 30s, f.backup_age = 90000s;
  text = render_ops_metrics(fleet_state{}, f);
  CHECK(has(text, "bulwark_journal_verify_ok 0"));
  CHECK(has(text, "bulwark_journal_verify_age_seconds 30"));
  CHECK(has(text, "bulwark_backup_age_seconds 90000"));
}
