// The attempts store through the engine, on the virtual clock: every attempt to hand a
// candidate over is kept (failed and succeeded, with the journal's codes), listed by
// filters, kept across a restart, and pruned by the retention only once it is old.

#include <doctest/doctest.h>

#include <set>

#include "actors/incident/attempt_policy.hpp"
#include "integration/handoff_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

caf::timestamp stamp(std::chrono::system_clock::time_point t) {
  return caf::timestamp{std::chrono::duration_cast<caf::timespan>(t.time_since_epoch())};
}

int64_t ms_since_1970(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

/// The orchestrator is killed before each of the seconds around the confirmation, so
/// the first attempts fail; then one succeeds. Returns the journal's failed attempts.
std::vector<nlohmann::json> attempts_with_failures(handoff_fixture& f) {
  f.bad_change();
  f.tick(28);
  for (int i = 0; i < 4; ++i) {
    f.eng->advance(1s);
    REQUIRE(f.eng->chaos_kill("orchestrator").ok);
    f.feed();
  }
  f.tick(5);
  return f.records("orchestration_failed");
}

} // namespace

TEST_CASE_FIXTURE(handoff_fixture, "attempts: every attempt is kept, failed and succeeded") {
  REQUIRE(eng->attempts().status.ok);
  REQUIRE(eng->attempts().attempts.empty());
  auto failed = attempts_with_failures(*this);
  REQUIRE(!failed.empty());
  auto raised = records("candidate_raised");
  REQUIRE(raised.size() == 1);
  auto candidate = raised[0]["payload"]["candidate"].get<std::string>();
  auto all = eng->attempts();
  REQUIRE(all.status.ok);
  // One per failed attempt the journal holds, and the one that succeeded (newest first).
  REQUIRE(all.attempts.size() == failed.size() + 1);
  auto& ok = all.attempts.front();
  CHECK(ok.status == "succeeded");
  CHECK(ok.code.empty());
  CHECK(ok.error.empty());
  CHECK(ok.attempt == failed.size() + 1);
  std::set<std::string> ids;
  for (size_t i = 0; i < all.attempts.size(); ++i) {
    auto& a = all.attempts[i];
    CHECK(a.candidate == candidate);
    CHECK(a.service == "coaster");
    CHECK(a.region == "north");
    CHECK(a.duration >= 0ms);
    // Deterministic: SHA-256 of the candidate, the attempt's number and its start.
    digest c;
    REQUIRE(parse_digest(a.candidate, c));
    CHECK(a.id == to_hex(attempt_id(c, a.attempt, stamp(a.started))));
    ids.insert(a.id);
    if (i == 0)
      continue;
    // The failed ones, newest first, agree with their orchestration_failed records.
    auto& j = failed[failed.size() - i]["payload"];
    CHECK(a.status == "failed");
    CHECK(a.attempt == j["attempt"].get<uint32_t>());
    CHECK(a.code == j["code"].get<std::string>());
    CHECK(a.error == j["reason"].get<std::string>());
  }
  CHECK(ids.size() == all.attempts.size());
  // Filters: by status, by candidate, by series, and a limit.
  attempts_query q;
  q.status = "failed";
  CHECK(eng->attempts(q).attempts.size() == failed.size());
  q.status = "succeeded";
  CHECK(eng->attempts(q).attempts.size() == 1);
  q = {};
  q.candidate = candidate;
  CHECK(eng->attempts(q).attempts.size() == all.attempts.size());
  q.candidate = std::string(64, '0');
  CHECK(eng->attempts(q).attempts.empty());
  q = {};
  q.service = "gates";
  CHECK(eng->attempts(q).attempts.empty());
  q = {};
  q.limit = 1;
  auto newest = eng->attempts(q);
  REQUIRE(newest.attempts.size() == 1);
  CHECK(newest.attempts[0].id == ok.id);
  // The journal still holds exactly its own records of them.
  CHECK(records("orchestration_failed").size() == failed.size());
  CHECK(eng->verify().ok);
}

