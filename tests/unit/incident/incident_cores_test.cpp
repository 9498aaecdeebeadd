// The pure cores of the recovery half: detector, RCA, policies and ids, rollback planning.

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>

#include "actors/incident/detector.hpp"
#include "actors/incident/detector_policy.hpp"
#include "actors/incident/incident_policy.hpp"
#include "actors/incident/rca_policy.hpp"
#include "actors/incident/sample_shedder.hpp"
#include "actors/flight/rollback_policy.hpp"
#include "persistence/codec.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

const caf::timestamp t0{std::chrono::hours{24 * 365 * 50}};

metric_in sample(double rate, caf::timespan at, std::string service = "coaster") {
  return metric_in{std::move(service), "north", rate, 10.0, t0 + at};
}

/// A detector with a warmed-up baseline of 1 % on coaster/north (10 samples, 1 s apart).
detector_policy warmed() {
  detector_policy d{detector_settings{}};
  d.add_series("coaster", "north");
  for (int i = 0; i < 10; ++i)
    REQUIRE(d.observe(sample(0.01, std::chrono::seconds{i}), t0 + 1h).verdict
            == sample_verdict::accepted);
  return d;
}

digest id_of(uint8_t b) {
  digest d;
  d.bytes[0] = b;
  return d;
}

} // namespace

TEST_CASE("the detector confirms an excess that covers the confirmation window") {
  auto d = warmed();
  CHECK(d.threshold("coaster", "north") == doctest::Approx(0.02)); // max(2 x 1 %, floor 2 %)
  caf::optional<anomaly> found;
  int at = 10;
  for (; at < 100 && !found; ++at)
    found = d.observe(sample(0.3, std::chrono::seconds{at}), t0 + 1h).confirmed;
  REQUIRE(found);
  CHECK(found->onset == t0 + 10s);
  // The first bad sample covers the second before it: confirmed 29 s after the onset.
  CHECK(found->confirmed - found->onset == 29s);
  CHECK(found->confirmed - found->onset < 30s);
  // It is reported once, not on every later sample.
  CHECK_FALSE(d.observe(sample(0.3, std::chrono::seconds{at}), t0 + 1h).confirmed);
}

TEST_CASE("a spike shorter than the confirmation window opens nothing") {
  auto d = warmed();
  for (int at = 10; at < 20; ++at)
    CHECK_FALSE(d.observe(sample(0.9, std::chrono::seconds{at}), t0 + 1h).confirmed);
  for (int at = 20; at < 120; ++at)
    CHECK_FALSE(d.observe(sample(0.01, std::chrono::seconds{at}), t0 + 1h).confirmed);
}

TEST_CASE("the baseline does not learn from samples over the threshold") {
  auto d = warmed();
  for (int at = 10; at < 20; ++at)
    d.observe(sample(0.5, std::chrono::seconds{at}), t0 + 1h);
  CHECK(d.threshold("coaster", "north") == doctest::Approx(0.02));
}

TEST_CASE("garbage samples are refused and counted, and never open an incident") {
  auto d = warmed();
  auto nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(d.observe(sample(nan, 20s), t0 + 1h).verdict == sample_verdict::bad_value);
  CHECK(d.observe(sample(-0.1, 21s), t0 + 1h).verdict == sample_verdict::bad_value);
  CHECK(d.observe(sample(1.5, 22s), t0 + 1h).verdict == sample_verdict::bad_value);
  auto absurd = sample(0.5, 23s);
  absurd.latency_ms = 1e12;
  CHECK(d.observe(absurd, t0 + 1h).verdict == sample_verdict::bad_value);
  CHECK(d.observe(sample(0.5, 24s, "moon"), t0 + 1h).verdict == sample_verdict::unknown_series);
  CHECK(d.observe(sample(0.5, 2h), t0 + 1h).verdict == sample_verdict::future);
  CHECK(d.observe(sample(0.5, 5s), t0 + 1h).verdict == sample_verdict::out_of_order);
  auto& c = d.counts();
  CHECK(c.at(sample_verdict::bad_value) == 4);
  CHECK(c.at(sample_verdict::unknown_series) == 1);
  CHECK(c.at(sample_verdict::future) == 1);
  CHECK(c.at(sample_verdict::out_of_order) == 1);
  CHECK(c.at(sample_verdict::accepted) == 10);
}

