// The postmortem report as a pure function of journal records: the look-back window and
// series filter, culprits and reverts, the decision, the lifecycle with a reopening, MTTR.

#include <doctest/doctest.h>

#include "actors/incident/postmortem_policy.hpp"
#include "actors/incident/postmortem_render.hpp"
#include "messages/lifecycle.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

const caf::timestamp onset{std::chrono::hours{24 * 365 * 50}};

digest id_of(uint8_t b) {
  digest d;
  d.bytes[0] = b;
  return d;
}

/// Records in seq order, each at its own time.
struct journal {
  std::vector<journal_entry> entries;

  template <class Payload>
  uint64_t add(event_type type, caf::timestamp at, const Payload& x) {
    journal_entry e;
    e.seq = seq_no{entries.size() + 1};
    e.ev = make_event(type, at, x);
    entries.push_back(std::move(e));
    return entries.size();
  }

  postmortem_report report(const digest& incident) const {
    postmortem_builder b{incident, 10min};
    for (auto& e : entries)
      b.scan(e);
    REQUIRE(b.found());
    for (auto& e : entries)
      b.collect(e);
    return b.finish();
  }
};

action_applied applied(const std::string& resource, const std::string& value) {
  return action_applied{id_of(9), 0, resource_id{resource}, "mode", std::string{"normal"}, value};
}

} // namespace

