// The recovery half end to end on the virtual clock: the seed's five chaos scenarios,
// replay determinism, deferral, emission failures, rollback conflicts and bad input.

#include <fstream>

#include "integration/engine_fixture.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/replay.hpp"
#include "support/journal_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

/// The engine fixture plus metric feeding: error rates follow the world's values.
struct incident_fixture : engine_fixture {
  bool auto_approve = true;
  std::map<std::pair<std::string, std::string>, double> outage; ///< series -> forced rate

  /// The error rate of a series: forced, else 30 % while any of its resources runs
  /// mode=bad (for coaster/north, also gates/north when `cascade`), else 1 %.
  bool cascade = false;
  double rate(const std::string& service, const std::string& region) {
    if (auto i = outage.find({service, region}); i != outage.end())
      return i->second;
    bool bad = false;
    for (auto& [k, v] : world)
      if (v == "bad") {
        int n = std::stoi(k.substr(8, k.find('/') - 8));
        bad |= (service == "coaster" && (region == "north") == (n < 20))
               || (cascade && service == "gates" && region == "north" && n < 20);
      }
    return bad ? 0.3 : 0.01;
  }

  /// `n` simulated seconds: every series reports; pending rollbacks are approved.
  void tick(int n = 1) {
    for (int i = 0; i < n; ++i) {
      eng->advance(1s);
      for (auto [s, r] : {std::pair{"coaster", "north"}, {"coaster", "south"}, {"gates", "north"}})
        REQUIRE(eng->feed_metric(metric_sample{s, r, rate(s, r), 12.0, eng->now()}));
      if (auto_approve)
        for (auto& id : eng->pending_rollbacks())
          CHECK(eng->approve("ops", id).ok);
    }
  }

  /// Open incidents, escalated ones included (escalated is a flag on an open incident).
  std::vector<incident_info> open_incidents() {
    std::vector<incident_info> out;
    for (auto& i : eng->incidents())
      if (i.status == "open" || i.status == "escalated")
        out.push_back(i);
    return out;
  }

  /// The applied seqs of a proposal (from the committed events).
  std::vector<uint64_t> applied_seqs(const std::string& proposal) {
    std::vector<uint64_t> out;
    for (auto& e : events)
      if (e.type == "action_applied" && e.json.find(proposal) != std::string::npos)
        out.push_back(e.seq);
    return out;
  }
};

std::set<uint64_t> as_set(const std::vector<uint64_t>& xs) {
  return {xs.begin(), xs.end()};
}

} // namespace

TEST_CASE("scenario 1: one service fails, the others keep working, recovery is verified") {
  incident_fixture f;
  f.tick(20);
  auto bad = f.submit_now(f.make(4, {set(1, "bad"), set(2, "bad")}));
  REQUIRE(bad.ok);
  auto onset_after = f.eng->now();
  // While coaster/north fails, the gates keep taking changes.
  f.tick(10);
  auto other = f.submit_now(f.make(4, {change{"gate-3", "mode", "open"}}, {"gates"}));
  CHECK(other.ok);
  f.tick(60);
  auto all = f.eng->incidents();
  REQUIRE(all.size() == 1);
  auto& inc = all.front();
  CHECK(inc.service == "coaster");
  CHECK(inc.region == "north");
  CHECK(as_set(inc.culprits) == as_set(f.applied_seqs(bad.proposal)));
  CHECK(inc.status == "recovered");
  CHECK(inc.rollback_result == "succeeded");
  CHECK(f.world["coaster-1/mode"] == "normal");
  CHECK(f.world["coaster-2/mode"] == "normal");
  CHECK(f.world["gate-3/mode"] == "open"); // isolation: the other service's change stands
  // Scenario 4: recovery within the MTTR target (confirmation + verification + 1 s).
  CHECK(inc.mttr <= 61s);
  CHECK(inc.onset - onset_after <= 1s);
  for (auto& c : f.eng->candidates())
    CHECK(c.service + "/" + c.region == "coaster/north");
}

TEST_CASE("scenario 2: a region is lost, the other region is unaffected") {
  incident_fixture f;
  f.tick(20);
  f.outage[{"coaster", "south"}] = 0.9;
  f.tick(40);
  auto open = f.open_incidents();
  REQUIRE(open.size() == 1);
  CHECK(open[0].region == "south");
  CHECK(open[0].culprits.empty()); // nothing was changed there: nothing to roll back
  CHECK(open[0].severity == "P0");
  // A P0's respond_by is its opening: nobody acknowledged it, so it is escalated at once.
  CHECK(open[0].status == "escalated");
  // North keeps working during the outage.
  CHECK(f.submit_now(f.make(4, {set(3, "fast")})).ok);
  f.outage.clear();
  f.tick(40);
  auto all = f.eng->incidents();
  REQUIRE(all.size() == 1);
  CHECK(all[0].status == "recovered");
  for (auto& c : f.eng->candidates())
    CHECK(c.region == "south");
}

