// Audited policy through the embedding API: the policy is journaled at start when it
// changed, a reload journals its differences before anything runs under it (or the
// refusal of an invalid file, with nothing changed), every decision names the version in
// force with every declared service and region, so its digest is recomputed from the
// journal alone; the orchestrator's own principal is not a client's.

#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "actors/pipeline/validation.hpp"
#include "engine/engine_impl.hpp"
#include "integration/engine_fixture.hpp"
#include "integration/journal_records.hpp"
#include "persistence/event_json.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using nlohmann::json;
using test::engine_fixture;
using test::set;

namespace {

/// Rewrites the fixture's configuration file (what a reload reads).
void rewrite(engine_fixture& f, const std::string& toml) {
  f.config_toml = toml;
  std::ofstream{f.dir.sub("bulwark.toml")} << toml;
}

const char* base = "[authority]\nmax_batch = 50\n[authority.grants]\nci = 1\n";
const char* raised = "[authority]\nmax_batch = 50\n[authority.grants]\nci = 3\n"
                     "[blast_radius]\nmax_percent = 10.0\n";

} // namespace

TEST_CASE("policy: the first start journals it, an unchanged restart nothing, a changed one "
          "its differences") {
  engine_fixture f{base};
  auto v1 = f.eng->policy_version();
  CHECK(v1.size() == 64);
  auto first = test::stored(*f.eng, "policy_changed");
  REQUIRE(first.size() == 1);
  CHECK(first[0]["seq"] == 1); // before anything else
  auto& p = first[0]["payload"];
  CHECK(p["version"] == v1);
  CHECK(p["previous"] == "");
  CHECK(p["by"] == "config");
  CHECK(p["cause"] == "start");
  CHECK(p["entries"]["authority.max_batch"] == "50");
  CHECK(p["entries"]["authority.grant.ci"] == "1");
  CHECK(p["entries"]["authority.grant.agent"] == "4"); // the options' grants are policy too
  CHECK(p["changes"].size() == p["entries"].size()); // every key is new
  f.restart();
  CHECK(f.eng->policy_version() == v1);
  CHECK(test::stored(*f.eng, "policy_changed").size() == 1);
  rewrite(f, "[authority]\nmax_batch = 60\n[authority.grants]\nci = 1\n");
  f.restart();
  auto after = test::stored(*f.eng, "policy_changed");
  REQUIRE(after.size() == 2);
  auto& q = after[1]["payload"];
  CHECK(q["previous"] == v1);
  CHECK(q["version"] == f.eng->policy_version());
  CHECK(q["version"] != v1);
  REQUIRE(q["changes"].size() == 1);
  CHECK(q["changes"][0] == json{{"key", "authority.max_batch"}, {"before", "50"}, {"after", "60"}});
}

TEST_CASE("policy: an admin's reload is journaled and the next decision runs under it") {
  engine_fixture f{base};
  auto v1 = f.eng->policy_version();
  // ci holds level 1: a level-3 proposal is refused.
  auto before = f.submit_now(engine_fixture::make(3, {set(21, "a")}, {"coaster"}, {"south"},
                                                  "k-ci-1", "ci"));
  CHECK(before.code == "AUTHORITY_DENIED");
  std::vector<change> four;
  for (int i = 10; i < 14; ++i)
    four.push_back(set(i, "wide"));
  auto narrow = f.submit_now(engine_fixture::make(4, four, {"coaster"}, {"north"}, "k-wide-0"));
  CHECK(narrow.code == "BLAST_RADIUS_EXCEEDED"); // 10 % of the region, over 5 %
  rewrite(f, raised);
  // Only an admin reloads; the refusal changes nothing.
  auto denied = f.eng->reload_policy("ops");
  CHECK(denied.status.code == "AUTHORITY_DENIED");
  CHECK(f.eng->policy_version() == v1);
  CHECK(test::stored(*f.eng, "policy_changed").size() == 1);
  auto r = f.eng->reload_policy("admin");
  REQUIRE_MESSAGE(r.status.ok, r.status.code << ": " << r.status.message);
  CHECK(r.changed);
  CHECK(r.previous == v1);
  CHECK(r.version == f.eng->policy_version());
  REQUIRE(r.changes.size() == 2);
  CHECK(r.changes[0].key == "authority.grant.ci");
  CHECK(r.changes[0].before == std::optional<std::string>{"1"});
  CHECK(r.changes[0].after == std::optional<std::string>{"3"});
  CHECK(r.changes[1].key == "blast_radius.max_percent");
  auto journaled = test::stored(*f.eng, "policy_changed");
  REQUIRE(journaled.size() == 2);
  CHECK(journaled[1]["payload"]["by"] == "admin");
  CHECK(journaled[1]["payload"]["cause"] == "reload");
  CHECK(journaled[1]["payload"]["version"] == r.version);
  // The raised grant holds from the next decision on, and so does the wider blast radius
  // (4 of the 40 northern coasters is 10 %).
  auto after = f.eng->submit(engine_fixture::make(3, {set(21, "a")}, {"coaster"}, {"south"},
                                                  "k-ci-2", "ci"));
  f.eng->run();
  f.eng->advance(6s); // its step's observation window
  REQUIRE(after.wait_for(0s) == std::future_status::ready);
  auto ran = after.get();
  CHECK_MESSAGE(ran.ok, ran.code << ": " << ran.message);
  auto wide = f.submit_now(engine_fixture::make(4, four, {"coaster"}, {"north"}, "k-wide"));
  CHECK_MESSAGE(wide.ok, wide.code << ": " << wide.message);
  // Each decision names the version it was made under, right after it.
  auto bases = test::stored(*f.eng, "decision_basis");
  auto decisions = test::stored(*f.eng, "proposal_decided");
  REQUIRE(bases.size() == decisions.size());
  REQUIRE(bases.size() >= 3);
  for (size_t i = 0; i < bases.size(); ++i) {
    CHECK(bases[i]["seq"] == decisions[i]["seq"].get<uint64_t>() + 1);
    CHECK(bases[i]["payload"]["proposal"] == decisions[i]["payload"]["proposal"]);
  }
  CHECK(bases[0]["payload"]["policy_version"] == v1);
  CHECK(bases.back()["payload"]["policy_version"] == r.version);
  // A reload of the same file changes nothing and journals nothing.
  auto same = f.eng->reload_policy("admin");
  CHECK(same.status.ok);
  CHECK(!same.changed);
  CHECK(test::stored(*f.eng, "policy_changed").size() == 2);
  // A restart keeps the reloaded policy: the file says the same, nothing is journaled.
  f.restart();
  CHECK(f.eng->policy_version() == r.version);
  CHECK(test::stored(*f.eng, "policy_changed").size() == 2);
}

