// The simulation's workload and faults: every draw comes from the seed's one PRNG, in
// program order, so a seed replays exactly.

#include <array>
#include <cstdio>

#include "engine/engine_impl.hpp"
#include "sim/sim_driver.hpp"

namespace bulwark::sim {
namespace {

using namespace std::chrono_literals;

// Every actor of the tree, those behind the doors too (journal, blast radius, pipeline,
// rollback executor).
constexpr std::array<const char*, 11> killable{
  "authority",       "admission",     "health",   "detector",     "orchestrator",
  "breaker:coaster", "breaker:gates", "journal",  "blast_radius", "pipeline",
  "rollback"};

} // namespace

void driver::noted(std::map<std::string, uint64_t>& counts, const std::string& what) {
  ++counts[what];
  if (opts_.dump && eng_)
    std::fprintf(stderr, "step %d at %s: %s\n", step_,
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  eng_->now().time_since_epoch()).count()).c_str(),
                 what.c_str());
}

void driver::step() {
  sabotage_running();
  auto roll = pick(100);
  if (roll < 36)
    propose();
  else if (roll < 48)
    answer_approval();
  else if (roll < 53)
    interrupt();
  else if (roll < 56)
    halt_or_release();
  else if (roll < 60)
    change_grant();
  else if (roll < 65)
    inject_anomaly();
  else if (roll < 76)
    fault();
  if (!eng_)
    return;
  if (journal_failing_ > 0 && --journal_failing_ == 0)
    eng_->chaos_fail_journal(false);
  if (halted_ && --halt_left_ <= 0 && eng_->release("admin", "simulation").ok) {
    halted_ = false;
    ++cov_.actions["release"];
  }
  if (chance(30)) // operators answer waiting proposals often
    for (auto& w : eng_->pending()) {
      bool yes = chance(85);
      eng_->approve("ops", w.proposal, yes);
      ++cov_.actions[yes ? "approve" : "deny"];
    }
  for (auto n = 1 + pick(3); n > 0; --n)
    tick();
}

proposal_request driver::random_proposal() {
  static constexpr std::array<int, 10> levels{0, 1, 1, 2, 2, 3, 3, 3, 4, 4};
  static constexpr std::array<const char*, 10> principals{
    "agent", "agent", "agent", "agent", "agent", "agent", "ops", "ops", "low", "stranger"};
  proposal_request p;
  p.level = levels[pick(levels.size())];
  p.principal = principals[pick(principals.size())];
  p.idempotency_key = chance(2) ? "not a valid key!" : "sim-" + std::to_string(++counter_);
  auto& s = fleet_[pick(fleet_.size())];
  p.services = {s.service};
  p.regions = {s.region};
  std::vector<const series*> scope{&s};
  if (chance(15)) { // a wider scope: the blast radius decides
    auto& t = fleet_[pick(fleet_.size())];
    if (t.service != s.service)
      p.services.push_back(t.service);
    if (t.region != s.region)
      p.regions.push_back(t.region);
    scope.push_back(&t);
  }
  auto n = p.level == 0 ? (chance(20) ? 1 : 0) : p.level == 1 ? 1 : 1 + pick(4);
  if (chance(3))
    n = 0; // a mutation level with nothing to do
  for (uint64_t i = 0; i < n; ++i) {
    auto& from = *scope[pick(scope.size())];
    change c{from.resources[pick(from.resources.size())], chance(70) ? "mode" : "fw",
             "v" + std::to_string(pick(6))};
    if (chance(3))
      c.resource = "nowhere-" + std::to_string(pick(3));
    p.changes.push_back(std::move(c));
  }
  p.justification = "simulation";
  p.timeout = std::chrono::minutes{10};
  return p;
}

void driver::propose() {
  proposal_request p;
  bool later = false;
  if (!sent_.empty() && chance(4)) {
    // A repeat at a later time: its deadline differs, but the deadline is not content, so
    // it is the same proposal: the first answer (or its wait), never a second decision.
    p = sent_[pick(sent_.size())];
    later = true;
    if (opts_.sabotage == "idempotent-repeat") // another content under the used key
      p.justification += " (changed)";
    ++cov_.actions["repeat-later"];
  } else {
    p = random_proposal();
    if (sent_.size() < 64)
      sent_.push_back(p);
    else
      sent_[pick(sent_.size())] = p;
  }
  ++cov_.actions["propose-L" + std::to_string(p.level)];
  auto answer = [c = &checker_, by = &cov_.answers_by, dump = opts_.dump,
                 later](const result& r) {
    c->answered(r);
    if (later)
      c->repeated_later(r);
    ++(*by)[r.status + (r.code.empty() ? "" : "/" + r.code)];
    if (dump)
      std::fprintf(stderr, "answer %s %s seq %llu: %s %s %s\n", r.proposal.c_str(),
                   r.status.c_str(), static_cast<unsigned long long>(r.seq), r.code.c_str(),
                   r.message.c_str(), r.ok ? "ok" : "");
  };
  eng_->submit(p, answer);
  if (chance(20)) { // the same request again at once: the same proposal, one decision
    eng_->submit(p, answer);
    ++cov_.actions["repeat"];
  }
  eng_->run();
}