TEST_CASE("scenario 3: a cascade across two services is traced to the true culprit") {
  incident_fixture f;
  f.cascade = true;
  f.tick(20);
  auto bad = f.submit_now(f.make(4, {set(4, "bad")}));
  REQUIRE(bad.ok);
  f.tick(90);
  auto all = f.eng->incidents();
  REQUIRE(all.size() == 2);
  auto culprit = as_set(f.applied_seqs(bad.proposal));
  for (auto& inc : all) {
    CHECK(as_set(inc.culprits) == culprit); // gates/north is traced to the coaster change
    CHECK(inc.status == "recovered");
  }
  // The culprit was reverted exactly once.
  size_t reverts = 0;
  for (auto& e : f.events)
    reverts += e.type == "rollback_applied";
  CHECK(reverts == culprit.size());
}

TEST_CASE("scenario 5: journal corruption is detected and refuses to replay") {
  std::string data;
  {
    incident_fixture f;
    f.tick(20);
    REQUIRE(f.submit_now(f.make(4, {set(5, "bad")})).ok);
    f.tick(70);
    REQUIRE(f.eng->incidents().size() == 1);
    data = f.dir.sub("journal");
    f.eng->stop();
    test::tamper_value(data, 30, [](std::vector<uint8_t>& v) { v[v.size() - 1] ^= 0x01; });
    store_options opts;
    opts.dir = data;
    opts.read_only = true;
    auto store = journal_store::open(opts);
    REQUIRE(store);
    auto report = (*store)->verify(seq_no{1}, seq_no{UINT64_MAX});
    CHECK_FALSE(report.ok);
    CHECK(report.first_bad == seq_no{30});
    auto r = replay(**store, replay_options{seq_no{UINT64_MAX}, true, true});
    CHECK_FALSE(r);
  }
}

TEST_CASE("the whole scenario replays to the same state, ids and incident count") {
  incident_fixture f;
  f.tick(20);
  REQUIRE(f.submit_now(f.make(4, {set(6, "bad")})).ok);
  f.tick(70);
  auto live = f.eng->state_digest();
  auto before = f.eng->incidents();
  REQUIRE(before.size() == 1);
  f.restart();
  CHECK(f.eng->state_digest() == live);
  f.tick(60); // a healthy fleet after the restart opens nothing new
  auto after = f.eng->incidents();
  REQUIRE(after.size() == 1);
  CHECK(after[0].id == before[0].id);
  f.eng->stop();
  store_options opts;
  opts.dir = f.dir.sub("journal");
  opts.read_only = true;
  auto store = journal_store::open(opts);
  REQUIRE(store);
  auto r = replay(**store, replay_options{seq_no{UINT64_MAX}, true, true});
  REQUIRE(r);
  CHECK(r->proj.state().incidents.size() == 1);
  CHECK(to_hex(r->proj.state().incidents.begin()->first) == before[0].id);
}

TEST_CASE("a deferred candidate is never retried, only an operator promotes it") {
  temp_dir cfgdir;
  auto path = cfgdir.sub("bulwark.toml");
  std::ofstream{path} << "[[incident.policy]]\nid = \"default\"\nverdict = \"DEFER\"\n";
  incident_fixture f;
  f.eng->stop();
  engine_options opts;
  opts.config_file = path;
  opts.data_dir = f.dir.sub("journal");
  opts.virtual_clock = true;
  opts.grants = {{"agent", 4}};
  opts.operators = {"ops"};
  opts.enforce_enabled = true;
  std::string err;
  f.eng = engine::start(opts, &err);
  REQUIRE_MESSAGE(f.eng, err);
  f.eng->register_effector("coaster", [&f](const effect_request& r) { return f.effect(r); });
  f.tick(20);
  REQUIRE(f.submit_now(f.make(4, {set(7, "bad")})).ok);
  f.tick(120);
  auto cands = f.eng->candidates();
  REQUIRE(cands.size() == 1);
  CHECK(cands[0].verdict == "DEFER");
  CHECK(f.eng->incidents().empty());
  CHECK(f.world["coaster-7/mode"] == "bad"); // nothing ran on its own
  auto p = f.eng->promote("ops", cands[0].id, "looked at it");
  REQUIRE_MESSAGE(p.ok, p.message);
  auto again = f.eng->promote("ops", cands[0].id);
  CHECK(again.status == "repeated");
  CHECK(again.proposal == p.proposal);
  f.tick(5);
  auto incs = f.eng->incidents();
  REQUIRE(incs.size() == 1);
  CHECK(incs[0].id == p.proposal);
  CHECK(f.eng->promote("ops", std::string(64, 'a')).code == "INVALID_INPUT");
}

