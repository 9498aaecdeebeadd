// The incident lifecycle rules (lifecycle_policy) and their projection: every step from
// every state, every refusal, the respond_by deadline, and replay of the records.

#include <doctest/doctest.h>

#include "actors/console/console_protocol.hpp"
#include "actors/incident/lifecycle_policy.hpp"
#include "persistence/lifecycle_projection.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

const caf::timestamp t0{std::chrono::hours{24 * 365 * 50}};

digest incident_a() {
  digest d;
  d.bytes[0] = 0xa1;
  return d;
}

/// A fleet with one open P2 incident (onset t0, respond_by t0 + 4 h).
fleet_state one_incident(uint8_t status = incident_status::open) {
  fleet_state st;
  incident_state n;
  n.service = "coaster";
  n.region = "north";
  n.level = severity::p2;
  n.onset = t0;
  n.respond_by = t0 + 4h;
  n.status = status;
  st.incidents[incident_a()] = n;
  return st;
}

lifecycle_command cmd(lifecycle_action a, std::string text = {}, severity s = severity::p3) {
  return lifecycle_command{incident_a(), a, principal_id{"ops"}, std::move(text), s, ""};
}

/// Takes a step: checks it, applies its record to `st` (as the journal would).
caf::error take(fleet_state& st, const lifecycle_command& c, caf::timestamp at = t0 + 1min) {
  auto ev = lifecycle_event(st, c, at);
  if (!ev)
    return ev.error();
  REQUIRE(is_lifecycle(ev->type));
  REQUIRE(!check_lifecycle_payload(*ev));
  REQUIRE(!apply_lifecycle(st, seq_no{1}, ev->type, ev->payload.data(), ev->payload.size()));
  return {};
}

std::string refusal(const fleet_state& st, const lifecycle_command& c) {
  auto before = encode(st);
  auto ev = lifecycle_event(st, c, t0 + 1min);
  REQUIRE(!ev);
  CHECK(code_of(ev.error()) == ec::invalid_input);
  CHECK(encode(st) == before); // nothing changed
  return describe(ev.error()).message;
}