TEST_CASE("recovery is verified after a healthy window, else escalated") {
  auto d = warmed();
  d.watch(id_of(1), "coaster", "north", t0 + 10s);
  std::vector<recovery> got;
  for (int at = 10; at < 60 && got.empty(); ++at)
    got = d.observe(sample(0.01, std::chrono::seconds{at}), t0 + 1h).verified;
  REQUIRE(got.size() == 1);
  CHECK(got[0].recovered);
  CHECK(got[0].at == t0 + 40s);
  auto e = warmed();
  e.watch(id_of(2), "coaster", "north", t0 + 10s);
  got.clear();
  for (int at = 10; at < 200 && got.empty(); ++at)
    got = e.observe(sample(0.4, std::chrono::seconds{at}), t0 + 1h).verified;
  REQUIRE(got.size() == 1);
  CHECK_FALSE(got[0].recovered);
  CHECK(got[0].at == t0 + 130s); // the 2 min verification timeout
}

TEST_CASE("a re-armed excess is confirmed again with its onset, once per re-arming") {
  auto d = warmed();
  caf::optional<anomaly> first;
  int at = 10;
  for (; at < 100 && !first; ++at)
    first = d.observe(sample(0.3, std::chrono::seconds{at}), t0 + 1h).confirmed;
  REQUIRE(first);
  CHECK_FALSE(d.observe(sample(0.3, std::chrono::seconds{at++}), t0 + 1h).confirmed);
  // The anomaly could not be handed on: the next sample of the same excess confirms it
  // again, with the same onset (so the same candidate id).
  d.rearm("coaster", "north");
  auto again = d.observe(sample(0.3, std::chrono::seconds{at++}), t0 + 1h).confirmed;
  REQUIRE(again);
  CHECK(again->onset == first->onset);
  CHECK_FALSE(d.observe(sample(0.3, std::chrono::seconds{at++}), t0 + 1h).confirmed);
  // Handed on: settling the excess by its onset makes a re-arming undone.
  d.rearm("coaster", "north");
  d.settle("coaster", "north", first->onset);
  CHECK_FALSE(d.observe(sample(0.3, std::chrono::seconds{at++}), t0 + 1h).confirmed);
  // Settling another onset (an excess that ended) changes nothing.
  d.rearm("coaster", "north");
  d.settle("coaster", "north", first->onset + 1s);
  CHECK(d.observe(sample(0.3, std::chrono::seconds{at++}), t0 + 1h).confirmed);
  // Re-arming a series that is under the threshold raises nothing; unknown ones are ignored.
  d.rearm("moon", "north");
  CHECK_FALSE(d.observe(sample(0.01, std::chrono::seconds{at++}), t0 + 1h).confirmed);
  d.rearm("coaster", "north");
  CHECK_FALSE(d.observe(sample(0.01, std::chrono::seconds{at++}), t0 + 1h).confirmed);
}

TEST_CASE("a watch that does not escalate lasts until the series recovers") {
  auto d = warmed();
  d.watch(id_of(3), "coaster", "north", t0 + 10s, false);
  for (int at = 10; at < 400; ++at)
    CHECK(d.observe(sample(0.4, std::chrono::seconds{at}), t0 + 1h).verified.empty());
  std::vector<recovery> got;
  for (int at = 400; at < 500 && got.empty(); ++at)
    got = d.observe(sample(0.01, std::chrono::seconds{at}), t0 + 1h).verified;
  REQUIRE(got.size() == 1);
  CHECK(got[0].recovered);
  CHECK(got[0].at == t0 + 430s);
}

TEST_CASE("a failed hand-over is tried again after 1 s, doubling up to 30 s") {
  CHECK(handoff_delay(0) == 1s);
  CHECK(handoff_delay(1) == 1s);
  CHECK(handoff_delay(2) == 2s);
  CHECK(handoff_delay(3) == 4s);
  CHECK(handoff_delay(5) == 16s);
  CHECK(handoff_delay(6) == 30s);
  CHECK(handoff_delay(1000) == 30s);
}