TEST_CASE("a failing subscriber does not affect decisions or incidents") {
  incident_fixture f;
  f.eng->subscribe([](const committed_event&) { throw std::runtime_error("host bug"); });
  f.tick(20);
  REQUIRE(f.submit_now(f.make(4, {set(8, "bad")})).ok);
  f.tick(70);
  auto all = f.eng->incidents();
  REQUIRE(all.size() == 1);
  CHECK(all[0].status == "recovered");
}

TEST_CASE("a short spike under the confirmation window opens nothing") {
  incident_fixture f;
  f.tick(20);
  f.outage[{"coaster", "north"}] = 0.95;
  f.tick(15);
  f.outage.clear();
  f.tick(60);
  CHECK(f.eng->candidates().empty());
  CHECK(f.eng->incidents().empty());
}

TEST_CASE("garbage metrics are refused and counted, never an incident") {
  incident_fixture f;
  f.tick(20);
  auto now = f.eng->now();
  auto nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(f.eng->feed_metric({"coaster", "north", nan, 1, now}));
  CHECK_FALSE(f.eng->feed_metric({"coaster", "north", -1, 1, now}));
  CHECK_FALSE(f.eng->feed_metric({"coaster", "north", 7, 1, now}));
  CHECK_FALSE(f.eng->feed_metric({"moon", "north", 0.5, 1, now}));
  CHECK_FALSE(f.eng->feed_metric({"coaster", "north", 0.9, 1, now + 1h}));
  CHECK_FALSE(f.eng->feed_metric({"coaster", "north", 0.9, 1, now - 1h}));
  auto c = f.eng->metric_stats();
  CHECK(c.bad_value == 3);
  CHECK(c.unknown_series == 1);
  CHECK(c.future == 1);
  CHECK(c.out_of_order == 1);
  CHECK(c.accepted == 60);
  f.tick(40);
  CHECK(f.eng->incidents().empty());
}

TEST_CASE("rollback conflicts, bad seqs and repeated rollbacks get clear answers") {
  incident_fixture f;
  auto a = f.submit_now(f.make(4, {set(9, "a")}));
  auto b = f.submit_now(f.make(4, {set(9, "b")}));
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  auto sa = f.applied_seqs(a.proposal), sb = f.applied_seqs(b.proposal);
  REQUIRE(sa.size() == 1);
  REQUIRE(sb.size() == 1);
  auto head = f.eng->head().first;
  auto conflict = f.eng->rollback_seqs("ops", sa);
  CHECK(conflict.code == "INVALID_INPUT");
  CHECK(conflict.message.find("seq " + std::to_string(sb[0]) + " changed coaster-9.mode")
        != std::string::npos);
  CHECK(f.eng->head().first == head); // refused: nothing journaled
  CHECK(f.eng->rollback_seqs("ops", {head + 100}).message.find("does not exist") != std::string::npos);
  CHECK(f.eng->rollback_seqs("ops", {1}).message.find("not an applied action") != std::string::npos);
  CHECK(f.eng->rollback_seqs("ops", {}).code == "INVALID_INPUT");
  CHECK(f.eng->rollback("ops", "zz").code == "INVALID_INPUT");
  CHECK(f.eng->rollback("ops", std::string(64, 'b')).message.find("unknown incident") != std::string::npos);
  auto both = f.eng->rollback_seqs("ops", {sa[0], sb[0]});
  REQUIRE_MESSAGE(both.ok, both.message);
  CHECK(both.status == "succeeded");
  CHECK(both.applied == 2);
  CHECK(f.world["coaster-9/mode"] == "normal");
  CHECK(f.eng->attribute("coaster-9", "mode") == std::optional<std::string>{"normal"});
  auto twice = f.eng->rollback_seqs("ops", {sb[0]});
  CHECK(twice.message.find("already rolled back") != std::string::npos);
}

