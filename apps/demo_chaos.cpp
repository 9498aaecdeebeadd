#include "apps/demo_chaos.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "apps/cli.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/event_json.hpp"

namespace bulwark::cli {

using namespace std::chrono_literals;
using nlohmann::json;

const std::vector<std::string> chaos_targets = {
  "journal",   "blast_radius", "pipeline", "rollback",     "attempt_keeper",
  "authority", "admission",    "health",   "detector",     "orchestrator",
  "breaker:coaster"};

namespace {

/// Whether `child`, an `actor_restarted` record's, is an actor the kill of `target` ended:
/// "pipeline" is the four flight families' actors ("flights:<family>").
bool ended_by(const std::string& child, const std::string& target) {
  return child == target || (target == "pipeline" && child.rfind("flights:", 0) == 0);
}

const std::vector<std::string> services = {"coaster", "gates", "lights", "pos", "carousel"};

/// The JSON of a committed entry's payload (empty when it does not parse).
json payload_of(const committed_event& e) {
  auto j = json::parse(e.json, nullptr, false);
  if (j.is_discarded() || !j.contains("payload"))
    return json::object();
  return j["payload"];
}

std::string field(const json& j, const char* name) {
  return j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : std::string{};
}

} // namespace

chaos_drill::chaos_drill(demo_args args, std::string dir, std::vector<registration> fleet)
  : args_(std::move(args)), dir_(std::move(dir)), fleet_(std::move(fleet)), world_(args_.seed) {
}

bool chaos_drill::start() {
  // Wide blast-radius limits: the drill sends many small changes from one principal.
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  auto conf = dir_ + "/chaos-drill.toml";
  std::ofstream{conf} << "[blast_radius]\nmax_percent = 100.0\n";
  engine_options opts;
  opts.config_file = conf;
  opts.data_dir = dir_;
  opts.virtual_clock = true;
  opts.chaos = true;
  opts.admins = {"admin"};
  opts.operators = {"ops-alice"};
  opts.grants = {{"rollout-agent", 4}, {"ops-alice", 4}};
  opts.enforce_enabled = true;
  opts.rate_per_second = 1000.0;
  opts.burst = 1000.0;
  std::string err;
  eng_ = engine::start(opts, &err);
  if (!eng_) {
    check("engine started", false, err);
    return false;
  }
  eng_->subscribe([this](const committed_event& e) { events_.push_back(e); });
  std::set<std::string> kinds;
  for (auto& r : fleet_)
    kinds.insert(r.service);
  // The world's effector; an armed kill fires inside it, so the actor dies while a
  // proposal is in the middle of its flight (its effect ran, its outcome not journaled).
  for (auto& s : kinds)
    eng_->register_effector(s, [this](const effect_request& r) {
      auto out = world_.apply(r);
      if (!armed_.empty() && r.service == armed_service_ && !r.compensation) {
        kill_sent_ = !eng_->internals().chaos->kill(std::exchange(armed_, {}));
        killed_during_ = r.idempotency_key;
      }
      return out;
    });
  for (auto& r : fleet_) {
    std::map<std::string, std::string> attrs(r.attributes.begin(), r.attributes.end());
    auto res = eng_->register_resource(r.resource.value, r.service, r.region, attrs);
    if (!res.ok) {
      check("fleet registered", false, r.resource.value + ": " + res.message);
      return false;
    }
  }
  return true;
}

void chaos_drill::note(const std::string& what) {
  timeline_.push_back(format_time(caf::timestamp{std::chrono::duration_cast<caf::timespan>(
                        eng_->now().time_since_epoch())})
                      + "  " + what);
}

void chaos_drill::fault(const std::string& injected, const std::string& held) {
  note("injected: " + injected);
  note("  held: " + held);
  faults_.push_back({{"injected", injected}, {"held", held}});
}

void chaos_drill::check(const std::string& name, bool held, const std::string& detail) {
  held_ = held_ && held;
  invariants_.push_back({{"invariant", name}, {"held", held}, {"detail", detail}});
}

std::string chaos_drill::next_resource(const std::string& service) {
  std::vector<std::string> ids;
  for (auto& r : fleet_)
    if (r.service == service)
      ids.push_back(r.resource.value);
  return ids.at(used_[service]++ % ids.size());
}

proposal_request chaos_drill::make(const std::string& service, const std::string& resource,
                                   const std::string& key, const std::string& value) {
  proposal_request p;
  p.idempotency_key = "chaos-" + std::to_string(++counter_);
  p.principal = "rollout-agent";
  p.level = 4;
  p.services = {service};
  for (auto& r : fleet_)
    if (r.resource.value == resource)
      p.regions = {r.region};
  p.changes = {{resource, key, value}};
  p.justification = "chaos drill";
  p.timeout = 30min;
  return p;
}

size_t chaos_drill::send(const proposal_request& p) {
  sent s;
  s.key = p.idempotency_key;
  s.p = p;
  s.answer = eng_->submit(p);
  sent_.push_back(std::move(s));
  return sent_.size() - 1;
}

size_t chaos_drill::collect() {
  size_t open = 0;
  for (auto& s : sent_) {
    if (s.answered)
      continue;
    if (s.answer.wait_for(0s) == std::future_status::ready) {
      s.r = s.answer.get();
      s.answered = true;
    } else {
      ++open;
    }
  }
  return open;
}

std::string chaos_drill::tally(size_t from, size_t to) const {
  std::map<std::string, int> codes;
  int ok = 0, open = 0;
  if (to == 0)
    to = sent_.size();
  for (size_t i = from; i < to; ++i) {
    if (!sent_[i].answered)
      ++open;
    else if (sent_[i].r.ok)
      ++ok;
    else
      ++codes[sent_[i].r.code.empty() ? sent_[i].r.status : sent_[i].r.code];
  }
  auto out = std::to_string(to - from) + " answered: " + std::to_string(ok) + " ok";
  for (auto& [code, n] : codes)
    out += ", " + std::to_string(n) + " " + code;
  return out + (open > 0 ? ", " + std::to_string(open) + " WITHOUT ANSWER" : "");
}

void chaos_drill::kill_under_load(const std::string& target) {
  auto service = target == "breaker:coaster" ? std::string{"coaster"}
                                             : services[counter_ % services.size()];
  auto from = sent_.size();
  auto restarts_before = events_.size();
  for (int i = 0; i < 3; ++i) // finished before the kill
    send(make(service, next_resource(service), "mode", "chaos-" + std::to_string(counter_)));
  eng_->run();
  armed_ = target; // it dies inside the first effect of these three
  armed_service_ = service;
  killed_during_.clear();
  kill_sent_ = false;
  for (int i = 0; i < 3; ++i) // in flight when it dies
    send(make(service, next_resource(service), "mode", "chaos-" + std::to_string(counter_)));
  eng_->advance(3s);
  result killed;
  killed.ok = kill_sent_;
  if (!kill_sent_)
    killed = eng_->chaos_kill(std::exchange(armed_, {}));
  if (!kill_sent_)
    eng_->advance(3s);
  collect();
  // After the restart: the failed ones again (same keys), and one new proposal.
  auto before_repeat = sent_.size();
  for (size_t i = from; i < before_repeat; ++i)
    if (sent_[i].answered && !sent_[i].r.ok)
      send(sent_[i].p);
  send(make(service, next_resource(service), "mode", "after-" + target));
  eng_->advance(3s);
  collect();
  uint64_t restarted_at = 0;
  for (size_t i = restarts_before; i < events_.size(); ++i)
    if (events_[i].type == "actor_restarted"
        && ended_by(field(payload_of(events_[i]), "child"), target))
      restarted_at = events_[i].seq;
  auto& after = sent_.back();
  std::string held = killed.ok ? "" : "kill refused: " + killed.code + " " + killed.message + "; ";
  held += restarted_at != 0 ? "restarted (actor_restarted at seq " + std::to_string(restarted_at)
                                + ")"
                            : "NO RESTART JOURNALED";
  held += "; the 6 proposals " + tally(from, before_repeat);
  if (sent_.size() - 1 > before_repeat) // a deadline is part of a proposal: a repeat after it
    held += "; the failed ones sent again with their keys "  // is refused, never run twice
            + tally(before_repeat, sent_.size() - 1);
  held += "; the next proposal " + std::string{after.answered && after.r.ok ? "ran" : "FAILED"};
  auto when = killed_during_.empty() ? std::string{"after they ran"}
                                      : "during the effect of " + killed_during_;
  fault("kill " + target + " with 3 proposals in flight (" + service + ", " + when + ")", held);
  check("kill " + target + ": restarted, journaled, and serving again",
        killed.ok && restarted_at != 0 && after.answered && after.r.ok, held);
}

void chaos_drill::journal_outage() {
  auto calls = world_.calls();
  auto head = eng_->head().first;
  auto from = sent_.size();
  eng_->chaos_fail_journal(true);
  for (int i = 0; i < 3; ++i)
    send(make("gates", next_resource("gates"), "mode", "outage-" + std::to_string(i)));
  eng_->advance(2s);
  collect();
  bool refused = true;
  for (size_t i = from; i < sent_.size(); ++i)
    refused = refused && sent_[i].answered && sent_[i].r.code == "AUDIT_UNAVAILABLE";
  auto ran = world_.calls() - calls;
  auto grew = eng_->head().first - head;
  eng_->chaos_fail_journal(false);
  auto healed = send(make("gates", next_resource("gates"), "mode", "after-outage"));
  eng_->advance(2s);
  collect();
  auto held = tally(from) + "; " + std::to_string(ran) + " effector calls and "
              + std::to_string(grew) + " records during the outage; afterwards "
              + (sent_[healed].r.ok ? "ran" : "FAILED");
  fault("journal writes fail for 2 s under 3 proposals", held);
  check("a failing journal runs nothing: refused AUDIT_UNAVAILABLE, no effector call",
        refused && ran == 0 && grew == 0 && sent_[healed].r.ok, held);
}

void chaos_drill::effector_faults() {
  auto from = sent_.size();
  eng_->chaos_fail_effector("lights", 2);
  auto failed = send(make("lights", next_resource("lights"), "brightness", "40"));
  world_.time_out("pos", 2);
  auto slow = send(make("pos", next_resource("pos"), "price_table", "chaos"));
  eng_->advance(20s);
  collect();
  auto held = tally(from) + " (lights: 2 injected failures, then retried; pos: 2 controller "
                            "timeouts, then retried)";
  fault("effector failures (lights) and timeouts (pos), 2 calls each", held);
  check("failed and timed-out effector calls are retried to one applied effect",
        sent_[failed].r.ok && sent_[slow].r.ok, held);
}

void chaos_drill::delayed_messages() {
  eng_->chaos_delay_messages(500ms);
  auto i = send(make("carousel", next_resource("carousel"), "speed", "slow"));
  eng_->run();
  bool early = sent_[i].answer.wait_for(0s) == std::future_status::ready;
  eng_->advance(500ms);
  eng_->advance(2s);
  collect();
  eng_->chaos_delay_messages(0ms);
  auto held = std::string{early ? "ANSWERED BEFORE ITS DELAY" : "waited 500 ms"} + ", then "
              + (sent_[i].r.ok ? "ran" : "failed: " + sent_[i].r.code);
  fault("submissions delayed by 500 ms", held);
  check("a delayed submission arrives late and runs once", !early && sent_[i].r.ok, held);
}

void chaos_drill::rollback_after_restart() {
  auto a = next_resource("gates");
  auto b = next_resource("gates");
  // What the journal holds before the change (a registered attribute, or nothing).
  std::map<std::string, std::string> before{{a, eng_->attribute(a, "mode").value_or("")},
                                            {b, eng_->attribute(b, "mode").value_or("")}};
  auto p = make("gates", a, "mode", "to-roll-back");
  p.changes.push_back({b, "mode", "to-roll-back"});
  auto i = send(p);
  eng_->advance(2s);
  collect();
  std::vector<uint64_t> seqs;
  for (auto& e : events_)
    if (e.type == "action_applied" && field(payload_of(e), "proposal") == sent_[i].r.proposal)
      seqs.push_back(e.seq);
  auto killed = eng_->chaos_kill("rollback");
  eng_->advance(2s);
  auto r = eng_->rollback_seqs("ops-alice", seqs, "chaos drill: undo after a restart");
  eng_->advance(5s);
  bool restored = true;
  for (auto& [res, value] : before)
    restored = restored && world_.value(res, "mode") == value
               && eng_->attribute(res, "mode").value_or("") == value;
  auto held = std::string{"rollback of seqs"} + (seqs.empty() ? " (none found)" : "") + " "
              + (r.ok ? "ran (" + r.status + ")" : "failed: " + r.code + " " + r.message) + "; "
              + (restored ? "both values restored" : "VALUES NOT RESTORED");
  fault("kill rollback, then roll back a two-change proposal through the restarted executor",
        held);
  check("rolled-back values are restored", killed.ok && r.ok && seqs.size() == 2 && restored,
        held);
}

void chaos_drill::finish() {
  auto open = collect();
  check("every submission was answered (none hangs)", open == 0,
        std::to_string(sent_.size()) + " submissions, " + std::to_string(open) + " open");
  // Outcomes per proposal, from the journal.
  std::map<std::string, int> outcomes;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> started;
  for (auto& e : events_) {
    auto pl = payload_of(e);
    if (e.type == "proposal_finished")
      ++outcomes[field(pl, "proposal")];
    else if (e.type == "action_started" && pl.contains("change"))
      started[field(pl, "proposal")].emplace_back(field(pl["change"], "resource"),
                                                  field(pl["change"], "key"));
  }
  size_t acked = 0, wrong = 0;
  for (auto& s : sent_)
    if (s.answered && s.r.ok) {
      ++acked;
      wrong += outcomes[s.r.proposal] != 1;
    }
  size_t twice = 0;
  for (auto& [id, n] : outcomes)
    twice += n > 1;
  check("every acknowledged proposal has exactly one journaled outcome", wrong == 0 && twice == 0,
        std::to_string(acked) + " acknowledged, " + std::to_string(wrong)
          + " without exactly one outcome, " + std::to_string(twice)
          + " proposals with two or more");
  size_t keys = 0, repeated = 0;
  for (auto& [key, n] : world_.applied_by_key()) {
    ++keys;
    repeated += n > 1;
  }
  check("no effect ran twice (effector calls that applied, per idempotency key)", repeated == 0,
        std::to_string(keys) + " keys applied, " + std::to_string(repeated) + " more than once");
  // The world holds what the journal says, except where an action is in doubt (its
  // effect ran, the actor died before its outcome was journaled): the engine names those.
  auto doubtful = eng_->in_doubt();
  std::set<std::pair<std::string, std::string>> excused;
  for (auto& id : doubtful)
    for (auto& rk : started[id])
      excused.insert(rk);
  size_t checked = 0, differ = 0;
  for (auto& r : fleet_)
    for (auto* key : {"mode", "brightness", "price_table", "speed"}) {
      auto w = world_.value(r.resource.value, key);
      if (w.empty())
        continue;
      ++checked;
      auto j = eng_->attribute(r.resource.value, key);
      if (!(j && *j == w) && excused.count({r.resource.value, key}) == 0)
        ++differ;
    }
  check("the world holds what the journal says (in-doubt actions named by the engine aside)",
        differ == 0,
        std::to_string(checked) + " values checked, " + std::to_string(differ) + " differ, "
          + std::to_string(doubtful.size()) + " proposals in doubt");
  std::set<std::string> restarted;
  for (auto& e : events_)
    if (e.type == "actor_restarted")
      restarted.insert(field(payload_of(e), "child"));
  size_t missing = 0;
  for (auto& t : chaos_targets)
    missing += std::none_of(restarted.begin(), restarted.end(),
                            [&t](const std::string& child) { return ended_by(child, t); });
  check("every killed actor's restart is journaled", missing == 0,
        std::to_string(chaos_targets.size() - missing) + " of "
          + std::to_string(chaos_targets.size()));
  auto verified = eng_->verify();
  check("the hash chain verifies", verified.ok, verified.ok ? "ok" : verified.message);
  auto live = eng_->state_digest();
  auto head = eng_->head();
  eng_->stop();
  eng_.reset();
  auto replayed = replayed_digest(dir_);
  check("a replay of the journal gives the live state", !replayed.empty() && replayed == live,
        "state digest " + live.substr(0, 16));
  summary_ = {{"started", true},        {"data", dir_},
              {"seed", args_.seed},     {"events", head.first},
              {"head_chain", head.second}, {"faults", faults_},
              {"invariants", invariants_}, {"effector_calls", world_.calls()},
              {"invariants_held", held_}};
}

json chaos_drill::run() {
  if (!start())
    return {{"started", false}, {"invariants", invariants_}, {"invariants_held", false}};
  note("registered " + std::to_string(fleet_.size()) + " resources; chaos hooks on");
  for (auto& target : chaos_targets)
    kill_under_load(target);
  journal_outage();
  effector_faults();
  delayed_messages();
  rollback_after_restart();
  finish();
  return summary_;
}

void chaos_drill::print(std::ostream& out) const {
  out << "Bulwark demo --chaos: theme park under injected faults, seed " << args_.seed
      << ", virtual clock\n\n";
  for (auto& line : timeline_)
    out << "  " << line << '\n';
  out << "\nInvariants\n";
  for (auto& i : invariants_)
    out << "  " << (i["held"].get<bool>() ? "held      " : "VIOLATED  ")
        << i["invariant"].get<std::string>() << " (" << i["detail"].get<std::string>() << ")\n";
  if (summary_.contains("events"))
    out << "\n  journal " << dir_ << ", " << summary_["events"].get<uint64_t>() << " events\n";
  out << "  invariants: " << (held_ ? "all held" : "VIOLATED") << '\n';
}

int run_chaos_demo(const demo_args& args, const std::string& dir,
                   std::vector<registration> fleet) {
  chaos_drill drill{args, dir, std::move(fleet)};
  auto report = drill.run();
  if (args.json)
    std::cout << report.dump(2) << '\n';
  else
    drill.print(std::cout);
  if (!report.value("started", false))
    return exit_runtime;
  return report.value("invariants_held", false) ? exit_ok : exit_integrity;
}

} // namespace bulwark::cli