TEST_CASE("orchestration_failed round-trips through the journal codec, truncated it does not") {
  orchestration_failed x{id_of(9), "coaster", "north", 3, ec::timeout, "no answer", 4s};
  auto bytes = encode(x);
  orchestration_failed y;
  REQUIRE_FALSE(decode(bytes, y));
  CHECK(y.candidate == x.candidate);
  CHECK(y.service == "coaster");
  CHECK(y.region == "north");
  CHECK(y.attempt == 3);
  CHECK(y.code == ec::timeout);
  CHECK(y.reason == "no answer");
  CHECK(y.retry_in == 4s);
  CHECK_FALSE(check_payload(make_event(event_type::orchestration_failed, t0, x)));
  bytes.pop_back();
  CHECK(decode(bytes, y));
}

TEST_CASE("a recovery watch before the warm-up (a restarted detector) judges by the floor") {
  // No baseline yet: a series still failing is never called recovered; a healthy one is.
  detector_policy d{detector_settings{}};
  d.add_series("coaster", "north");
  d.watch(id_of(3), "coaster", "north", t0);
  std::vector<recovery> got;
  for (int at = 0; at < 200 && got.empty(); ++at)
    got = d.observe(sample(0.3, std::chrono::seconds{at}), t0 + 1h).verified;
  REQUIRE(got.size() == 1);
  CHECK_FALSE(got[0].recovered); // escalated at the timeout, never closed by the warm-up
  CHECK(got[0].at == t0 + 120s);
  CHECK(d.threshold("coaster", "north") == 0); // nothing learned from the outage
  // Once healthy samples warm it up, a new excess is detected as usual.
  for (int at = 200; at < 210; ++at)
    d.observe(sample(0.01, std::chrono::seconds{at}), t0 + 1h);
  CHECK(d.threshold("coaster", "north") == doctest::Approx(0.02));
  detector_policy h{detector_settings{}};
  h.add_series("coaster", "north");
  h.watch(id_of(4), "coaster", "north", t0);
  got.clear();
  for (int at = 0; at < 200 && got.empty(); ++at)
    got = h.observe(sample(0.01, std::chrono::seconds{at}), t0 + 1h).verified;
  REQUIRE(got.size() == 1);
  CHECK(got[0].recovered);
  CHECK(got[0].at == t0 + 30s);
}

TEST_CASE("RCA names the most recent, widest change of the series") {
  rca_policy r{rca_settings{}};
  auto add = [&](uint64_t seq, uint8_t proposal, const char* res, caf::timespan at,
                 const char* service = "coaster") {
    r.add(service, "north", applied_action{seq_no{seq}, id_of(proposal), resource_id{res}, "mode",
                                           t0 + at});
  };
  add(1, 1, "c1", 0s);             // old, one resource
  add(2, 2, "c2", 500s);           // recent, two resources
  add(3, 2, "c3", 500s);
  add(4, 3, "g1", 550s, "gates");  // another service: not a suspect
  add(5, 4, "c4", 1000s);          // after the onset: not a suspect
  auto out = r.rank("coaster", "north", t0 + 540s);
  REQUIRE(out.culprit_seqs.size() == 2);
  CHECK(out.culprit_seqs[0] == seq_no{3});
  CHECK(out.culprit_seqs[1] == seq_no{2});
  REQUIRE(out.ranked.size() == 3);
  CHECK(out.ranked[0].score > out.ranked[2].score);
  CHECK(out.ranked[2].seq == seq_no{1});
  CHECK(out.ranked[0].before_onset == 40s);
  // A reverted action is no suspect any more.
  r.remove(seq_no{2});
  r.remove(seq_no{3});
  out = r.rank("coaster", "north", t0 + 540s);
  REQUIRE(out.culprit_seqs.size() == 1);
  CHECK(out.culprit_seqs[0] == seq_no{1});
  // A series without changes looks at the region's other services (a cascade).
  auto cascade = r.rank("lights", "north", t0 + 560s);
  REQUIRE_FALSE(cascade.culprit_seqs.empty());
  CHECK(cascade.culprit_seqs[0] == seq_no{4});
  r.prune(t0 + 600s);
  CHECK(r.size() == 1);
}

