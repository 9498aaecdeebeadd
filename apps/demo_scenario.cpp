#include "apps/demo_scenario.hpp"

#include <iomanip>
#include <set>
#include <sstream>

#include "messages/error.hpp"
#include "persistence/event_json.hpp"

namespace bulwark::cli {

using namespace std::chrono_literals;

namespace {

/// The refusal kinds the scenario must show.
const std::vector<std::string> expected_refusals = {
  "AUTHORITY_DENIED", "BLAST_RADIUS_EXCEEDED", "HALTED", "RATE_LIMITED", "INVALID_INPUT",
  "APPROVAL_EXPIRED", "CIRCUIT_OPEN"};

std::string short_id(const std::string& hex) {
  return hex.substr(0, 12);
}

} // namespace

demo_scenario::demo_scenario(demo_args args, std::string dir, std::vector<registration> fleet)
  : args_(std::move(args)), dir_(std::move(dir)), fleet_(std::move(fleet)), world_(args_.seed) {
}

bool demo_scenario::start(bool enforce) {
  engine_options opts;
  opts.data_dir = dir_;
  opts.virtual_clock = true;
  opts.admins = {"admin"};
  opts.operators = {"ops-alice"};
  opts.grants = {{"rollout-agent", 4}, {"ops-alice", 4}, {"intern", 1}, {"chatty-bot", 4}};
  opts.enforce_enabled = enforce;
  opts.observation_window = 30s;
  opts.approval_timeout = 5min;
  opts.rate_per_second = 1.0;
  opts.burst = 5.0;
  if (args_.autonomous)
    opts.rollback_level = 4;
  std::string err;
  eng_ = engine::start(opts, &err);
  if (!eng_) {
    violations_.push_back("engine did not start: " + err);
    return false;
  }
  std::set<std::string> services;
  for (auto& r : fleet_)
    services.insert(r.service);
  for (auto& s : services)
    eng_->register_effector(s, [this](const effect_request& r) { return world_.apply(r); });
  return true;
}

void demo_scenario::note(const std::string& what) {
  timeline_.push_back(format_time(caf::timestamp{std::chrono::duration_cast<caf::timespan>(
                        eng_->now().time_since_epoch())})
                      + "  " + what);
}

void demo_scenario::expect(bool ok, const std::string& what) {
  if (!ok)
    violations_.push_back(what);
}

void demo_scenario::expect_refusal(const result& r, const std::string& code,
                                   const std::string& what) {
  auto retry = r.retry_after ? " (retry after " + std::to_string(r.retry_after->count()) + " ms)"
                            : std::string{};
  note("  refused " + r.code + ": " + r.message + retry);
  expect(r.code == code, what + ": expected " + code + ", got '" + r.code + "' " + r.message);
  refusals_seen_.push_back(r.code);
}

result demo_scenario::submit_now(const proposal_request& p) {
  auto f = eng_->submit(p);
  eng_->run();
  if (f.wait_for(0s) != std::future_status::ready) {
    violations_.push_back("proposal " + p.idempotency_key + " did not finish");
    return {};
  }
  return f.get();
}

proposal_request demo_scenario::make(const std::string& principal, int level,
                                     const std::string& service, const std::string& region,
                                     std::vector<change> changes) {
  proposal_request p;
  p.idempotency_key = "demo-" + std::to_string(++counter_);
  p.principal = principal;
  p.level = level;
  p.services = {service};
  p.regions = {region};
  p.changes = std::move(changes);
  p.justification = "theme-park scenario";
  p.timeout = 30min;
  return p;
}

std::string demo_scenario::pick(const std::string& service, const std::string& region) {
  std::vector<std::string> ids;
  for (auto& r : fleet_)
    if (r.service == service && r.region == region)
      ids.push_back(r.resource.value);
  return ids.at(world_.rng()() % ids.size());
}

void demo_scenario::act_levels() {
  auto& rng = world_.rng();
  auto fw = "2." + std::to_string(rng() % 10) + ".0";
  auto c1 = pick("coaster", "north");
  auto c2 = c1;
  while (c2 == c1)
    c2 = pick("coaster", "north");
  note("rollout-agent: level 4, firmware " + fw + " on " + c1 + ", " + c2);
  auto rollout = make("rollout-agent", 4, "coaster", "north",
                      {{c1, "firmware", fw}, {c2, "firmware", fw}});
  auto r = submit_now(rollout);
  note("  " + r.status + ": " + std::to_string(r.applied) + " applied, proposal "
       + short_id(r.proposal));
  expect(r.ok && r.applied == 2, "level-4 rollout should succeed");
  auto again = submit_now(rollout);
  note("rollout-agent: the same proposal again (same idempotency key): " + again.status
       + ", first result returned");
  expect(again.proposal == r.proposal && world_.calls() == 2, "idempotent resubmission ran again");

  auto gate = pick("gates", "south");
  note("intern: level 1, " + gate + " mode=maintenance (waits for a person)");
  auto f = eng_->submit(make("intern", 1, "gates", "south", {{gate, "mode", "maintenance"}}));
  eng_->run();
  auto pending = eng_->pending();
  expect(pending.size() == 1, "level-1 proposal should wait for approval");
  if (!pending.empty()) {
    auto wrong = pending[0].proposal;
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    auto w = eng_->approve("ops-alice", wrong);
    note("ops-alice approves digest " + short_id(wrong) + "... (a typo)");
    expect_refusal(w, "INVALID_INPUT", "approval naming another digest");
    eng_->advance(2min);
    note("ops-alice approves digest " + short_id(pending[0].proposal) + "...");
    eng_->approve("ops-alice", pending[0].proposal);
  }
  auto l1 = f.get();
  note("  " + l1.status + ": " + gate + " mode=" + world_.value(gate, "mode"));
  expect(l1.ok, "approved level-1 proposal should succeed");

  note("intern: level 1, " + gate + " mode=closed; nobody answers");
  auto g = eng_->submit(make("intern", 1, "gates", "south", {{gate, "mode", "closed"}}));
  eng_->run();
  eng_->advance(5min + 1s);
  auto expired = g.get();
  note("  " + expired.status + " (" + expired.code + ") after the 5 min approval timeout");
  expect(expired.status == "expired" && expired.code == "APPROVAL_EXPIRED", "approval should expire");
  refusals_seen_.push_back(expired.code);

  std::vector<change> batch;
  std::set<std::string> chosen;
  while (chosen.size() < 3)
    chosen.insert(pick("pos", "north"));
  for (auto& id : chosen)
    batch.push_back(change{id, "price_table", "summer-" + std::to_string(args_.seed)});
  note("ops-alice: level 2 batch, price_table on 3 pos terminals (one review)");
  auto b = eng_->submit(make("ops-alice", 2, "pos", "north", batch));
  eng_->run();
  eng_->advance(1min);
  if (auto p = eng_->pending(); !p.empty())
    eng_->approve("admin", p[0].proposal);
  auto batch_ok = b.get();
  note("  " + batch_ok.status + ": " + std::to_string(batch_ok.applied) + " applied in one review");
  expect(batch_ok.ok && batch_ok.applied == 3, "reviewed batch should apply");

  auto bad = pick("pos", "south");
  auto good = bad;
  while (good == bad)
    good = pick("pos", "south");
  world_.break_key(bad, "price_table");
  note("ops-alice: level 2 batch on " + good + ", " + bad + " (" + bad + "'s controller refuses)");
  auto b2 = eng_->submit(make("ops-alice", 2, "pos", "south",
                              {{good, "price_table", "winter"}, {bad, "price_table", "winter"}}));
  eng_->run();
  if (auto p = eng_->pending(); !p.empty())
    eng_->approve("admin", p[0].proposal);
  auto failed = b2.get();
  world_.heal();
  note("  " + failed.status + " (" + failed.code + "): " + std::to_string(failed.compensated)
       + " compensated; " + good + " price_table='" + world_.value(good, "price_table") + "'");
  expect(failed.status == "failed" && failed.compensated == 1
           && world_.value(good, "price_table").empty(),
         "failed batch should leave nothing applied");

  auto l1a = pick("lights", "north");
  auto l2a = l1a;
  while (l2a == l1a)
    l2a = pick("lights", "north");
  note("rollout-agent: level 3, brightness on " + l1a + " then " + l2a + " (30 s observation)");
  auto s = eng_->submit(make("rollout-agent", 3, "lights", "north",
                             {{l1a, "brightness", "70"}, {l2a, "brightness", "70"}}));
  eng_->run();
  eng_->advance(10s);
  note("ops-alice watches " + l1a + " flicker and interrupts");
  auto running = eng_->running();
  expect(running.size() == 1 && eng_->pending().empty(), "level 3 runs without approval");
  if (!running.empty())
    eng_->interrupt("ops-alice", running[0].proposal);
  eng_->run();
  auto interrupted = s.get();
  note("  " + interrupted.status + ": " + std::to_string(interrupted.compensated)
       + " step rolled back; " + l1a + " brightness='" + world_.value(l1a, "brightness") + "'");
  expect(interrupted.status == "interrupted" && world_.value(l1a, "brightness").empty()
           && world_.value(l2a, "brightness").empty(),
         "interrupt should roll back the done steps");
}

void demo_scenario::act_refusals() {
  auto c = pick("coaster", "south");
  note("intern: level 3 on " + c);
  expect_refusal(submit_now(make("intern", 3, "coaster", "south", {{c, "mode", "x"}})),
                 "AUTHORITY_DENIED", "over grant");
  auto two = make("rollout-agent", 4, "coaster", "south", {{c, "mode", "x"}});
  two.services.push_back("gates");
  note("rollout-agent: one proposal declaring coaster and gates");
  expect_refusal(submit_now(two), "BLAST_RADIUS_EXCEEDED", "service scope");
  auto regions = make("rollout-agent", 4, "coaster", "south", {{c, "mode", "x"}});
  regions.regions.push_back("north");
  note("rollout-agent: one proposal declaring north and south");
  expect_refusal(submit_now(regions), "BLAST_RADIUS_EXCEEDED", "region scope");
  std::set<std::string> many;
  while (many.size() < 5)
    many.insert(pick("coaster", "south"));
  std::vector<change> changes;
  for (auto& id : many)
    changes.push_back(change{id, "mode", "fast"});
  note("rollout-agent: 5 of 80 coasters at once (the limit is 5% = 4)");
  expect_refusal(submit_now(make("rollout-agent", 4, "coaster", "south", changes)),
                 "BLAST_RADIUS_EXCEEDED", "percent scope");
  note("rollout-agent: a change to a resource that does not exist");
  expect_refusal(submit_now(make("rollout-agent", 4, "coaster", "south",
                                 {{"coaster-moon-01", "mode", "x"}})),
                 "INVALID_INPUT", "unknown resource");
  note("admin engages the halt");
  eng_->halt("admin", "storm warning");
  expect_refusal(submit_now(make("rollout-agent", 4, "coaster", "south", {{c, "mode", "x"}})),
                 "HALTED", "halt");
  auto read = submit_now(make("rollout-agent", 0, "coaster", "south", {}));
  note("  reads go on while halted: " + read.status);
  expect(read.ok, "reads during a halt");
  eng_->release("admin", "storm passed");
  note("admin releases the halt");
  auto g = pick("gates", "north");
  note("chatty-bot: 8 quick changes to " + g + " (burst 5, 1 per second)");
  result limited;
  for (int i = 0; i < 8 && limited.code.empty(); ++i) {
    auto r = submit_now(make("chatty-bot", 4, "gates", "north",
                             {{g, "queue_limit", std::to_string(100 + i)}}));
    if (!r.ok)
      limited = r;
  }
  expect_refusal(limited, "RATE_LIMITED", "rate limit");
}

std::string demo_scenario::breaker_state(const std::string& service) {
  for (auto& b : eng_->breakers())
    if (b.service == service)
      return b.state;
  return "none";
}

void demo_scenario::act_breaker() {
  note("the carousel controllers become unreachable");
  world_.break_service("carousel");
  const char* who[] = {"rollout-agent", "ops-alice"};
  for (int i = 0; i < 5; ++i) {
    auto id = pick("carousel", "north");
    auto r = submit_now(make(who[i % 2], 4, "carousel", "north", {{id, "speed", "slow"}}));
    note("  " + std::string{who[i % 2]} + ": level 4 speed=slow on " + id + ": " + r.status
         + " (" + r.code + ")");
    if (i < 4)
      eng_->advance(61min); // spaced out, so the rolling window does not refuse first
  }
  note("  carousel breaker: " + breaker_state("carousel") + " after 5 consecutive failures");
  expect(breaker_state("carousel") == "open", "breaker should open after 5 failures");
  auto calls = world_.calls();
  auto id = pick("carousel", "south");
  expect_refusal(submit_now(make("chatty-bot", 4, "carousel", "south", {{id, "speed", "slow"}})),
                 "CIRCUIT_OPEN", "open circuit");
  expect(world_.calls() == calls, "an open circuit must fail fast, before any effector runs");
  note("the controllers recover; 61 min later (past the 30 s cooldown) probes go through");
  world_.heal();
  eng_->advance(61min);
  // Two probes on one north controller, one in the south: within the fleet-wide budget
  // (5 % of 20 carousels per region is one resource).
  auto north = pick("carousel", "north");
  for (int i = 0; i < 3; ++i) {
    auto target = i == 2 ? pick("carousel", "south") : north;
    auto r = submit_now(make(who[i % 2], 4, "carousel", i == 2 ? "south" : "north",
                             {{target, "speed", "normal"}}));
    note("  probe " + std::to_string(i + 1) + ": " + r.status + ", breaker "
         + breaker_state("carousel"));
  }
  expect(breaker_state("carousel") == "closed", "breaker should close after 3 good probes");
}

void demo_scenario::act_restart() {
  note("rollout-agent: level 4 while Enforce is disabled in the configuration");
  auto c = pick("coaster", "north");
  expect_refusal(submit_now(make("rollout-agent", 4, "coaster", "north", {{c, "mode", "fast"}})),
                 "AUTHORITY_DENIED", "level 4 disabled");
  note("operator enables level 4 (authority.enforce_enabled) and restarts the node");
  eng_->stop();
  eng_.reset();
  if (!start(true))
    return;
  note("  restarted from the journal: head " + std::to_string(eng_->head().first)
       + ", in doubt: " + std::to_string(eng_->in_doubt().size()));
  expect(eng_->in_doubt().empty(), "no action in doubt after a clean restart");
}

void demo_scenario::finish() {
  auto live = eng_->state_digest();
  auto head = eng_->head();
  auto verified = eng_->verify();
  // Every value the effectors set is what the journal's projection holds.
  size_t checked = 0;
  for (auto& r : fleet_)
    for (auto* key : {"firmware", "mode", "price_table", "brightness", "queue_limit", "speed"}) {
      auto w = world_.value(r.resource.value, key);
      if (w.empty())
        continue;
      ++checked;
      auto j = eng_->attribute(r.resource.value, key);
      expect(j && *j == w, "journal and world differ for " + r.resource.value + "/" + key);
    }
  eng_->stop();
  eng_.reset();
  auto replayed = replayed_digest(dir_);
  std::set<std::string> seen(refusals_seen_.begin(), refusals_seen_.end());
  for (auto& code : expected_refusals)
    expect(seen.count(code) != 0, "refusal " + code + " was not shown");
  expect(verified.ok, "chain verification failed: " + verified.message);
  expect(!replayed.empty() && replayed == live, "replayed state differs from the live state");
  summary_ = {{"started", true},
              {"data", dir_},
              {"seed", args_.seed},
              {"events", head.first},
              {"head_chain", head.second},
              {"chain_verified", verified.ok},
              {"state_digest", live},
              {"replay_digest_matches", replayed == live},
              {"effector_calls", world_.calls()},
              {"compensations", world_.compensations()},
              {"world_values_checked", checked},
              {"refusals_shown", std::vector<std::string>(seen.begin(), seen.end())},
              {"incident", incident_summary_},
              {"violations", violations_},
              {"invariants_held", violations_.empty()}};
}

nlohmann::json demo_scenario::run() {
  if (!start(false))
    return {{"started", false}, {"violations", violations_}};
  note("registering " + std::to_string(fleet_.size()) + " resources from the fleet file");
  for (auto& r : fleet_) {
    std::map<std::string, std::string> attrs(r.attributes.begin(), r.attributes.end());
    auto res = eng_->register_resource(r.resource.value, r.service, r.region, attrs);
    expect(res.ok, "registration of " + r.resource.value + " failed: " + res.message);
  }
  auto read = submit_now(make("rollout-agent", 0, "coaster", "north", {}));
  note("rollout-agent: level 0 query: " + read.status);
  act_restart();
  if (!eng_)
    return {{"started", false}, {"violations", violations_}};
  act_levels();
  act_refusals();
  act_breaker();
  act_incident();
  finish();
  return summary_;
}

void demo_scenario::print(std::ostream& out) const {
  out << "Bulwark demo: theme park, seed " << args_.seed << ", virtual clock\n\n";
  for (auto& line : timeline_)
    out << "  " << line << '\n';
  out << "\nSummary\n";
  if (summary_.empty()) {
    for (auto& v : violations_)
      out << "  " << v << '\n';
    return;
  }
  auto row = [&](const char* k, const std::string& v) {
    out << "  " << std::left << std::setw(22) << k << v << '\n';
  };
  row("journal", summary_["data"].get<std::string>());
  row("events journaled", std::to_string(summary_["events"].get<uint64_t>()));
  row("head chain", summary_["head_chain"].get<std::string>());
  row("chain verified", summary_["chain_verified"].get<bool>() ? "yes" : "NO");
  row("state digest", summary_["state_digest"].get<std::string>());
  row("replay matches live", summary_["replay_digest_matches"].get<bool>() ? "yes" : "NO");
  row("effector calls", std::to_string(world_.calls()) + " (" + std::to_string(world_.compensations())
                          + " compensations)");
  if (auto& inc = summary_["incident"]; inc.is_object() && inc.contains("id")) {
    row("incident", inc["id"].get<std::string>().substr(0, 16) + " (" + inc["severity"].get<std::string>()
                      + ", " + inc["status"].get<std::string>() + ")");
    row("culprit seqs", inc["culprit_seqs"].dump());
    row("detection latency", std::to_string(inc["detection_ms"].get<int64_t>()) + " ms simulated");
    row("MTTR", std::to_string(inc["mttr_ms"].get<int64_t>()) + " ms simulated (target <= "
                  + std::to_string(inc["mttr_target_ms"].get<int64_t>()) + ")");
    row("rollback", inc["rollback_mode"].get<std::string>());
  }
  row("refusals shown", std::to_string(summary_["refusals_shown"].size()) + " kinds");
  for (auto& v : violations_)
    row("VIOLATION", v);
  row("invariants", violations_.empty() ? "all held" : "VIOLATED");
}

} // namespace bulwark::cli