TEST_CASE("rollbacks fail closed: halted or without governance nothing runs") {
  incident_fixture f;
  auto a = f.submit_now(f.make(4, {set(10, "x")}));
  REQUIRE(a.ok);
  auto seqs = f.applied_seqs(a.proposal);
  REQUIRE(f.eng->halt("admin", "drill").ok);
  auto r = f.eng->rollback_seqs("ops", seqs);
  CHECK(r.code == "HALTED");
  CHECK(f.world["coaster-10/mode"] == "x");
  REQUIRE(f.eng->release("admin", "drill").ok);
  CHECK(f.eng->rollback_seqs("ops", seqs).ok);
  CHECK(f.world["coaster-10/mode"] == "normal");
}

TEST_CASE("after a restart, rollbacks of older changes still find every later conflict") {
  // The executor's conflict index starts empty at the head and reaches back on demand.
  incident_fixture f;
  auto a = f.submit_now(f.make(4, {set(11, "a"), set(12, "a")}));
  auto b = f.submit_now(f.make(4, {set(11, "b")}));
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  auto sa = f.applied_seqs(a.proposal), sb = f.applied_seqs(b.proposal);
  REQUIRE(sa.size() == 2);
  REQUIRE(sb.size() == 1);
  f.restart();
  auto head = f.eng->head().first;
  auto conflict = f.eng->rollback_seqs("ops", {sa[0]});
  CHECK(conflict.code == "INVALID_INPUT");
  CHECK_MESSAGE(conflict.message.find("seq " + std::to_string(sb[0]) + " changed coaster-11.mode after seq "
                                      + std::to_string(sa[0]))
                  != std::string::npos,
                conflict.message);
  CHECK(f.eng->head().first == head);
  // A change made after the restart is followed, not read back: it conflicts too.
  auto c = f.submit_now(f.make(4, {set(12, "c")}));
  REQUIRE(c.ok);
  auto sc = f.applied_seqs(c.proposal);
  REQUIRE(sc.size() == 1);
  auto late = f.eng->rollback_seqs("ops", {sa[1]});
  CHECK(late.message.find("seq " + std::to_string(sc[0]) + " changed coaster-12.mode")
        != std::string::npos);
  auto all = f.eng->rollback_seqs("ops", {sa[0], sa[1], sb[0], sc[0]});
  REQUIRE_MESSAGE(all.ok, all.message);
  CHECK(all.applied == 4);
  CHECK(f.eng->attribute("coaster-11", "mode") == std::optional<std::string>{"normal"});
  CHECK(f.eng->attribute("coaster-12", "mode") == std::optional<std::string>{"normal"});
}

TEST_CASE("an incident's rollback refused during a halt is ordered at the halt's release") {
  incident_fixture f;
  f.tick(20);
  auto bad = f.submit_now(f.make(4, {set(1, "bad"), set(2, "bad")}));
  REQUIRE(bad.ok);
  REQUIRE(f.eng->halt("admin", "drill").ok);
  f.auto_approve = false;
  f.tick(60); // the incident opens; its rollback waits for the release
  auto open = f.open_incidents();
  REQUIRE(open.size() == 1);
  CHECK(f.eng->pending_rollbacks().empty());
  CHECK(f.world["coaster-1/mode"] == "bad");
  size_t requested = 0;
  for (auto& e : f.events)
    requested += e.type == "rollback_requested";
  CHECK(requested == 0);
  REQUIRE(f.eng->release("admin", "drill").ok);
  f.eng->run();
  f.auto_approve = true; // the default policy's rollback waits for an operator
  f.tick(60);
  CHECK(f.world["coaster-1/mode"] == "normal");
  CHECK(f.world["coaster-2/mode"] == "normal");
  auto all = f.eng->incidents();
  REQUIRE(all.size() == 1);
  CHECK(all.front().rollback_result == "succeeded");
}

TEST_CASE("during a halt an admin's explicit rollback runs, an operator's waits") {
  incident_fixture f;
  auto a = f.submit_now(f.make(4, {set(10, "x")}));
  REQUIRE(a.ok);
  auto seqs = f.applied_seqs(a.proposal);
  REQUIRE(f.eng->halt("admin", "drill").ok);
  auto waits = f.eng->rollback_seqs("ops", seqs);
  CHECK(waits.code == "HALTED");
  CHECK(waits.message.find("an admin's explicit order runs one") != std::string::npos);
  CHECK(f.world["coaster-10/mode"] == "x");
  auto runs = f.eng->rollback_seqs("admin", seqs, "stop the bleeding");
  CHECK_MESSAGE(runs.ok, runs.code << ": " << runs.message);
  CHECK(f.world["coaster-10/mode"] == "normal");
}