const incident_state& the(const fleet_state& st) {
  return st.incidents.at(incident_a());
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("lifecycle: acknowledge, note, severity, resolve, close, reopen, close again") {
  auto st = one_incident();
  REQUIRE(!take(st, cmd(lifecycle_action::acknowledge, "alice")));
  CHECK(the(st).acknowledged);
  CHECK(the(st).owner == "alice");
  CHECK(the(st).status == incident_status::open);
  REQUIRE(!take(st, cmd(lifecycle_action::note, "looking at the coaster")));
  REQUIRE(!take(st, cmd(lifecycle_action::note, "found it")));
  CHECK(the(st).notes == 2);
  REQUIRE(!take(st, cmd(lifecycle_action::set_severity, "riders stuck", severity::p1)));
  CHECK(the(st).level == severity::p1);
  REQUIRE(!take(st, cmd(lifecycle_action::resolve, "reverted the speed change")));
  CHECK(the(st).status == incident_status::resolved);
  CHECK(the(st).resolution == "reverted the speed change");
  // Closing a resolved incident takes its resolution; MTTR is onset to the close.
  REQUIRE(!take(st, cmd(lifecycle_action::close), t0 + 30min));
  CHECK(the(st).status == incident_status::closed);
  CHECK(the(st).mttr == caf::timespan{30min});
  CHECK(the(st).resolution == "reverted the speed change");
  REQUIRE(!take(st, cmd(lifecycle_action::reopen, "it came back")));
  CHECK(the(st).status == incident_status::open);
  CHECK(the(st).resolution.empty());
  CHECK(the(st).mttr == caf::timespan{0});
  CHECK(the(st).acknowledged); // the owner keeps it
  REQUIRE(!take(st, cmd(lifecycle_action::close, "fixed for good"), t0 + 2h));
  CHECK(the(st).status == incident_status::closed);
  CHECK(the(st).mttr == caf::timespan{2h});
  CHECK(the(st).resolution == "fixed for good");
}

TEST_CASE("lifecycle: a second owner takes over, the same owner twice is refused") {
  auto st = one_incident();
  REQUIRE(!take(st, cmd(lifecycle_action::acknowledge, "alice")));
  CHECK(has(refusal(st, cmd(lifecycle_action::acknowledge, "alice")), "already acknowledged by alice"));
  REQUIRE(!take(st, cmd(lifecycle_action::acknowledge, "bob")));
  CHECK(the(st).owner == "bob");
}

TEST_CASE("lifecycle: an escalated incident takes every step an open one takes") {
  auto st = one_incident(incident_status::escalated);
  REQUIRE(!take(st, cmd(lifecycle_action::acknowledge, "alice")));
  CHECK(the(st).status == incident_status::escalated);
  REQUIRE(!take(st, cmd(lifecycle_action::set_severity, "worse", severity::p0)));
  REQUIRE(!take(st, cmd(lifecycle_action::resolve, "done")));
  CHECK(the(st).status == incident_status::resolved);
}

TEST_CASE("lifecycle: unknown incidents, missing texts and bad input are refused") {
  auto st = one_incident();
  auto unknown = cmd(lifecycle_action::note, "x");
  unknown.incident.bytes[0] = 0x77;
  CHECK(has(refusal(st, unknown), "unknown incident"));
  CHECK(has(refusal(st, cmd(lifecycle_action::note)), "needs a text"));
  CHECK(has(refusal(st, cmd(lifecycle_action::acknowledge)), "needs an owner"));
  CHECK(has(refusal(st, cmd(lifecycle_action::set_severity, "", severity::p0)), "needs a reason"));
  CHECK(has(refusal(st, cmd(lifecycle_action::set_severity, "same", severity::p2)), "P2 already"));
  CHECK(has(refusal(st, cmd(lifecycle_action::note, std::string(4097, 'x'))), "longer than 4096"));
  auto nobody = cmd(lifecycle_action::note, "x");
  nobody.by = principal_id{""};
  CHECK(has(refusal(st, nobody), "principal name"));
  auto bad = cmd(lifecycle_action::note, "x");
  bad.action = static_cast<lifecycle_action>(9);
  CHECK(has(refusal(st, bad), "unknown lifecycle step"));
}

TEST_CASE("lifecycle: steps out of order are refused") {
  auto st = one_incident();
  CHECK(has(refusal(st, cmd(lifecycle_action::resolve, "done")), "acknowledge it before resolving"));
  CHECK(has(refusal(st, cmd(lifecycle_action::reopen, "why")), "only resolved or closed"));
  // Closing before an acknowledgement needs a reason; with one it is allowed.
  CHECK(has(refusal(st, cmd(lifecycle_action::close)), "never acknowledged"));
  REQUIRE(!take(st, cmd(lifecycle_action::close, "false alarm: a load test")));
  CHECK(the(st).status == incident_status::closed);
  CHECK(!the(st).acknowledged);
  // An acknowledged, unresolved incident closes with a resolution only.
  auto acked = one_incident();
  REQUIRE(!take(acked, cmd(lifecycle_action::acknowledge, "alice")));
  CHECK(has(refusal(acked, cmd(lifecycle_action::close)), "needs a resolution"));
  REQUIRE(!take(acked, cmd(lifecycle_action::resolve, "done")));
  CHECK(has(refusal(acked, cmd(lifecycle_action::resolve, "again")), "resolved already"));
  CHECK(has(refusal(acked, cmd(lifecycle_action::acknowledge, "bob")), "nothing to acknowledge"));
}

TEST_CASE("lifecycle: closed incidents take nothing but reopen") {
  for (auto status : {incident_status::recovered, incident_status::closed}) {
    auto st = one_incident(status);
    for (auto a : {lifecycle_action::acknowledge, lifecycle_action::note,
                   lifecycle_action::set_severity, lifecycle_action::resolve,
                   lifecycle_action::close})
      CHECK(has(refusal(st, cmd(a, "text", severity::p0)), "reopen it first"));
    CHECK(has(refusal(st, cmd(lifecycle_action::reopen)), "needs a reason"));
    REQUIRE(!take(st, cmd(lifecycle_action::reopen, "back again")));
    CHECK(the(st).status == incident_status::open);
  }
}

TEST_CASE("lifecycle: respond_by: overdue only when unacknowledged, open and past it") {
  auto st = one_incident();
  auto& n = st.incidents.at(incident_a());
  CHECK(awaits_acknowledgement(n));
  CHECK(!overdue(incident_a(), n, t0 + 4h - 1ms));
  auto x = overdue(incident_a(), n, t0 + 4h);
  REQUIRE(x);
  CHECK(x->incident == incident_a());
  CHECK(x->mttr == caf::timespan{4h});
  CHECK(has(x->detail, "P2"));
  n.acknowledged = true;
  CHECK(!awaits_acknowledgement(n));
  CHECK(!overdue(incident_a(), n, t0 + 5h));
  n.acknowledged = false;
  for (auto s : {incident_status::escalated, incident_status::resolved, incident_status::closed,
                 incident_status::recovered}) {
    n.status = s;
    CHECK(!overdue(incident_a(), n, t0 + 5h));
  }
}

TEST_CASE("lifecycle: the projection replays the records, escalations spare resolved ones") {
  auto opened = make_event(event_type::incident_opened, t0,
                           incident_opened{incident_a(), {}, {}, "coaster", "north", severity::p2,
                                           t0, t0 + 4h, {}, authority_level::assist,
                                           principal_id{"policy:default"}, "why"});
  std::vector<event> evs{opened};
  auto st = one_incident();
  st.incidents.at(incident_a()).status = incident_status::open;
  for (auto c : {cmd(lifecycle_action::acknowledge, "alice"), cmd(lifecycle_action::note, "n"),
                 cmd(lifecycle_action::set_severity, "r", severity::p1),
                 cmd(lifecycle_action::resolve, "done")}) {
    auto ev = lifecycle_event(st, c, t0 + 1min);
    REQUIRE(ev);
    REQUIRE(!apply_lifecycle(st, seq_no{1}, ev->type, ev->payload.data(), ev->payload.size()));
    evs.push_back(*ev);
  }
  // The detector's escalation after a resolution leaves the incident resolved.
  evs.push_back(make_event(event_type::incident_escalated, t0 + 2min,
                           incident_outcome{incident_a(), 2min, 0, "late"}));
  projection a, b;
  for (size_t i = 0; i < evs.size(); ++i) {
    REQUIRE(!a.apply(seq_no{i + 1}, evs[i]));
    REQUIRE(!b.apply(seq_no{i + 1}, evs[i]));
  }
  auto& n = a.state().incidents.at(incident_a());
  CHECK(n.status == incident_status::resolved);
  CHECK(n.owner == "alice");
  CHECK(n.notes == 1);
  CHECK(n.level == severity::p1);
  CHECK(a.state_digest() == b.state_digest());
  CHECK(a.state().counts.at(38) == 1);
  // A record that does not decode is refused before append and by the projection.
  event broken{event_type::incident_noted, t0, {}, {1, 2, 3}};
  CHECK(check_payload(broken));
  projection c;
  CHECK(code_of(c.apply(seq_no{1}, broken)) == ec::integrity_violation);
}

TEST_CASE("lifecycle: the console asks operator for every step and viewer for the report") {
  for (auto* name : {"incident-acknowledge", "incident-note", "incident-severity",
                     "incident-resolve", "incident-close", "incident-reopen"})
    CHECK(required_role(name) == console_role::operator_);
  CHECK(required_role("incident-report") == console_role::viewer);
}