TEST_CASE("ids are hashes of their inputs: equal inputs, equal ids") {
  std::vector<seq_no> seqs{seq_no{7}, seq_no{9}};
  auto a = candidate_id("coaster", "north", t0, seqs);
  CHECK(a == candidate_id("coaster", "north", t0, seqs));
  CHECK(a != candidate_id("coaster", "south", t0, seqs));
  CHECK(a != candidate_id("coaster", "north", t0 + 1s, seqs));
  auto d = decision_id(a, "default", policy_verdict::promote, principal_id{"policy:default"}, false);
  CHECK(d == decision_id(a, "default", policy_verdict::promote, principal_id{"policy:default"}, false));
  CHECK(d != decision_id(a, "default", policy_verdict::promote, principal_id{"ops"}, true));
  CHECK(incident_id(d) == incident_id(d));
  CHECK(incident_id(d) != d);
  CHECK(rollback_id(incident_id(d), seqs) != rollback_id(incident_id(d), {}));
}

TEST_CASE("policies decide by the id the candidate names, with severity rules") {
  incident_settings s;
  candidate_raised c;
  c.policy = "default";
  c.error_ppm = 600'000;
  auto out = decide(s, c);
  REQUIRE(out);
  CHECK(out->verdict == policy_verdict::promote);
  CHECK(out->level == severity::p0);
  c.error_ppm = 300'000;
  CHECK(decide(s, c)->level == severity::p1);
  c.error_ppm = 50'000;
  CHECK(decide(s, c)->level == severity::p2);
  c.policy = "nonexistent";
  CHECK_FALSE(decide(s, c));
  incident_policy_def quiet;
  quiet.id = "quiet";
  quiet.verdict = policy_verdict::defer;
  s.policies = {default_policy(), quiet};
  s.correlation = {{"gates", "*", "quiet"}};
  CHECK(policy_for(s, "gates", "south") == "quiet");
  CHECK(policy_for(s, "coaster", "south") == "default");
  c.policy = "quiet";
  CHECK(decide(s, c)->verdict == policy_verdict::defer);
  CHECK_FALSE(check_incident_settings(s, "test"));
  CHECK(response_time(severity::p0) == caf::timespan{0});
  CHECK(response_time(severity::p1) == std::chrono::hours{1});
  CHECK(response_time(severity::p3) == std::chrono::hours{24});
}

TEST_CASE("invalid incident settings are refused naming the key") {
  auto msg = [](const incident_settings& s) { return describe(check_incident_settings(s, "f")).message; };
  incident_settings s;
  s.detector.factor = 1.0;
  CHECK(msg(s).find("incident.factor") != std::string::npos);
  s = incident_settings{};
  s.detector.verification_timeout = s.detector.verification;
  CHECK(msg(s).find("incident.verification_timeout_ms") != std::string::npos);
  s = incident_settings{};
  s.correlation = {{"*", "*", "ghost"}};
  CHECK(msg(s).find("unknown policy 'ghost'") != std::string::npos);
  s = incident_settings{};
  incident_policy_def p;
  p.id = "only";
  s.policies = {p};
  CHECK(msg(s).find("\"default\"") != std::string::npos);
}

namespace {

planned_record applied(uint64_t seq, const char* res, const char* key,
                       caf::optional<std::string> old, std::string now) {
  action_applied a;
  a.resource = resource_id{res};
  a.key = key;
  a.old_value = std::move(old);
  a.new_value = std::move(now);
  return planned_record{seq_no{seq}, event_type::action_applied, a};
}

/// The conflict index over `recs` (which start at seq `from`).
rollback_index index_of(const std::vector<planned_record>& recs, uint64_t from) {
  rollback_index ix{from - 1};
  for (auto& r : recs)
    if (r.applied)
      ix.add(r.seq.value, r.applied->resource.value, r.applied->key);
    else
      ix.skip(r.seq.value);
  return ix;
}

service_lookup lookup(const std::map<std::string, std::string>& svc) {
  return [&svc](const std::string& res) -> const std::string* {
    auto i = svc.find(res);
    return i == svc.end() ? nullptr : &i->second;
  };
}

} // namespace