TEST_CASE("policy: an invalid reload is refused whole, journaled with its reason, and the "
          "policy in force stays") {
  engine_fixture f{base};
  auto v1 = f.eng->policy_version();
  for (auto* bad : {"[authority]\nmax_batch = 0\n", "[authority\n",
                    "[authority.grants]\nci = 9\n", "[blast_radius]\nmax_percent = 150.0\n"}) {
    CAPTURE(bad);
    rewrite(f, bad);
    auto r = f.eng->reload_policy("admin");
    CHECK(!r.status.ok);
    CHECK(r.status.code == "INVALID_INPUT");
    CHECK(r.status.message.find("the policy was not reloaded") == 0);
    CHECK(!r.changed);
    CHECK(f.eng->policy_version() == v1);
  }
  auto refused = test::stored(*f.eng, "policy_refused");
  REQUIRE(refused.size() == 4);
  CHECK(refused[0]["payload"]["by"] == "admin");
  CHECK(refused[0]["payload"]["cause"] == "reload");
  CHECK(refused[0]["payload"]["reason"].get<std::string>().find("max_batch")
        != std::string::npos);
  CHECK(test::stored(*f.eng, "policy_changed").size() == 1);
  // The old grant still rules.
  auto r = f.submit_now(engine_fixture::make(3, {set(1, "a")}, {"coaster"}, {"north"},
                                             "k-ci", "ci"));
  CHECK(r.code == "AUTHORITY_DENIED");
  // A cause that is neither "reload" nor "signal" is refused before anything is read.
  CHECK(f.eng->reload_policy("admin", "whim").status.code == "INVALID_INPUT");
  CHECK(test::stored(*f.eng, "policy_refused").size() == 4);
}

TEST_CASE("policy: an engine started without a configuration file has nothing to reload") {
  engine_fixture f;
  CHECK(f.eng->policy_version().size() == 64);
  CHECK(test::stored(*f.eng, "policy_changed").size() == 1);
  auto r = f.eng->reload_policy("admin");
  CHECK(r.status.code == "INVALID_INPUT");
  CHECK(r.status.message.find("without a configuration file") != std::string::npos);
}

TEST_CASE("decision basis: a proposal's digest is recomputed from the journal alone") {
  engine_fixture f{"[blast_radius]\nmax_services = 2\nmax_regions = 2\n"};
  auto two = engine_fixture::make(2, {set(1, "x"), set(25, "y")}, {"coaster", "gates"},
                                  {"north", "south"}, "k-two");
  two.approval_window = std::chrono::seconds{30}; // content: in the digest
  auto fut = f.eng->submit(two);
  f.eng->run();
  auto refused = f.submit_now(engine_fixture::make(4, {set(2, "z")}, {"coaster"}, {"north"},
                                                   "k-low", "low"));
  CHECK(refused.code == "AUTHORITY_DENIED");
  auto decisions = test::stored(*f.eng, "proposal_decided");
  auto bases = test::stored(*f.eng, "decision_basis");
  REQUIRE(decisions.size() == 2);
  REQUIRE(bases.size() == 2);
  CHECK(bases[0]["payload"]["services"] == json{"coaster", "gates"});
  CHECK(bases[0]["payload"]["regions"] == json{"north", "south"});
  for (size_t i = 0; i < 2; ++i) {
    auto& d = decisions[i]["payload"];
    auto& b = bases[i]["payload"];
    proposal p;
    p.idempotency_key = d["idempotency_key"];
    p.principal = principal_id{d["principal"].get<std::string>()};
    p.level = static_cast<authority_level>(d["level"].get<int>());
    p.services = b["services"].get<std::vector<std::string>>();
    p.regions = b["regions"].get<std::vector<std::string>>();
    for (auto& m : d["mutations"])
      p.mutations.push_back(mutation{resource_id{m["resource"].get<std::string>()},
                                     m["key"].get<std::string>(), m["value"].get<std::string>()});
    p.justification = d["justification"];
    if (!b["approval_window_ms"].is_null())
      p.approval_window = caf::timespan{std::chrono::milliseconds{b["approval_window_ms"].get<int64_t>()}};
    CHECK(to_hex(proposal_digest(p)) == d["proposal"]);
  }
}

TEST_CASE("AUTO_ENGINE is the engine's own principal: no client proposes as it") {
  engine_fixture f;
  auto r = f.submit_now(engine_fixture::make(1, {set(1, "x")}, {"coaster"}, {"north"}, "k-ae",
                                             "AUTO_ENGINE"));
  CHECK(r.code == "INVALID_INPUT");
  CHECK(r.message.find("the engine's own") != std::string::npos);
  CHECK(test::stored(*f.eng, "proposal_decided").size() == 1); // the refusal is journaled
}
