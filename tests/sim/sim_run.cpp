#include "sim/sim_run.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/engine_impl.hpp"
#include "persistence/event_json.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/replay.hpp"
#include "sim/sim_driver.hpp"

namespace bulwark::sim {
namespace {

constexpr int64_t start_epoch_ms = 1'767'225'600'000; // 2026-01-01T00:00:00Z

int64_t to_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

} // namespace

void sim_coverage::add(const sim_coverage& o) {
  seeds += o.seeds;
  steps += o.steps;
  records += o.records;
  replays += o.replays;
  rollback_mutations += o.rollback_mutations;
  budget_charges += o.budget_charges;
  effects += o.effects;
  answers += o.answers;
  incidents += o.incidents;
  for (auto& [k, n] : o.actions)
    actions[k] += n;
  for (auto& [k, n] : o.faults)
    faults[k] += n;
  for (auto& [k, n] : o.answers_by)
    answers_by[k] += n;
  blast_configs.insert(o.blast_configs.begin(), o.blast_configs.end());
}

void sim_coverage::print(std::ostream& out) const {
  out << "seeds " << seeds << ", steps " << steps << ", journal records " << records << "\n"
      << "replay sequences " << replays << ", rollback mutations " << rollback_mutations
      << ", blast-radius configurations " << blast_configs.size()
      << ", budget charges " << budget_charges << "\n"
      << "effector calls checked " << effects << ", acknowledged proposals checked " << answers
      << ", incidents " << incidents << "\n"
      << "actions:";
  for (auto& [k, n] : actions)
    out << " " << k << "=" << n;
  out << "\nfaults:";
  for (auto& [k, n] : faults)
    out << " " << k << "=" << n;
  out << "\nanswers:";
  for (auto& [k, n] : answers_by)
    out << " " << k << "=" << n;
  out << "\n";
}

driver::driver(const sim_options& o) : opts_(o), rng_(o.seed) {
  data_dir_ = (std::filesystem::path{o.dir} / ("seed-" + std::to_string(o.seed))).string();
  std::filesystem::remove_all(data_dir_);
  std::filesystem::create_directories(data_dir_);
  now_ms_ = start_epoch_ms;
  fleet_ = {{"coaster", "north", {}}, {"coaster", "south", {}},
            {"gates", "north", {}}, {"gates", "south", {}}};
  for (int i = 0; i < 40; ++i)
    fleet_[i < 20 ? 0 : 1].resources.push_back("coaster-" + std::to_string(i));
  for (int i = 0; i < 20; ++i)
    fleet_[i < 10 ? 2 : 3].resources.push_back("gates-" + std::to_string(i));
  // The seed's blast-radius configuration: drawn first, so it depends on the seed alone.
  auto max_services = 1 + pick(2);
  auto max_regions = 1 + pick(2);
  auto max_percent = 5 + static_cast<double>(pick(191)) * 0.5;
  auto window_ms = 100 * (1 + pick(1200));
  std::ostringstream blast;
  blast << "[blast_radius]\nmax_services = " << max_services << "\nmax_regions = " << max_regions
        << "\nmax_percent = " << max_percent << "\nwindow_ms = " << window_ms << "\n";
  checker_.limits(static_cast<uint32_t>(max_services), max_percent,
                  static_cast<int64_t>(window_ms));
  blast_ = blast.str();
  cov_.blast_configs.insert(blast_);
  rollback_level_ = chance(70) ? 4 : 1;
  world_ = std::make_unique<sim_world>(
    [this] { return eng_ ? eng_->internals().store->head().value : 0; });
  world_->ignore_restores(opts_.sabotage == "rollback-restores");
}

driver::~driver() {
  if (eng_)
    eng_->stop();
  eng_.reset();
  if (!opts_.keep)
    std::filesystem::remove_all(data_dir_);
}

std::string driver::config_toml() {
  // The blast-radius sabotage: the engine runs without the limits the checker holds it to;
  // the fleet-budget one: with a window of 1 ms, where the checker holds it to the seed's.
  auto blast = opts_.sabotage == "blast-radius"
                 ? "[blast_radius]\nmax_services = 2\nmax_regions = 2\nmax_percent = 100\n"
                 : blast_;
  if (opts_.sabotage == "fleet-budget")
    blast = blast_.substr(0, blast_.find("window_ms")) + "window_ms = 1\n";
  return blast
         + "\n[incident]\nwarmup_samples = 5\nconfirmation_ms = 3000\nverification_ms = 5000\n"
           "verification_timeout_ms = 30000\n\n[chaos]\nenabled = true\n";
}

void driver::start_engine() {
  engine_options o;
  o.data_dir = data_dir_ + "/journal";
  o.config_file = data_dir_ + "/bulwark.toml";
  {
    std::ofstream f{o.config_file};
    f << config_toml();
  }
  o.virtual_clock = true;
  o.epoch_ms = now_ms_;
  o.admins = {"admin"};
  o.operators = {"ops"};
  o.grants = {{"agent", 4}, {"ops", 3}, {"low", 1}};
  o.enforce_enabled = true;
  o.observation_window = std::chrono::seconds{2};
  o.approval_timeout = std::chrono::seconds{30};
  o.rate_per_second = 50;
  o.burst = 20;
  o.rollback_level = rollback_level_;
  o.chaos = true;
  std::string err;
  eng_ = engine::start(o, &err);
  if (!eng_)
    return violate("replay", "the engine does not start from its journal: " + err);
  for (auto* service : {"coaster", "gates"})
    eng_->register_effector(service, [w = world_.get()](const effect_request& r) {
      return w->apply(r);
    });
}

void driver::register_fleet() {
  for (auto& s : fleet_)
    for (auto& r : s.resources)
      if (auto res = eng_->register_resource(r, s.service, s.region, {{"mode", "normal"}});
          !res.ok)
        violate("setup", "registering " + r + ": " + res.code + ": " + res.message);
}

void driver::violate(const std::string& invariant, const std::string& detail) {
  failures_.push_back(sim_failure{opts_.seed, step_, violation{invariant, detail}});
}

void driver::pull_journal() {
  auto& store = *eng_->internals().store;
  auto head = store.head().value;
  if (head <= checker_.seen())
    return;
  auto err = store.read(seq_no{checker_.seen() + 1}, seq_no{head}, [&](journal_entry&& e) {
    auto j = to_json(e);
    auto type = j.at("type").get<std::string>();
    if (opts_.dump)
      std::fprintf(stderr, "%s\n", j.dump().c_str());
    ++cov_.records;
    if ((opts_.sabotage == "write-ahead" && type == "action_started")
        || (opts_.sabotage == "flight-ends" && type == "proposal_finished")
        || (opts_.sabotage == "rollback-ends" && type == "rollback_finished"))
      type = "hidden by the sabotage";
    checker_.record(e.seq.value, type, j.at("payload"));
    if (type == "proposal_decided")
      last_decided_ = e.ev;
    else if (type == "incident_opened")
      last_incident_ = e.ev;
    return true;
  });
  if (err)
    violate("chain", "reading the journal: " + describe(err).message);
  auto report = store.verify(seq_no{verified_ + 1}, seq_no{head}, 1);
  if (!report.ok)
    violate("chain", "record " + std::to_string(report.first_bad.value) + ": " + report.reason);
  verified_ = head;
}

void driver::check() {
  if (!eng_)
    return;
  pull_journal();
  checker_.check(world_->calls());
  for (auto& v : checker_.take())
    violate(v.invariant, v.detail);
}

void driver::sabotage_stopped() {
  if (opts_.sabotage != "replay" || sabotaged_)
    return;
  auto st = journal_store::open(store_options{data_dir_ + "/journal"});
  if (!st)
    return;
  // A record written behind the engine's back: the replayed state is not the live one.
  (*st)->append({make_event(event_type::resource_registered, caf::timestamp{},
                            resource_registered{resource_id{"phantom"}, "coaster", "north", {}})});
  sabotaged_ = true;
}

void driver::sabotage_running() {
  auto& copy = opts_.sabotage == "decided-once" ? last_decided_ : last_incident_;
  if (sabotaged_ || !copy
      || (opts_.sabotage != "decided-once" && opts_.sabotage != "no-duplicate-incident"))
    return;
  // The same record committed twice, as an engine that forgot it had decided would.
  if (eng_->internals().store->append({*copy}))
    sabotaged_ = true;
}

void driver::settled() {
  std::vector<std::string> flights;
  for (auto& p : eng_->pending())
    flights.push_back(p.proposal);
  checker_.settled(eng_->in_doubt(), flights, eng_->pending_rollbacks());
  for (auto& v : checker_.take())
    violate(v.invariant, v.detail);
}

void driver::restart() {
  auto live = eng_->state_digest();
  auto head = eng_->head().first;
  now_ms_ = to_ms(eng_->now());
  eng_->stop();
  eng_.reset();
  sabotage_stopped();
  if (opts_.while_stopped)
    opts_.while_stopped(data_dir_ + "/journal", head);
  std::string replayed;
  {
    auto st = journal_store::open(store_options{data_dir_ + "/journal", true});
    if (!st)
      return violate("replay", "the stopped journal does not open: " + describe(st.error()).message);
    auto report = (*st)->verify(seq_no{1}, seq_no{UINT64_MAX}, 2);
    if (!report.ok)
      return violate("chain", "record " + std::to_string(report.first_bad.value) + ": "
                                + report.reason);
    for (bool snapshot : {false, true}) {
      auto r = replay(**st, replay_options{seq_no{UINT64_MAX}, snapshot, false});
      if (!r)
        return violate("replay", "replay fails: " + describe(r.error()).message);
      auto got = to_hex(r->state_digest);
      if (got != live)
        return violate("replay", std::string{"replay "} + (snapshot ? "from a snapshot" : "from seq 1")
                                   + " to head " + std::to_string(r->seq.value) + " gives digest "
                                   + got + ", the live engine had " + live + " at head "
                                   + std::to_string(head));
      replayed = got;
    }
  }
  start_engine();
  if (!eng_)
    return;
  // The start itself may journal: flights rebuilt past their approval deadline expire,
  // rollbacks left unfinished are closed. Then the live state is the replay to the new head.
  if (auto at = eng_->head().first; at != head) {
    auto r = replay(*eng_->internals().store, replay_options{seq_no{at}, false, false});
    if (!r)
      return violate("replay", "replay fails: " + describe(r.error()).message);
    replayed = to_hex(r->state_digest);
  }
  if (auto now = eng_->state_digest(); now != replayed)
    violate("replay", "the restarted engine's digest " + now + " at head "
                        + std::to_string(eng_->head().first) + " is not the replayed "
                        + replayed + " (head " + std::to_string(head) + ")");
  ++cov_.replays;
}

sim_report driver::run() {
  start_engine();
  if (eng_)
    register_fleet();
  for (step_ = 0; step_ < opts_.steps && failures_.empty() && eng_; ++step_) {
    step();
    check();
  }
  if (failures_.empty() && eng_) {
    step_ = -1;
    drain();
    check();
    if (failures_.empty() && eng_) {
      restart();
      check();
    }
    // After the last restart every unfinished flight and rollback of the journal has been
    // picked up again: a short drain lets them end, then nothing may be left.
    if (failures_.empty() && eng_) {
      drain(30);
      check();
    }
    if (failures_.empty() && eng_)
      settled();
  }
  sim_report out;
  cov_.seeds = 1;
  cov_.steps = static_cast<uint64_t>(step_ < 0 ? opts_.steps : step_);
  cov_.rollback_mutations = checker_.rollback_mutations;
  cov_.budget_charges = checker_.budget_charges;
  cov_.effects = checker_.effects_checked;
  cov_.answers = checker_.answers_checked;
  cov_.incidents = checker_.incidents;
  out.cov = cov_;
  out.failures = failures_;
  if (eng_) {
    auto [h, chain] = eng_->head();
    out.head = h;
    out.chain = chain;
    out.state_digest = eng_->state_digest();
  }
  return out;
}

sim_report run_seed(const sim_options& o) {
  driver d{o};
  return d.run();
}

} // namespace bulwark::sim