TEST_CASE("rollback plans restore old values newest first and refuse bad seqs") {
  std::map<std::string, std::string> svc{{"c1", "coaster"}, {"c2", "coaster"}};
  std::vector<planned_record> recs{
    applied(5, "c1", "mode", std::string{"normal"}, "fast"),
    planned_record{seq_no{6}, event_type::proposal_finished, caf::none},
    applied(7, "c1", "mode", std::string{"fast"}, "faster"),
    applied(8, "c2", "mode", caf::none, "new"),
  };
  auto ix = index_of(recs, 5);
  auto steps = plan_rollback({seq_no{5}, seq_no{7}, seq_no{8}}, recs, ix, lookup(svc), {},
                             seq_no{8});
  REQUIRE(steps);
  REQUIRE(steps->size() == 3);
  CHECK((*steps)[0].reverts == seq_no{8});
  CHECK_FALSE((*steps)[0].restore); // the key did not exist before: removed
  CHECK((*steps)[1].reverts == seq_no{7});
  CHECK(*(*steps)[2].restore == "normal");
  auto fails = [&](std::vector<seq_no> seqs, const std::map<uint64_t, digest>& rev,
                   const std::string& text) {
    auto r = plan_rollback(seqs, recs, ix, lookup(svc), rev, seq_no{8});
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(describe(r.error()).message.find(text) != std::string::npos,
                  describe(r.error()).message);
    CHECK(describe(r.error()).code == ec::invalid_input);
  };
  fails({seq_no{5}}, {}, "rollback conflict: seq 7 changed c1.mode after seq 5");
  fails({seq_no{99}}, {}, "seq 99 does not exist");
  fails({seq_no{6}}, {}, "is a proposal_finished record, not an applied action");
  fails({seq_no{8}}, {{8, id_of(3)}}, "already rolled back");
  fails({}, {}, "nothing to roll back");
  // A later change that was itself reverted is no conflict.
  CHECK(plan_rollback({seq_no{5}}, recs, ix, lookup(svc), {{7, id_of(4)}}, seq_no{8}));
}

TEST_CASE("a rollback step whose compensation fails leaves a letter and a P1, the others "
          "still undo, and the rollback ends compensation_failed") {
  rollback_requested plan{id_of(9), id_of(8), principal_id{"ops"}, authority_level::enforce,
                          {seq_no{8}, seq_no{7}, seq_no{5}}, "undo"};
  std::vector<rollback_step> steps{
    {seq_no{8}, "coaster", resource_id{"c2"}, "mode", "new", caf::none},
    {seq_no{7}, "coaster", resource_id{"c1"}, "mode", "faster", std::string{"fast"}},
    {seq_no{5}, "coaster", resource_id{"c1"}, "mode", "fast", std::string{"normal"}}};
  auto region = [](const std::string&) { return std::string{"north"}; };
  auto out = rollback_outcome_of(plan, steps, 3, {rollback_failure{1, ec::timeout, "no answer"}},
                                 ec::none, "reverted 3 actions", region, t0);
  CHECK(out.status == "compensation_failed");
  CHECK(out.code == ec::timeout);
  CHECK(out.reverted == 2);
  CHECK(out.message.rfind("compensation failed for 1 of 3 steps", 0) == 0);
  std::vector<event_type> types;
  for (auto& ev : out.records)
    types.push_back(ev.type);
  CHECK(types == std::vector<event_type>{event_type::rollback_applied, event_type::dead_lettered,
                                         event_type::compensation_failed,
                                         event_type::incident_opened,
                                         event_type::rollback_applied,
                                         event_type::rollback_finished});
  dead_lettered letter;
  REQUIRE_FALSE(payload_of(out.records[1], letter));
  CHECK(letter.proposal == id_of(9));
  CHECK(letter.step == 1);
  CHECK(letter.change.value == "fast"); // the value the step was to restore
  CHECK(letter.principal.value == "ops");
  incident_opened io;
  REQUIRE_FALSE(payload_of(out.records[3], io));
  CHECK(io.level == severity::p1);
  CHECK(io.region == "north");
  CHECK(io.culprits.empty());
  rollback_finished fin;
  REQUIRE_FALSE(payload_of(out.records.back(), fin));
  CHECK_FALSE(fin.succeeded);
  CHECK(fin.reverted == 2);
  CHECK(fin.incident == id_of(8));
  // Two failures: two letters, one incident (the first's).
  auto two = rollback_outcome_of(plan, steps, 3,
                                 {rollback_failure{0, ec::unavailable, "down"},
                                  rollback_failure{2, ec::timeout, "no answer"}},
                                 ec::none, "", region, t0);
  size_t incidents = 0;
  for (auto& ev : two.records)
    incidents += ev.type == event_type::incident_opened;
  CHECK(incidents == 1);
  CHECK(two.code == ec::unavailable);
  CHECK(two.reverted == 1);
  // No failure: as before.
  auto fine = rollback_outcome_of(plan, steps, 3, {}, ec::none, "reverted 3 actions", region, t0);
  CHECK(fine.status == "succeeded");
  CHECK(fine.records.size() == 4);
  auto denied = rollback_outcome_of(plan, steps, 0, {}, ec::authority_denied, "denied by ops",
                                    region, t0);
  CHECK(denied.status == "failed");
  CHECK(denied.records.size() == 1);
}