TEST_CASE_FIXTURE(handoff_fixture, "attempts: bad filters are refused and change nothing") {
  bad_change();
  tick(35);
  auto before = eng->attempts();
  REQUIRE(before.attempts.size() == 1);
  auto refused = [&](attempts_query q, const std::string& says) {
    auto r = eng->attempts(q);
    CHECK_FALSE(r.status.ok);
    CHECK(r.status.code == "INVALID_INPUT");
    CHECK_MESSAGE(r.status.message.find(says) != std::string::npos, r.status.message);
    CHECK(r.attempts.empty());
  };
  attempts_query q;
  q.candidate = "abc";
  refused(q, "args.candidate must be 64 hex characters");
  q = {};
  q.candidate = std::string(64, 'g');
  refused(q, "args.candidate");
  q = {};
  q.status = "maybe";
  refused(q, "args.status");
  q = {};
  q.limit = 0;
  refused(q, "args.limit");
  q.limit = 1001;
  refused(q, "args.limit");
  q = {};
  q.service = "two words";
  refused(q, "args.service");
  auto after = eng->attempts();
  REQUIRE(after.attempts.size() == 1);
  CHECK(after.attempts[0].id == before.attempts[0].id);
}

TEST_CASE_FIXTURE(handoff_fixture, "attempts: kept across a restart") {
  attempts_with_failures(*this);
  auto before = eng->attempts();
  REQUIRE(before.attempts.size() >= 2);
  restart();
  auto after = eng->attempts();
  REQUIRE(after.status.ok);
  REQUIRE(after.attempts.size() == before.attempts.size());
  for (size_t i = 0; i < after.attempts.size(); ++i) {
    CHECK(after.attempts[i].id == before.attempts[i].id);
    CHECK(after.attempts[i].status == before.attempts[i].status);
    CHECK(after.attempts[i].error == before.attempts[i].error);
    CHECK(after.attempts[i].started == before.attempts[i].started);
  }
}

TEST_CASE_FIXTURE(handoff_fixture, "attempts: retention prunes only the old ones, never the journal") {
  // Run 1, at the start: one anomaly, its attempts.
  auto t0 = eng->now();
  attempts_with_failures(*this);
  tick(60); // the rollback ran; the incident closed
  auto first = eng->attempts().attempts;
  REQUIRE(first.size() >= 2);
  auto journal_before = eng->head().first;
  // Run 2, 89 days later: the first run's attempts are younger than 90 days (kept);
  // a second anomaly adds one attempt.
  epoch_ms = ms_since_1970(t0) + std::chrono::milliseconds{std::chrono::hours{24 * 89}}.count();
  restart();
  CHECK(eng->attempts().attempts.size() == first.size());
  bad_change();
  tick(35);
  auto second = eng->attempts().attempts;
  REQUIRE(second.size() == first.size() + 1);
  auto young = second.front();
  CHECK(young.status == "succeeded");
  // Run 3, half an hour before the first run's attempts are 90 days old: all kept at the
  // start; an hour on, the keeper's timer prunes the first run's, and only those.
  epoch_ms = ms_since_1970(t0) + std::chrono::milliseconds{std::chrono::hours{24 * 90}}.count()
             - std::chrono::milliseconds{30min}.count();
  restart();
  CHECK(eng->attempts().attempts.size() == second.size());
  eng->advance(std::chrono::minutes{61});
  auto left = eng->attempts().attempts;
  REQUIRE(left.size() == 1);
  CHECK(left[0].id == young.id);
  // The journal keeps every record of both runs: its chain is untouched.
  CHECK(eng->head().first >= journal_before);
  CHECK(eng->verify().ok);
  CHECK(eng->candidates().size() == 2);
}

TEST_CASE("attempts: a retention outside 1 to 3650 days is refused at start") {
  temp_dir dir;
  for (auto days : {"0", "3651"}) {
    engine_options opts;
    opts.data_dir = dir.sub("journal");
    opts.virtual_clock = true;
    opts.config_file = dir.sub("bulwark.toml");
    std::ofstream{opts.config_file} << "[incident]\nattempt_retention_days = " << days << "\n";
    std::string err;
    CHECK_FALSE(engine::start(opts, &err));
    CHECK_MESSAGE(err.find("incident.attempt_retention_days") != std::string::npos, err);
  }
}