void driver::answer_approval() {
  auto waiting = eng_->pending();
  std::vector<std::string> ids;
  for (auto& w : waiting)
    ids.push_back(w.proposal);
  for (auto& r : eng_->pending_rollbacks())
    ids.push_back(r);
  if (ids.empty() || chance(5)) {
    // An approval of nothing: refused, and nothing is journaled.
    auto head = eng_->head().first;
    auto r = eng_->approve("ops", std::string(64, 'a'), true);
    ++cov_.actions["approve-unknown"];
    if (r.ok || eng_->head().first != head)
      violate("bad-input", "an approval of an unknown proposal was taken (" + r.code + ")");
    return;
  }
  auto id = ids[pick(ids.size())];
  bool yes = chance(75);
  auto r = eng_->approve(chance(80) ? "ops" : "admin", id, yes);
  ++cov_.actions[yes ? "approve" : "deny"];
  eng_->run();
}

void driver::interrupt() {
  auto running = eng_->running();
  if (running.empty()) {
    ++cov_.actions["interrupt-none"];
    return;
  }
  eng_->interrupt(chance(80) ? "ops" : "admin", running[pick(running.size())].proposal);
  ++cov_.actions["interrupt"];
  eng_->run();
}

void driver::halt_or_release() {
  if (chance(10)) { // not an admin: refused, nothing journaled
    auto head = eng_->head().first;
    // The bad-input sabotage: the "refused" halt comes from an admin, and is taken.
    auto r = eng_->halt(opts_.sabotage == "bad-input" ? "admin" : "agent", "simulation");
    ++cov_.actions["halt-refused"];
    if (r.ok || eng_->head().first != head)
      violate("bad-input", "a halt by a principal that is not an admin was taken");
    return;
  }
  if (halted_)
    return;
  // Released again after a few steps (in step()).
  if (eng_->halt("admin", "simulation").ok) {
    halted_ = true;
    halt_left_ = 1 + static_cast<int>(pick(4));
  }
  ++cov_.actions["halt"];
  eng_->run();
}

void driver::change_grant() {
  static constexpr std::array<const char*, 3> who{"agent", "ops", "low"};
  if (chance(8)) {
    auto head = eng_->head().first;
    auto r = eng_->grant("admin", who[pick(who.size())], 7, std::nullopt, "simulation");
    ++cov_.actions["grant-refused"];
    if (r.ok || eng_->head().first != head)
      violate("bad-input", "a grant of level 7 was taken");
    return;
  }
  std::optional<std::chrono::system_clock::time_point> until;
  if (chance(30))
    until = eng_->now() + std::chrono::seconds{1 + pick(60)};
  static constexpr std::array<int, 8> levels{0, 1, 2, 3, 4, 4, 4, 4};
  eng_->grant("admin", who[pick(who.size())], levels[pick(levels.size())], until, "simulation");
  ++cov_.actions["grant"];
  eng_->run();
}

void driver::inject_anomaly() {
  auto& s = fleet_[pick(fleet_.size())];
  world_->inject_anomaly(s.service, s.region, 0.3 + 0.1 * static_cast<double>(pick(5)),
                         round_ + 5 + pick(20));
  ++cov_.actions["anomaly"];
}

void driver::fault() {
  switch (pick(6)) {
    case 0: {
      auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   eng_->now().time_since_epoch()).count();
      if (now - last_kill_ms_ < 20'000)
        return; // kills spaced out: a restart storm would escalate and stop governance
      last_kill_ms_ = now;
      auto victim = killable[pick(killable.size())];
      eng_->chaos_kill(victim);
      noted(cov_.faults, "actor-kill");
      noted(cov_.faults, std::string{"kill:"} + victim);
      break;
    }
    case 1:
      eng_->chaos_fail_journal(true);
      journal_failing_ = 1 + static_cast<int>(pick(3));
      noted(cov_.faults, "journal-write-failure");
      break;
    case 2:
      if (chance(50)) {
        world_->fail_next(1 + static_cast<uint32_t>(pick(8)));
        noted(cov_.faults, "effector-outage");
      } else {
        world_->refuse_next(1 + static_cast<uint32_t>(pick(2)));
        noted(cov_.faults, "effector-refusal");
      }
      break;
    case 3:
      world_->time_out_next(1 + static_cast<uint32_t>(pick(8)));
      noted(cov_.faults, "effector-timeout");
      break;
    case 4:
      noted(cov_.faults, "restart");
      journal_failing_ = 0;
      restart();
      break;
    default:
      clock_jump();
      break;
  }
  if (eng_)
    eng_->run();
}

void driver::clock_jump() {
  auto& d = eng_->internals();
  auto jump = std::chrono::seconds{30 + pick(870)};
  d.sched->advance_time(jump);
  d.sched->run();
  noted(cov_.faults, "clock-jump");
}

void driver::tick() {
  eng_->advance(1s);
  ++round_;
  for (auto& s : fleet_) {
    auto base = 0.01 + 0.001 * static_cast<double>(pick(10));
    eng_->feed_metric(metric_sample{s.service, s.region,
                                    world_->error_rate(s.service, s.region, round_, base), 10.0,
                                    eng_->now()});
  }
  ++cov_.actions["metric-round"];
}

void driver::drain(int seconds) {
  if (journal_failing_ > 0)
    eng_->chaos_fail_journal(false);
  journal_failing_ = 0;
  world_->calm();
  if (halted_ && eng_->release("admin", "simulation drain").ok)
    halted_ = false;
  for (int i = 0; i < seconds && eng_; ++i) {
    for (auto& w : eng_->pending())
      eng_->approve("ops", w.proposal, true);
    for (auto& r : eng_->pending_rollbacks())
      eng_->approve("ops", r, true);
    tick();
    if (i % 10 == 0)
      check();
  }
}

} // namespace bulwark::sim