TEST_CASE("the rollback index finds every later change of a reverted key") {
  std::map<std::string, std::string> svc{{"c1", "coaster"}, {"c2", "coaster"}};
  std::vector<planned_record> recs{
    applied(10, "c1", "mode", std::string{"a"}, "b"),
    applied(11, "c2", "mode", std::string{"a"}, "b"),
    applied(12, "c1", "mode", std::string{"b"}, "c"),
    applied(13, "c1", "speed", std::string{"1"}, "2"),
    applied(14, "c1", "mode", std::string{"c"}, "d"),
    planned_record{seq_no{15}, event_type::proposal_finished, caf::none},
    applied(16, "c1", "mode", std::string{"d"}, "e"),
  };
  auto ix = index_of(recs, 10);
  CHECK(ix.size() == 6);
  CHECK(ix.from() == 10);
  CHECK(ix.to() == 16);
  auto run = [&](std::vector<seq_no> seqs, const std::map<uint64_t, digest>& rev = {}) {
    return plan_rollback(seqs, recs, ix, lookup(svc), rev, seq_no{16});
  };
  // Every later change is named, after the OLDEST reverted change of that key, in seq order.
  auto r = run({seq_no{12}, seq_no{10}});
  REQUIRE_FALSE(r);
  CHECK(describe(r.error()).message
        == "rollback conflict: seq 14 changed c1.mode after seq 10; seq 16 changed c1.mode "
           "after seq 10 (include those seqs or roll them back first)");
  // Other keys of the same resource and other resources are no conflict.
  auto ok = run({seq_no{16}, seq_no{14}, seq_no{12}, seq_no{10}, seq_no{10}});
  REQUIRE(ok);
  REQUIRE(ok->size() == 4); // the repeated seq counts once
  CHECK((*ok)[0].reverts == seq_no{16});
  CHECK(*(*ok)[3].restore == "a");
  // Later changes reverted by an earlier rollback are skipped; those left still conflict.
  CHECK(run({seq_no{12}}, {{14, id_of(1)}, {16, id_of(1)}}));
  auto left = run({seq_no{12}}, {{16, id_of(1)}});
  REQUIRE_FALSE(left);
  CHECK(describe(left.error()).message.find("seq 14 changed c1.mode after seq 12")
        != std::string::npos);
  CHECK(describe(left.error()).message.find("seq 16") == std::string::npos);
  // An index that does not reach back to the oldest target, or up to the head, refuses.
  rollback_index late{11};
  late.add(12, "c1", "mode");
  late.skip(16);
  auto short_back = plan_rollback({seq_no{10}}, recs, late, lookup(svc), {}, seq_no{16});
  REQUIRE_FALSE(short_back);
  CHECK(describe(short_back.error()).code == ec::integrity_violation);
  auto short_head = plan_rollback({seq_no{16}}, recs, ix, lookup(svc), {}, seq_no{17});
  REQUIRE_FALSE(short_head);
  CHECK(describe(short_head.error()).message.find("covers seqs 10 to 16") != std::string::npos);
  // Extended backwards, the late index finds the same conflicts.
  late.prepend(10, {{10, "c1", "mode"}, {11, "c2", "mode"}});
  CHECK(late.from() == 10);
  auto list = late.changes("c1", "mode");
  REQUIRE(list != nullptr);
  CHECK(*list == std::vector<uint64_t>{10, 12});
  auto again = plan_rollback({seq_no{10}}, recs, late, lookup(svc), {}, seq_no{16});
  REQUIRE_FALSE(again);
  CHECK(describe(again.error()).message.find("seq 12 changed c1.mode after seq 10")
        != std::string::npos);
  // Seqs at or below what the index followed are not counted twice.
  late.add(12, "c1", "mode");
  CHECK(late.size() == 3);
  // ("a", "bc") and ("ab", "c") are different pairs.
  rollback_index k{0};
  k.add(1, "a", "bc");
  k.add(2, "ab", "c");
  CHECK(k.changes("a", "bc")->size() == 1);
  CHECK(k.changes("ab", "c")->size() == 1);
  CHECK(k.changes("a", "b") == nullptr);
}