TEST_CASE("postmortem: changes in the look-back of the series, the decision, the lifecycle") {
  journal j;
  auto inc = id_of(1), cand = id_of(2), rb = id_of(3);
  j.add(event_type::resource_registered, onset - 1h,
        resource_registered{resource_id{"coaster-1"}, "coaster", "north", {}});
  j.add(event_type::resource_registered, onset - 1h,
        resource_registered{resource_id{"gate-1"}, "gates", "north", {}});
  j.add(event_type::action_applied, onset - 20min, applied("coaster-1", "old")); // too early
  auto bad_seq = j.add(event_type::action_applied, onset - 5min, applied("coaster-1", "bad"));
  auto innocent = j.add(event_type::action_applied, onset - 2min, applied("coaster-1", "fast"));
  j.add(event_type::action_applied, onset - 1min, applied("gate-1", "open")); // other series
  candidate_raised c{cand, "coaster", "north", onset, onset + 30s, 300000, 10000, 20000,
                     {culprit{seq_no{bad_seq}, id_of(9), resource_id{"coaster-1"}, "mode", 900,
                              5min}},
                     "default", "detector"};
  j.add(event_type::candidate_raised, onset + 30s, c);
  j.add(event_type::candidate_decided, onset + 30s,
        candidate_decided{cand, id_of(4), "default", policy_verdict::promote, severity::p1,
                          principal_id{"policy:default"}, false, "over the threshold"});
  j.add(event_type::incident_opened, onset + 30s,
        incident_opened{inc, cand, id_of(4), "coaster", "north", severity::p1, onset,
                        onset + 30s + 1h, {seq_no{bad_seq}}, authority_level::assist,
                        principal_id{"policy:default"}, "over the threshold"});
  j.add(event_type::rollback_requested, onset + 31s,
        rollback_requested{rb, inc, principal_id{"policy:default"}, authority_level::assist,
                           {seq_no{bad_seq}}, "revert"});
  j.add(event_type::approval_granted, onset + 40s, approval_recorded{rb, principal_id{"ops"}, "go"});
  j.add(event_type::rollback_applied, onset + 41s,
        rollback_applied{rb, seq_no{bad_seq}, resource_id{"coaster-1"}, "mode",
                         std::string{"bad"}, std::string{"normal"}});
  j.add(event_type::rollback_finished, onset + 41s,
        rollback_finished{rb, inc, true, ec::none, 1, "reverted 1 action"});
  j.add(event_type::incident_acknowledged, onset + 50s,
        incident_acknowledged{inc, principal_id{"ops"}, "alice", ""});
  j.add(event_type::incident_severity_changed, onset + 55s,
        incident_severity_changed{inc, principal_id{"ops"}, severity::p1, severity::p0, "worse"});
  j.add(event_type::incident_noted, onset + 56s, incident_remark{inc, principal_id{"bob"}, "n"});
  j.add(event_type::incident_closed_by_operator, onset + 2min,
        incident_closure{inc, principal_id{"ops"}, "reverted", 2min});
  j.add(event_type::incident_reopened, onset + 3min, incident_remark{inc, principal_id{"ops"}, "back"});
  j.add(event_type::incident_noted, onset + 3min, incident_remark{id_of(7), principal_id{"x"}, "other"});
  j.add(event_type::incident_closed_by_operator, onset + 10min,
        incident_closure{inc, principal_id{"alice"}, "firmware replaced", 10min});

  auto r = j.report(inc);
  CHECK(r.service == "coaster");
  CHECK(r.opened_severity == "P1");
  CHECK(r.severity == "P0");
  CHECK(r.status == "closed");
  CHECK(r.owner == "alice");
  CHECK(r.notes == 1); // the other incident's note is not this one's
  CHECK(r.resolution == "firmware replaced");
  REQUIRE(r.mttr);
  CHECK(*r.mttr == caf::timespan{10min}); // the close after the reopening
  REQUIRE(r.changes.size() == 2);
  CHECK(r.changes[0].seq == bad_seq);
  CHECK(r.changes[0].culprit);
  CHECK(r.changes[0].score == 900);
  CHECK(r.changes[0].reverted);
  CHECK(r.changes[1].seq == innocent);
  CHECK(!r.changes[1].culprit);
  CHECK(!r.changes[1].reverted);
  CHECK(r.detected);
  CHECK(r.error_ppm == 300000);
  CHECK(r.verdict == "PROMOTE");
  REQUIRE(r.rollbacks.size() == 1);
  CHECK(r.rollbacks[0].succeeded);
  CHECK(r.rollbacks[0].reverted == 1);
  std::vector<std::string> who;
  for (auto& s : r.timeline)
    who.push_back(s.what + "/" + s.by);
  CHECK(who == std::vector<std::string>{
                 "candidate_raised/detector", "candidate_decided/policy:default",
                 "incident_opened/policy:default", "rollback_requested/policy:default",
                 "approval_granted/ops", "rollback_finished/", "incident_acknowledged/ops",
                 "incident_severity_changed/ops", "incident_noted/bob",
                 "incident_closed_by_operator/ops", "incident_reopened/ops",
                 "incident_closed_by_operator/alice"});
  auto md = to_markdown(r);
  CHECK(md.find("| severity | P0 (opened as P1) |") != std::string::npos);
  CHECK(md.find("| MTTR | 10 min 0 s (600000 ms) |") != std::string::npos);
  CHECK(md.find("| " + std::to_string(bad_seq) + " | ") != std::string::npos);
  CHECK(md.find("yes (score 900)") != std::string::npos);
  auto doc = to_json(r);
  CHECK(doc["mttr_ms"] == 600000);
  CHECK(doc["changes"].size() == 2);
  CHECK(doc["timeline"].size() == 12);
}

TEST_CASE("postmortem: an open incident has no MTTR, another id is not found") {
  journal j;
  auto inc = id_of(1);
  j.add(event_type::incident_opened, onset + 30s,
        incident_opened{inc, id_of(2), id_of(4), "coaster", "north", severity::p2, onset,
                        onset + 4h, {}, authority_level::assist, principal_id{"ops"}, "manual"});
  j.add(event_type::incident_escalated, onset + 4h,
        incident_outcome{inc, 4h, 0, "nobody acknowledged it by its respond_by (P2): escalated"});
  auto r = j.report(inc);
  CHECK(r.status == "escalated");
  CHECK(r.escalations == 1);
  CHECK(!r.mttr);
  CHECK(!r.detected);
  CHECK(to_markdown(r).find("| MTTR | not closed yet |") != std::string::npos);
  CHECK(to_json(r)["mttr_ms"].is_null());
  postmortem_builder other{id_of(5), 10min};
  for (auto& e : j.entries)
    other.scan(e);
  CHECK(!other.found());
}