TEST_CASE("shedding is fair per series: whatever the order, every series keeps samples") {
  sample_shedder s{10min};
  const sample_shedder::series a{"coaster", "north"}, b{"coaster", "south"};
  // Two series reported in a fixed order: a global turn would shed all of b's.
  std::map<sample_shedder::series, int> kept;
  for (int i = 0; i < 100; ++i)
    for (auto& x : {a, b})
      kept[x] += !s.shed(x, 1, t0 + std::chrono::seconds{i});
  CHECK(kept[a] == 50);
  CHECK(kept[b] == 50);
  // Critical keeps one in four of each series, never none.
  sample_shedder c{10min};
  kept.clear();
  for (int i = 0; i < 100; ++i)
    for (auto& x : {a, b, a}) // a reports twice as often
      kept[x] += !c.shed(x, 2, t0 + std::chrono::seconds{i});
  CHECK(kept[a] == 50);
  CHECK(kept[b] == 25);
  // Normal: nothing is shed.
  for (int i = 0; i < 10; ++i)
    CHECK_FALSE(c.shed(b, 0, t0));
}

TEST_CASE("a series with an open incident or a recent change is never shed") {
  sample_shedder s{10min};
  const sample_shedder::series a{"coaster", "north"}, b{"gates", "north"};
  s.incident_opened(a, id_of(1));
  s.change_applied(b, t0 + 5s);
  for (int i = 0; i < 40; ++i) {
    CHECK_FALSE(s.shed(a, 2, t0 + std::chrono::seconds{i}));
    CHECK_FALSE(s.shed(b, 2, t0 + std::chrono::seconds{i}));
  }
  CHECK(s.is_protected(b, t0 + 5s + 10min - 1ns));
  CHECK_FALSE(s.is_protected(b, t0 + 5s + 10min));
  // An older change does not shorten a newer one's protection.
  s.change_applied(b, t0);
  CHECK(s.is_protected(b, t0 + 5s + 10min - 1ns));
  // Once the incident closes and the look-back passed, both are shed like the others.
  s.incident_closed(id_of(1));
  int shed_a = 0, shed_b = 0;
  for (int i = 0; i < 8; ++i) {
    shed_a += s.shed(a, 2, t0 + 1h);
    shed_b += s.shed(b, 2, t0 + 1h);
  }
  CHECK(shed_a == 6);
  CHECK(shed_b == 6);
  // Two incidents on one series: it stays protected until both closed.
  s.incident_opened(a, id_of(2));
  s.incident_opened(a, id_of(3));
  s.incident_closed(id_of(2));
  CHECK(s.is_protected(a, t0 + 1h));
  s.clear_incidents();
  CHECK_FALSE(s.is_protected(a, t0 + 1h));
}
