// The flight machine alone: level rules in worked examples, and properties over random
// input sequences (10,000 per run over fixed seeds; BULWARK_FLIGHT_CASES=N runs N).
//
// The test is the machine's world: it keeps a journal of the appends it committed, a
// fleet of values the effector calls it answered changed, and the timers armed. At every
// step it checks that no effector is called for a step before that step's start is
// durable, that no action has two outcomes, that an input the flight cannot take changes
// nothing, and at the end that the flight finished with one answer whose counts agree
// with the journal, that a whole compensation restored the values it names, and that
// replaying the same inputs gives the same states and commands.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "actors/flight/flight_machine.hpp"
#include "actors/flight/flight_recovery.hpp"
#include "unit/flight/flight_cases.hpp"
#include "persistence/compensation_policy.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
namespace fl = bulwark::flight;

namespace {

caf::timestamp at_ms(int64_t ms) {
  return caf::timestamp{std::chrono::milliseconds{ms}};
}

fleet_state small_fleet() {
  fleet_state f;
  for (int i = 0; i < 4; ++i) {
    resource_state r;
    r.service = "svc";
    r.region = "north";
    r.attributes["version"] = "v0";
    f.resources["r" + std::to_string(i)] = r;
  }
  return f;
}

proposal make_proposal(authority_level level, size_t n, int64_t deadline_ms) {
  proposal p;
  p.idempotency_key = "k";
  p.principal = principal_id{"agent"};
  p.level = level;
  p.services = {"svc"};
  p.regions = {"north"};
  for (size_t i = 0; i < n; ++i)
    p.mutations.push_back(mutation{resource_id{"r" + std::to_string(i % 3)}, "version",
                                   "v" + std::to_string(i + 1)});
  p.justification = "test";
  p.deadline = at_ms(deadline_ms);
  return p;
}

digest id_of(int n) {
  digest d;
  d.bytes[0] = static_cast<uint8_t>(n);
  d.bytes[1] = static_cast<uint8_t>(n >> 8);
  return d;
}

/// Who answers approvals in the random runs: an operator, an admin, the proposer, a
/// principal with no role.
const char* const answerers[] = {"alice", "root", "agent", "mallory"};

/// One input, as recorded for replay.
struct input {
  enum kind_t : uint8_t { commit, fail, effect, approve, deny, interrupt, expire, observe,
                          stale_commit, stale_effect, bad_approver, halt, release,
                          restart, grant_lower, grant_restore } kind;
  int64_t now_ms = 0;
  uint64_t token = 0;
  effector_result result;
  signal_summary signals; ///< observe: what the window's analysis saw
  /// restart: whether the append under way committed (bit 0) and whether a compensation
  /// under way ran (bit 1) before the pipeline died. approve, deny: who answers (an index
  /// into `answerers`).
  unsigned luck = 0;
};

/// The machine's settings in these tests: "alice" approves (an operator), "agent" proposes.
fl::settings test_settings() {
  fl::settings s;
  s.approvals.operators = {"alice"};
  s.approvals.admins = {"root"};
  s.authority.grants = {{"agent", authority_level::enforce}};
  s.authority.enforce_enabled = true;
  return s;
}

/// The world of one flight: journal, fleet values, what the machine awaits.
struct world {
  fleet_state fleet = small_fleet();
  fl::settings config = test_settings();
  fl::state s;
  std::vector<std::pair<uint64_t, event>> journal; ///< committed, with seqs
  uint64_t seq = 100;
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> values;
  std::vector<fl::command> log;       ///< every command, in order
  std::optional<fl::command> append;  ///< the append awaited
  std::optional<fl::command> call;    ///< the call awaited
  bool approval_armed = false;
  bool step_armed = false;
  int answers = 0;                    ///< reply or refuse commands
  int restarts = 0;                   ///< pipeline restarts that rebuilt the flight
  std::optional<outcome> reply;
  std::vector<std::string> violations;

  world() {
    for (auto& [name, r] : fleet.resources)
      values[{name, "version"}] = r.attributes.at("version");
  }

  fl::context cx(int64_t now_ms) const {
    return fl::context{at_ms(now_ms), &fleet, &config};
  }

  /// True while the proposer's journaled grant is below the flight's level.
  bool grant_lowered() const {
    auto g = fleet.grants.find(s.p.principal.value);
    return g != fleet.grants.end() && g->second.level < s.p.level;
  }

  /// Checks an answer the machine took: the approver holds the level's role and is not
  /// the proposer; an approval (not a denial) is taken neither halted nor below the grant.
  void check_answer(const fl::refusal& r, const std::string& who, bool approve, bool halted,
                    bool lowered) {
    if (r)
      return;
    auto role = role_of(config.approvals, who);
    auto least = config.approvals.least[static_cast<size_t>(s.p.level)];
    if (who == s.p.principal.value)
      violations.push_back("the proposer's own answer was taken");
    if (static_cast<uint8_t>(role) < static_cast<uint8_t>(least))
      violations.push_back(who + " answered with the role " + to_string(role) + ", below "
                           + to_string(least));
    if (approve && halted)
      violations.push_back("an approval was taken while halted");
    if (approve && lowered)
      violations.push_back("an approval was taken below the proposer's grant");
  }

  bool journaled_start(uint32_t step) const {
    for (auto& [seq, ev] : journal) {
      if (ev.type != event_type::action_started)
        continue;
      action_started x;
      REQUIRE_FALSE(payload_of(ev, x));
      if (x.proposal == s.id && x.step == step)
        return true;
    }
    return false;
  }

  /// Takes the commands an input produced, checking each as it comes.
  void take(std::vector<fl::command>& out) {
    for (auto& c : out) {
      switch (c.kind) {
        case fl::command_kind::append:
          if (append || call)
            violations.push_back("a second await while one is outstanding");
          append = c;
          break;
        case fl::command_kind::call:
          if (append || call)
            violations.push_back("a second await while one is outstanding");
          if (!c.call.compensation && !journaled_start(c.step))
            violations.push_back("effector called for step " + std::to_string(c.step)
                                 + " before its start was durable");
          if (!c.call.compensation && fleet.halted)
            violations.push_back("effector called for step " + std::to_string(c.step)
                                 + " while halted");
          if (!c.call.compensation && grant_lowered())
            violations.push_back("effector called for step " + std::to_string(c.step)
                                 + " while the proposer's grant is below its level");
          if (c.after <= std::chrono::nanoseconds{0})
            violations.push_back("effector called with no time left");
          call = c;
          break;
        case fl::command_kind::arm_approval:
          approval_armed = true;
          break;
        case fl::command_kind::arm_step:
          step_armed = true;
          break;
        case fl::command_kind::reply:
          ++answers;
          reply = c.result;
          break;
        case fl::command_kind::refuse:
          ++answers;
          break;
        default:
          break;
      }
      log.push_back(c);
    }
    out.clear();
  }

  /// Applies one input; an input the machine refuses must change nothing.
  void feed(const input& in) {
    std::vector<fl::command> out;
    auto before = fl::fingerprint(s);
    auto c = cx(in.now_ms);
    fl::refusal r;
    switch (in.kind) {
      case input::commit: {
        appended ack{seq_no{seq + 1}, seq_no{seq + append->events.size()}, digest{}};
        for (auto& ev : append->events)
          journal.emplace_back(++seq, ev);
        auto token = append->token;
        append.reset();
        r = fl::committed(s, token, ack, c, out);
        break;
      }
      case input::fail: {
        auto token = append->token;
        append.reset();
        r = fl::commit_failed(s, token, "disk full", c, out);
        break;
      }
      case input::effect: {
        auto done = *call;
        call.reset();
        if (in.result.ok) {
          auto k = std::make_pair(done.call.change.resource.value, done.call.change.key);
          if (done.call.compensation)
            values[k] = done.call.restore ? std::optional<std::string>{*done.call.restore}
                                          : std::nullopt;
          else
            values[k] = done.call.change.value;
        }
        r = fl::effected(s, done.token, in.result, c, out);
        break;
      }
      case input::approve: {
        std::string who = answerers[in.luck % 4];
        bool waiting = s.at == fl::phase::awaiting_approval;
        r = fl::answer(s, principal_id{who}, true, "ok", c, out);
        check_answer(r, who, true, fleet.halted, grant_lowered());
        if (fleet.halted && r && r.code != ec::halted && r.code != ec::authority_denied
            && waiting)
          violations.push_back("an approval while halted was not refused HALTED");
        break;
      }
      case input::deny: {
        std::string who = answerers[in.luck % 4];
        r = fl::answer(s, principal_id{who}, false, "no", c, out);
        check_answer(r, who, false, fleet.halted, grant_lowered());
        break;
      }
      case input::grant_lower:
        fleet.grants[s.p.principal.value] =
          grant_state{s.p.level == authority_level::read_only
                        ? authority_level::read_only
                        : static_cast<authority_level>(static_cast<uint8_t>(s.p.level) - 1),
                      caf::none};
        break;
      case input::grant_restore:
        fleet.grants.erase(s.p.principal.value);
        break;
      case input::bad_approver:
        r = fl::answer(s, principal_id{""}, true, "", c, out);
        CHECK(r);
        break;
      case input::interrupt:
        r = fl::interrupt(s, principal_id{"bob"}, c, out);
        break;
      case input::expire:
        approval_armed = false;
        r = fl::approval_expired(s, c, out);
        break;
      case input::observe:
        step_armed = false;
        r = fl::observed(s, in.signals, c, out);
        break;
      case input::halt:
        fleet.halted = true;
        break;
      case input::release:
        fleet.halted = false;
        break;
      case input::restart:
        restart(in);
        return;
      case input::stale_commit:
        r = fl::committed(s, in.token, appended{seq_no{1}, seq_no{1}, digest{}}, c, out);
        CHECK(r);
        break;
      case input::stale_effect:
        r = fl::effected(s, in.token, effector_result{true, ec::none, "", caf::none}, c, out);
        CHECK(r);
        break;
    }
    if (r) {
      if (fl::fingerprint(s) != before)
        violations.push_back(std::string{"a refused input changed the state: "} + r.message);
      if (!out.empty())
        violations.push_back("a refused input produced commands");
    }
    take(out);
  }

  /// What the journal holds of the flight, with the append under way when `commit_it`.
  std::optional<fl::journaled_flight> journaled(bool commit_it) const {
    auto records = journal;
    auto next = seq;
    if (commit_it && append)
      for (auto& ev : append->events)
        records.emplace_back(++next, ev);
    std::optional<fl::journaled_flight> j;
    for (auto& [at, ev] : records) {
      if (ev.type == event_type::proposal_decided) {
        j.emplace();
        j->decided = seq_no{at};
        j->decided_at = ev.at;
        REQUIRE_FALSE(payload_of(ev, j->decision));
      } else if (j) {
        j->later.emplace_back(seq_no{at}, ev);
      }
    }
    return j;
  }

  /// The pipeline dies and a new one rebuilds the flight from the journal: the append
  /// under way committed or not, a compensation under way ran or not, and what was not
  /// journaled is gone. A flight the journal cannot rebuild (not decided, refused,
  /// finished, in doubt) is not restarted: the input changes nothing.
  void restart(const input& in) {
    if (fl::over(s))
      return;
    bool commit_it = (in.luck & 1) != 0;
    auto j = journaled(commit_it);
    if (!j)
      return;
    auto r = fl::recovery_of(*j, config);
    if (!r)
      return;
    if (commit_it && append)
      for (auto& ev : append->events)
        journal.emplace_back(++seq, ev);
    append.reset();
    if (call && call->call.compensation && (in.luck & 2) != 0) {
      auto k = std::make_pair(call->call.change.resource.value, call->call.change.key);
      values[k] = call->call.restore ? std::optional<std::string>{*call->call.restore}
                                     : std::nullopt;
    }
    if (call && !call->call.compensation)
      violations.push_back("a flight with a forward call under way was rebuilt");
    call.reset();
    approval_armed = false;
    step_armed = false;
    auto id = s.id;
    auto trace = s.trace;
    s = fl::start(fl::proposal_of(j->decision), id, trace);
    std::vector<fl::command> out;
    auto refused = fl::recovered(s, *r, cx(in.now_ms), out);
    if (refused)
      violations.push_back("a rebuilt flight was refused: " + refused.message);
    ++restarts;
    take(out);
  }

  /// Effector calls asked for, forward and compensation.
  int calls_made() const {
    int n = 0;
    for (auto& c : log)
      n += c.kind == fl::command_kind::call;
    return n;
  }

  /// Compensation outcomes in the journal: undone or failed to undo.
  uint32_t undo_outcomes() const {
    uint32_t n = 0;
    for (auto& [seq, ev] : journal) {
      if (ev.type == event_type::rollback_applied)
        ++n;
      if (ev.type == event_type::action_failed) {
        action_failed x;
        REQUIRE_FALSE(payload_of(ev, x));
        n += x.message.rfind("compensation failed: ", 0) == 0;
      }
    }
    return n;
  }

  /// A compensation that failed leaves no silent half state: the flight ends
  /// `compensation_failed`, each failed one has its dead letter (the value to restore)
  /// and its `compensation_failed` record, one P1 incident (no culprits) names the first,
  /// and the other compensations still ran.
  void check_compensations() {
    std::vector<uint32_t> failed, letters, records;
    std::vector<incident_opened> incidents;
    for (auto& [seq, ev] : journal) {
      if (ev.type == event_type::action_failed) {
        action_failed x;
        REQUIRE_FALSE(payload_of(ev, x));
        if (x.message.rfind("compensation failed: ", 0) == 0)
          failed.push_back(x.step);
      } else if (ev.type == event_type::dead_lettered) {
        dead_lettered x;
        REQUIRE_FALSE(payload_of(ev, x));
        if (x.message.rfind("compensation failed: ", 0) == 0)
          letters.push_back(x.step);
      } else if (ev.type == event_type::compensation_failed) {
        compensation_failed x;
        REQUIRE_FALSE(payload_of(ev, x));
        records.push_back(x.step);
        if (x.incident != s.compensation_incident)
          violations.push_back("a compensation_failed record names another incident");
      } else if (ev.type == event_type::incident_opened) {
        incident_opened x;
        REQUIRE_FALSE(payload_of(ev, x));
        incidents.push_back(x);
      }
    }
    if (!reply)
      return; // not finished in the journal (its outcome could not be journaled)
    bool any = !failed.empty();
    if (any != (reply->status == proposal_status::compensation_failed))
      violations.push_back(std::string{"ended "} + to_string(reply->status) + " with "
                           + std::to_string(failed.size()) + " failed compensations");
    if (letters != failed || records != failed)
      violations.push_back("a failed compensation without its dead letter or record");
    if (incidents.size() != (any ? 1u : 0u))
      violations.push_back(std::to_string(incidents.size()) + " incidents for "
                           + std::to_string(failed.size()) + " failed compensations");
    if (any && !incidents.empty()
        && (incidents[0].incident != compensation_incident_id(s.id, failed.front())
            || incidents[0].level != severity::p1 || !incidents[0].culprits.empty()))
      violations.push_back("the incident of a failed compensation is not the P1 of its first");
    if (any && undo_outcomes() != reply->applied)
      violations.push_back("a failed compensation stopped the others");
  }

  /// Outcomes per action in the journal: forward and compensation, at most one each.
  void check_outcomes() {
    std::map<uint32_t, int> forward, undone;
    int finished = 0, decided = 0, applied = 0, compensated = 0;
    for (auto& [seq, ev] : journal) {
      switch (ev.type) {
        case event_type::action_applied: {
          action_applied x;
          REQUIRE_FALSE(payload_of(ev, x));
          ++forward[x.step];
          ++applied;
          break;
        }
        case event_type::action_failed: {
          action_failed x;
          REQUIRE_FALSE(payload_of(ev, x));
          if (x.message.rfind("compensation failed: ", 0) == 0)
            ++undone[x.step];
          else
            ++forward[x.step];
          break;
        }
        case event_type::rollback_applied:
          ++compensated;
          break;
        case event_type::proposal_finished:
          ++finished;
          break;
        case event_type::proposal_decided:
          ++decided;
          break;
        default:
          break;
      }
    }
    for (auto& [step, n] : forward)
      if (n > 1)
        violations.push_back("step " + std::to_string(step) + " has two outcomes");
    // A finished flight left no start without its outcome, unless the journal lost an
    // effect's record (that outcome says it is in doubt).
    if (reply && reply->code != ec::audit_unavailable)
      for (auto& [seq, ev] : journal)
        if (ev.type == event_type::action_started) {
          action_started x;
          REQUIRE_FALSE(payload_of(ev, x));
          if (forward[x.step] != 1)
            violations.push_back("step " + std::to_string(x.step)
                                 + " was started and has no outcome");
        }
    for (auto& [step, n] : undone)
      if (n > 1)
        violations.push_back("step " + std::to_string(step) + " failed to undo twice");
    if (finished > 1)
      violations.push_back("two outcome records");
    if (decided != 1 && !journal.empty())
      violations.push_back("decided " + std::to_string(decided) + " times");
    if (reply && reply->status != proposal_status::read) {
      if (finished != 1)
        violations.push_back("answered without its outcome record");
      if (static_cast<int>(reply->applied) != applied)
        violations.push_back("outcome counts " + std::to_string(reply->applied)
                             + " applied, the journal " + std::to_string(applied));
      if (static_cast<int>(reply->compensated) != compensated)
        violations.push_back("outcome counts " + std::to_string(reply->compensated)
                             + " compensated, the journal " + std::to_string(compensated));
    }
  }
};

/// Picks an input the world can give now (sometimes one the flight cannot take).
input pick(world& w, std::mt19937_64& rng, int64_t& now_ms) {
  auto roll = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  now_ms += roll(4) == 0 ? roll(3000) : roll(20);
  input in;
  in.now_ms = now_ms;
  std::vector<input::kind_t> options;
  if (w.append) {
    options.insert(options.end(), 6, input::commit);
    options.push_back(input::fail);
  }
  if (w.call)
    options.insert(options.end(), 6, input::effect);
  if (w.approval_armed)
    options.push_back(input::expire);
  if (w.step_armed)
    options.insert(options.end(), 3, input::observe);
  options.insert(options.end(), {input::approve, input::approve, input::deny, input::interrupt,
                                 input::stale_commit, input::stale_effect,
                                 input::bad_approver, input::restart,
                                 w.fleet.halted ? input::release : input::halt,
                                 w.grant_lowered() ? input::grant_restore
                                                   : input::grant_lower});
  in.kind = options[static_cast<size_t>(roll(static_cast<int>(options.size())))];
  if (in.kind == input::effect) {
    static const ec failures[] = {ec::timeout, ec::unavailable, ec::effector_failed, ec::circuit_open};
    if (roll(10) < 7)
      in.result = effector_result{true, ec::none, "", caf::none};
    else
      in.result = effector_result{false, failures[roll(4)], "effector says no", caf::none};
  }
  if (in.kind == input::observe) {
    auto pick = roll(10);
    in.signals.samples = static_cast<uint32_t>(roll(4));
    if (pick < 2) { // a breach (possibly within the failure limit)
      in.signals.samples += 1;
      in.signals.breaches = 1 + static_cast<uint32_t>(roll(static_cast<int>(in.signals.samples)));
      in.signals.worst_region = "eu";
      in.signals.worst_ppm = 900'000;
      in.signals.threshold_ppm = 20'000;
    } else if (pick < 3) {
      in.signals = signal_summary{};
      in.signals.available = false;
      in.signals.error = "the detector is not running";
    }
  }
  if (in.kind == input::restart || in.kind == input::approve || in.kind == input::deny)
    in.luck = static_cast<unsigned>(roll(4));
  if (in.kind == input::stale_commit || in.kind == input::stale_effect)
    in.token = w.s.awaited + 1 + static_cast<uint64_t>(roll(3)); // never the awaited one
  return in;
}

/// Answers everything well until the flight is over (bounded).
input settle(world& w, int64_t& now_ms) {
  now_ms += 1;
  input in;
  in.now_ms = now_ms;
  if (w.fleet.halted)
    in.kind = input::release;
  else if (w.grant_lowered())
    in.kind = input::grant_restore;
  else if (w.append)
    in.kind = input::commit;
  else if (w.call) {
    in.kind = input::effect;
    in.result = effector_result{true, ec::none, "", caf::none};
  } else if (w.step_armed) {
    in.kind = input::observe;
    in.signals.samples = 1; // a healthy window
  }
  else if (w.s.at == fl::phase::awaiting_approval) {
    in.kind = input::approve;
    in.luck = 1; // the admin, who may approve at every level
  }
  else
    in.kind = input::expire; // nothing else can move it: it is stuck (a violation)
  return in;
}

struct run_result {
  std::vector<input> inputs;
  std::string final_state;
  size_t commands = 0;
  int restarts = 0;
  std::vector<std::string> violations;
};

/// Runs one random flight from `seed`, or replays `given` inputs when it is not null.
run_result run_flight(uint64_t seed, const std::vector<input>* given) {
  std::mt19937_64 rng{seed};
  auto roll = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  world w;
  w.config.approval_timeout = std::chrono::milliseconds{1 + roll(5000)};
  w.config.observation_window = std::chrono::milliseconds{roll(50)};
  w.config.effector_timeout = std::chrono::milliseconds{1 + roll(200)};
  w.config.analysis_failure_limit = static_cast<uint32_t>(roll(3));
  w.config.analysis_requires_data = roll(2) == 0;
  for (auto& least : w.config.approvals.least) // some levels ask for an admin's approval
    least = roll(3) == 0 ? approver_role::admin : approver_role::operator_;
  auto level = static_cast<authority_level>(roll(5));
  size_t n = level == authority_level::read_only ? 0 : static_cast<size_t>(1 + roll(4));
  int64_t now_ms = 1000;
  auto p = make_proposal(level, n, now_ms + 1 + roll(roll(2) == 0 ? 400 : 60000));
  w.s = fl::start(p, id_of(static_cast<int>(seed)), trace_id{seed});
  std::vector<fl::command> out;
  auto refused = roll(10) == 0;
  auto r = refused ? fl::refuse(w.s, ec::blast_radius_exceeded, "too wide", caf::none,
                                w.cx(now_ms), out)
                   : fl::allow(w.s, static_cast<uint32_t>(n), {}, w.cx(now_ms), out);
  REQUIRE_FALSE(r);
  w.take(out);
  run_result res;
  if (given != nullptr) {
    for (auto& in : *given)
      w.feed(in);
  } else {
    auto budget = 5 + roll(40);
    for (int i = 0; i < budget && !fl::over(w.s); ++i) {
      auto in = pick(w, rng, now_ms);
      res.inputs.push_back(in);
      w.feed(in);
    }
    for (int i = 0; i < 200 && !fl::over(w.s); ++i) {
      auto in = settle(w, now_ms);
      res.inputs.push_back(in);
      w.feed(in);
    }
  }
  if (!fl::over(w.s))
    w.violations.push_back(std::string{"not over, stuck in "} + fl::to_string(w.s.at));
  bool all_or_nothing = w.s.p.level == authority_level::recommend
                        || w.s.p.level == authority_level::act;
  if (w.reply && w.reply->code == ec::halted && all_or_nothing
      && w.undo_outcomes() != w.reply->applied)
    w.violations.push_back("a halted level-2/3 flight did not compensate every applied step");
  // A failed analysis ends the flight interrupted, with every applied step undone (or its
  // undo's failure recorded), and only at level 3.
  bool analysis_failed_journaled = false;
  for (auto& [seq, ev] : w.journal)
    analysis_failed_journaled |= ev.type == event_type::analysis_failed;
  if (analysis_failed_journaled
      && (w.s.p.level != authority_level::act || !w.reply
          || (w.reply->status != proposal_status::interrupted
              && w.reply->status != proposal_status::compensation_failed)
          || w.undo_outcomes() != w.reply->applied))
    w.violations.push_back("a failed analysis did not interrupt and compensate the flight");
  if (w.answers != 1)
    w.violations.push_back("answered " + std::to_string(w.answers) + " times");
  if (w.append || w.call)
    w.violations.push_back("over with an await outstanding");
  w.check_outcomes();
  w.check_compensations();
  // Every flight ends in a terminal status.
  if (w.reply && w.reply->status == proposal_status::refused)
    w.violations.push_back("an allowed flight's outcome reads refused");
  // A flight that undid every applied step left each value as it found it.
  if (w.reply && w.reply->compensated > 0 && w.reply->compensated == w.reply->applied) {
    auto fresh = world{};
    for (auto& [k, v] : fresh.values)
      if (w.values[k] != v)
        w.violations.push_back("compensation left " + k.first + " at "
                               + w.values[k].value_or("(none)"));
  }
  res.final_state = fl::fingerprint(w.s);
  res.commands = w.log.size();
  res.restarts = w.restarts;
  res.violations = w.violations;
  return res;
}

} // namespace

TEST_CASE("flight: random input sequences keep write-ahead, one outcome per action, an end, "
          "and no approval or effect a halt, a grant or the duties forbid") {
  auto n = test::flight_cases();
  uint64_t failures = 0;
  uint64_t rebuilt = 0; // flights a restart of their pipeline rebuilt from the journal
  for (uint64_t seed = 1; seed <= n; ++seed) {
    auto res = run_flight(seed, nullptr);
    rebuilt += res.restarts > 0;
    if (!res.violations.empty() && failures++ < 5)
      FAIL_CHECK("seed " << seed << ": " << res.violations.front());
  }
  CHECK(failures == 0);
  MESSAGE("rebuilt " << rebuilt << " of " << n);
  CHECK(rebuilt >= n / 20); // restarts are part of the sequences, not a rare accident
}

TEST_CASE("flight: replaying a flight's inputs gives the same state and commands") {
  auto n = std::min<uint64_t>(test::flight_cases(), 2000);
  for (uint64_t seed = 1; seed <= n; ++seed) {
    auto first = run_flight(seed, nullptr);
    auto again = run_flight(seed, &first.inputs);
    REQUIRE(again.final_state == first.final_state);
    REQUIRE(again.commands == first.commands);
  }
}

namespace {

/// A flight driven by hand, for the worked examples.
struct driven : world {
  int64_t now_ms = 1000;
  explicit driven(authority_level level, size_t n, bool allowed = true) {
    s = fl::start(make_proposal(level, n, 60000), id_of(7), trace_id{7});
    std::vector<fl::command> out;
    if (allowed)
      REQUIRE_FALSE(fl::allow(s, static_cast<uint32_t>(n), {}, cx(now_ms), out));
    else
      REQUIRE_FALSE(fl::refuse(s, ec::rate_limited, "slow down", caf::timespan{5},
                               cx(now_ms), out));
    take(out);
  }
  void commit() {
    feed(input{input::commit, ++now_ms, 0, {}, {}});
  }
  void ok() {
    feed(input{input::effect, ++now_ms, 0, effector_result{true, ec::none, "", caf::none}, {}});
  }
  void no(ec code) {
    feed(input{input::effect, ++now_ms, 0, effector_result{false, code, "broken", caf::none}, {}});
  }
  std::vector<event_type> types() const {
    std::vector<event_type> out;
    for (auto& [seq, ev] : journal)
      out.push_back(ev.type);
    return out;
  }
};

} // namespace

TEST_CASE("flight: level 4 journals decision and first start in one commit, then runs") {
  driven d{authority_level::enforce, 2};
  REQUIRE(d.append);
  // decision + its basis (the policy version, every target) + budget charge + step 0's start
  CHECK(d.append->events.size() == 4);
  CHECK(d.append->events[1].type == event_type::decision_basis);
  d.commit();
  REQUIRE(d.call);
  CHECK(d.call->step == 0);
  d.ok();
  REQUIRE(d.append);
  CHECK(d.append->events.size() == 2); // step 0's effect + step 1's start
  d.commit();
  d.ok();     // the last effect rides the outcome
  REQUIRE(d.append);
  d.commit();
  CHECK(fl::over(d.s));
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::succeeded);
  CHECK(d.reply->applied == 2);
  CHECK(d.types() == std::vector<event_type>{event_type::proposal_decided,
                                             event_type::decision_basis,
                                             event_type::budget_charged,
                                             event_type::action_started,
                                             event_type::action_applied,
                                             event_type::action_started,
                                             event_type::action_applied,
                                             event_type::proposal_finished});
  // N changes: N+1 commits.
  CHECK(d.s.tokens == 5); // 3 appends + 2 calls
}

TEST_CASE("flight: level 1 waits for approval, a denial or expiry ends it with its record") {
  driven d{authority_level::assist, 1};
  d.commit();
  CHECK(d.s.at == fl::phase::awaiting_approval);
  CHECK(d.approval_armed);
  CHECK(d.s.expires == at_ms(1001) + d.config.approval_timeout);
  std::vector<fl::command> out;
  // An interrupt is only for level 3; an observation is only for an observing flight.
  CHECK(fl::interrupt(d.s, principal_id{"bob"}, d.cx(1002), out).code == ec::invalid_input);
  CHECK(fl::observed(d.s, signal_summary{}, d.cx(1002), out).code == ec::invalid_input);
  CHECK(out.empty());
  d.feed(input{input::deny, 1003, 0, {}, {}});
  // The denial is acknowledged with its seq, once the outcome's transaction commits.
  auto acks = [&d] {
    std::vector<uint64_t> out;
    for (auto& c : d.log)
      if (c.kind == fl::command_kind::ack_approval)
        out.push_back(c.seq.value);
    return out;
  };
  CHECK(acks().empty());
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::denied);
  CHECK(d.reply->message == "denied by alice");
  uint64_t denied_seq = 0;
  for (auto& [seq, ev] : d.journal)
    if (ev.type == event_type::approval_denied)
      denied_seq = seq;
  REQUIRE(denied_seq > 0);
  CHECK(acks() == std::vector<uint64_t>{denied_seq});
  // The finished flight takes no approval and no expiry.
  auto before = fl::fingerprint(d.s);
  CHECK(fl::answer(d.s, principal_id{"alice"}, true, "", d.cx(1004), out).code
        == ec::invalid_input);
  CHECK(fl::approval_expired(d.s, d.cx(1004), out));
  CHECK(out.empty());
  CHECK(fl::fingerprint(d.s) == before);

  driven e{authority_level::assist, 1};
  e.commit();
  e.feed(input{input::expire, 400000, 0, {}, {}});
  e.commit();
  REQUIRE(e.reply);
  CHECK(e.reply->status == proposal_status::expired);
  CHECK(e.reply->code == ec::approval_expired);
}

TEST_CASE("flight: level 2 journals all starts first and compensates the batch on a failure") {
  driven d{authority_level::recommend, 3};
  d.commit();
  d.feed(input{input::approve, ++d.now_ms, 0, {}, {}});
  d.commit(); // the approval
  REQUIRE(d.append);
  CHECK(d.append->events.size() == 3); // every start, before any call
  d.commit();
  d.ok();
  d.no(ec::effector_failed); // step 1 fails: undo step 0
  REQUIRE(d.call);
  CHECK(d.call->call.compensation);
  CHECK(d.call->call.restore == caf::optional<std::string>{"v0"});
  d.ok();
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::failed);
  CHECK(d.reply->code == ec::effector_failed);
  CHECK(d.reply->applied == 1);
  CHECK(d.reply->compensated == 1);
  CHECK(d.values[{"r0", "version"}] == std::optional<std::string>{"v0"});
  CHECK(d.violations.empty());
}

namespace {

/// The payloads of type `T` journaled with the event type `type`, in order.
template <class T>
std::vector<T> journaled_as(const world& w, event_type type) {
  std::vector<T> out;
  for (auto& [seq, ev] : w.journal)
    if (ev.type == type) {
      T x;
      REQUIRE_FALSE(payload_of(ev, x));
      out.push_back(std::move(x));
    }
  return out;
}

} // namespace

TEST_CASE("flight: a level-2 batch whose compensation fails ends compensation_failed with its "
          "dead letter and P1 incident, and the other compensations still run") {
  driven d{authority_level::recommend, 3};
  d.commit();
  d.feed(input{input::approve, ++d.now_ms, 0, {}, {}});
  d.commit(); // the approval
  d.commit(); // every start
  d.ok();     // r0 -> v1
  d.ok();     // r1 -> v2
  d.no(ec::effector_failed); // step 2 fails: undo step 1, then step 0
  REQUIRE(d.call);
  CHECK(d.call->step == 1);
  d.no(ec::timeout);         // the undo of step 1 fails ...
  REQUIRE(d.call);           // ... and the undo of step 0 still runs
  CHECK(d.call->call.compensation);
  CHECK(d.call->step == 0);
  d.ok();
  REQUIRE(d.append);
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::compensation_failed);
  CHECK(d.reply->code == ec::effector_failed); // the step's failure stays the reason
  CHECK(d.reply->applied == 2);
  CHECK(d.reply->compensated == 1);
  CHECK(d.reply->message.rfind("compensation failed for 1 of 2 applied steps", 0) == 0);
  CHECK(d.values[{"r0", "version"}] == std::optional<std::string>{"v0"});
  CHECK(d.values[{"r1", "version"}] == std::optional<std::string>{"v2"}); // left applied
  // One transaction: the undo's failure, its letter, its record and the incident come
  // before the compensation of step 0 and the outcome.
  auto types = d.types();
  auto from = std::find(types.begin(), types.end(), event_type::dead_lettered);
  REQUIRE(from != types.end());
  CHECK(std::vector<event_type>(from - 1, types.end())
        == std::vector<event_type>{event_type::action_failed, event_type::dead_lettered,
                                   event_type::compensation_failed,
                                   event_type::incident_opened, event_type::rollback_applied,
                                   event_type::proposal_finished});
  auto letters = journaled_as<dead_lettered>(d, event_type::dead_lettered);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].step == 1);
  CHECK(letters[0].change.resource.value == "r1");
  CHECK(letters[0].change.value == "v0"); // the value to restore, not the change again
  CHECK(letters[0].code == ec::timeout);
  CHECK(letters[0].level == authority_level::recommend);
  CHECK(letters[0].message.find("restore r1.version to 'v0' (it holds 'v2')")
        != std::string::npos);
  auto records = journaled_as<compensation_failed>(d, event_type::compensation_failed);
  REQUIRE(records.size() == 1);
  CHECK(records[0].proposal == d.s.id);
  CHECK(records[0].change.value == "v2");
  CHECK(records[0].restore == caf::optional<std::string>{"v0"});
  auto incidents = journaled_as<incident_opened>(d, event_type::incident_opened);
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].level == severity::p1);
  CHECK(incidents[0].incident == compensation_incident_id(d.s.id, 1));
  CHECK(records[0].incident == incidents[0].incident);
  CHECK(incidents[0].culprits.empty()); // nothing for an automatic rollback to loop on
  CHECK(incidents[0].candidate.is_zero());
  CHECK(incidents[0].service == "svc");
  CHECK(incidents[0].respond_by - incidents[0].onset == response_time(severity::p1));
  auto finished = journaled_as<proposal_finished>(d, event_type::proposal_finished);
  REQUIRE(finished.size() == 1);
  CHECK_FALSE(finished[0].succeeded);
  CHECK(finished[0].message == d.reply->message);
  CHECK(d.violations.empty());
}

TEST_CASE("flight: a level-3 flight whose compensations fail ends compensation_failed with a "
          "letter each and one incident") {
  driven d{authority_level::act, 2};
  d.commit();
  d.ok();
  d.commit(); // step 0's effect
  d.feed(input{input::observe, ++d.now_ms, 0, {}, signal_summary{}});
  d.commit(); // step 1's start
  d.ok();
  d.commit(); // step 1's effect
  d.feed(input{input::interrupt, ++d.now_ms, 0, {}, {}});
  d.no(ec::unavailable); // the undo of step 1
  REQUIRE(d.call);
  d.no(ec::circuit_open); // the undo of step 0: it was still tried
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::compensation_failed);
  // An operator's interrupt has no code of its own: the first failed undo's is the reason.
  CHECK(d.reply->code == ec::unavailable);
  CHECK(d.reply->compensated == 0);
  auto letters = journaled_as<dead_lettered>(d, event_type::dead_lettered);
  REQUIRE(letters.size() == 2);
  CHECK(letters[0].step == 1);
  CHECK(letters[1].step == 0);
  CHECK(letters[1].change.value == "v0");
  auto incidents = journaled_as<incident_opened>(d, event_type::incident_opened);
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].incident == compensation_incident_id(d.s.id, 1));
  for (auto& r : journaled_as<compensation_failed>(d, event_type::compensation_failed))
    CHECK(r.incident == incidents[0].incident);
  CHECK(d.violations.empty());

  // A failed window analysis compensates the same way.
  driven a{authority_level::act, 1};
  a.commit();
  a.ok();
  a.commit();
  signal_summary down;
  down.available = false;
  down.error = "the detector is not running";
  a.feed(input{input::observe, ++a.now_ms, 0, {}, down});
  a.no(ec::effector_failed);
  a.commit();
  REQUIRE(a.reply);
  CHECK(a.reply->status == proposal_status::compensation_failed);
  CHECK(a.reply->message.find("analysis failed after step 0") != std::string::npos);
  CHECK(journaled_as<compensation_failed>(a, event_type::compensation_failed).size() == 1);
  CHECK(a.violations.empty());
}

TEST_CASE("flight: a compensation that removes a key says so in its letter") {
  failed_compensation f;
  f.proposal = id_of(3);
  f.step = 4;
  f.principal = principal_id{"agent"};
  f.level = authority_level::act;
  f.service = "svc";
  f.change = mutation{resource_id{"r9"}, "mode", "closed"};
  f.code = ec::timeout;
  f.message = "no answer";
  auto incident = compensation_incident_id(f.proposal, f.step);
  CHECK(incident != compensation_incident_id(f.proposal, 5));
  CHECK(incident != compensation_incident_id(id_of(4), 4));
  auto evs = compensation_failure_records(f, incident, false, at_ms(5));
  REQUIRE(evs.size() == 2); // not the first: no second incident
  dead_lettered letter;
  REQUIRE_FALSE(payload_of(evs[0], letter));
  CHECK(letter.message.find("remove r9.mode (it holds 'closed')") != std::string::npos);
  CHECK(letter.change.value.empty());
  compensation_failed record;
  REQUIRE_FALSE(payload_of(evs[1], record));
  CHECK_FALSE(record.restore);
  CHECK(record.incident == incident);
  CHECK(compensation_failure_records(f, incident, true, at_ms(5)).size() == 3);
}

TEST_CASE("flight: a level-3 window passes its analysis, the last step's too") {
  driven d{authority_level::act, 1};
  d.commit();
  d.ok();
  d.commit(); // the effect: now the window after the last step
  REQUIRE(d.s.at == fl::phase::observing);
  CHECK(d.s.window_service == "svc");
  CHECK(d.s.window_from == at_ms(d.now_ms));
  CHECK_FALSE(d.reply);
  input in{input::observe, ++d.now_ms, 0, {}, {}};
  in.signals.samples = 5;
  in.signals.breaches = 1; // within a failure limit of 1
  d.config.analysis_failure_limit = 1;
  d.feed(in);
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::succeeded);
  auto t = d.types();
  CHECK(std::count(t.begin(), t.end(), event_type::analysis_failed) == 0);
  CHECK(d.violations.empty());
}

TEST_CASE("flight: a level-3 window that breaches journals its evidence and compensates") {
  driven d{authority_level::act, 2};
  d.commit();
  d.ok();
  d.commit();
  REQUIRE(d.s.at == fl::phase::observing);
  input in{input::observe, ++d.now_ms, 0, {}, {}};
  in.signals = signal_summary{true, "", 4, 2, "eu", 300'000, 20'000};
  d.feed(in);
  REQUIRE(d.call); // the compensation of step 0, before anything else
  CHECK(d.call->call.compensation);
  d.ok();
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::interrupted);
  CHECK(d.reply->applied == 1);
  CHECK(d.reply->compensated == 1);
  CHECK(d.reply->message.find("analysis failed after step 0: 2 of 4 samples") == 0);
  CHECK(d.values[{"r0", "version"}] == std::optional<std::string>{"v0"});
  analysis_failed x;
  bool found = false;
  for (auto& [seq, ev] : d.journal)
    if (ev.type == event_type::analysis_failed) {
      REQUIRE_FALSE(payload_of(ev, x));
      found = true;
    }
  REQUIRE(found);
  CHECK(x.proposal == d.s.id);
  CHECK(x.step == 0);
  CHECK(x.service == "svc");
  CHECK(x.samples == 4);
  CHECK(x.breaches == 2);
  CHECK(x.failure_limit == 0);
  CHECK(x.worst_region == "eu");
  CHECK(x.worst_ppm == 300'000);
  CHECK(x.threshold_ppm == 20'000);
  CHECK(x.to == at_ms(in.now_ms)); // the window ended when the input came
  // Step 1 never started.
  CHECK_FALSE(d.journaled_start(1));
  CHECK(d.violations.empty());
}

TEST_CASE("flight: unreadable signals fail closed, no data fails only when data is required") {
  driven a{authority_level::act, 1};
  a.commit();
  a.ok();
  a.commit();
  REQUIRE(a.s.at == fl::phase::observing);
  input in{input::observe, ++a.now_ms, 0, {}, {}};
  in.signals.available = false;
  in.signals.error = "the detector is not running";
  a.feed(in);
  a.ok();
  a.commit();
  REQUIRE(a.reply);
  CHECK(a.reply->status == proposal_status::interrupted);
  CHECK(a.reply->code == ec::unavailable);
  CHECK(a.reply->message.find("could not be read: the detector is not running")
        != std::string::npos);

  driven b{authority_level::act, 1};
  b.config.analysis_requires_data = true;
  b.commit();
  b.ok();
  b.commit();
  b.feed(input{input::observe, ++b.now_ms, 0, {}, {}}); // zero samples
  b.ok();
  b.commit();
  REQUIRE(b.reply);
  CHECK(b.reply->status == proposal_status::interrupted);
  CHECK(b.reply->message.find("no samples of service 'svc'") != std::string::npos);

  driven c{authority_level::act, 1}; // the default: no data is no breach
  c.commit();
  c.ok();
  c.commit();
  c.feed(input{input::observe, ++c.now_ms, 0, {}, {}});
  c.commit();
  REQUIRE(c.reply);
  CHECK(c.reply->status == proposal_status::succeeded);
  CHECK(a.violations.empty());
  CHECK(b.violations.empty());
  CHECK(c.violations.empty());
}

TEST_CASE("flight: level 3 observes between steps and rolls back on interrupt") {
  driven d{authority_level::act, 2};
  d.commit();
  d.ok();
  d.commit(); // step 0's effect
  CHECK(d.s.at == fl::phase::observing);
  CHECK(d.step_armed);
  d.feed(input{input::interrupt, ++d.now_ms, 0, {}, {}});
  REQUIRE(d.call); // between steps: the compensation starts at once
  CHECK(d.call->call.compensation);
  std::vector<fl::command> out;
  CHECK(fl::interrupt(d.s, principal_id{"bob"}, d.cx(d.now_ms), out).code == ec::invalid_input);
  d.ok();
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::interrupted);
  CHECK(d.reply->compensated == 1);
  CHECK(d.violations.empty());
}

TEST_CASE("flight: a level-3 interrupt during a call takes effect when the call returns") {
  driven d{authority_level::act, 2};
  d.commit();
  REQUIRE(d.call);
  d.feed(input{input::interrupt, ++d.now_ms, 0, {}, {}});
  std::vector<fl::command> out;
  auto before = fl::fingerprint(d.s);
  CHECK(fl::interrupt(d.s, principal_id{"bob"}, d.cx(d.now_ms), out).message
        == "the proposal was interrupted already");
  CHECK(fl::fingerprint(d.s) == before);
  d.ok();     // step 0 applied: its record, then the undo
  d.commit();
  REQUIRE(d.call);
  CHECK(d.call->call.compensation);
  d.ok();
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::interrupted);
  CHECK(d.reply->applied == 1);
  CHECK(d.reply->compensated == 1);
  CHECK(d.values[{"r0", "version"}] == std::optional<std::string>{"v0"});
  CHECK(d.violations.empty());
}

namespace {

/// A level-1 flight waiting for its approval when `stop` (a halt, a lowered grant) comes:
/// the approval is refused `code` with `says` in its message and changes nothing; a
/// denial is still taken.
void approval_refused_then_denied(const std::function<void(driven&)>& stop, ec code,
                                  const std::string& says) {
  driven d{authority_level::assist, 1};
  d.commit();
  stop(d);
  std::vector<fl::command> out;
  auto before = fl::fingerprint(d.s);
  auto r = fl::answer(d.s, principal_id{"alice"}, true, "", d.cx(2000), out);
  CHECK(r.code == code);
  CHECK(r.message.find(says) != std::string::npos);
  CHECK(out.empty());
  CHECK(fl::fingerprint(d.s) == before);
  d.feed(input{input::deny, 2001, 0, {}, {}});
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::denied);
}

/// A level-3 flight of two steps in its observation window after step 0 when `stop`
/// comes: step 1 never runs and step 0 is compensated. Returns the flight, answered.
driven stopped_in_window(const std::function<void(driven&)>& stop) {
  driven three{authority_level::act, 2};
  three.commit();
  three.ok();
  three.commit();
  REQUIRE(three.s.at == fl::phase::observing);
  stop(three);
  three.feed(input{input::observe, ++three.now_ms, 0, {}, {}});
  REQUIRE(three.call);
  CHECK(three.call->call.compensation);
  three.ok();
  while (three.append)
    three.commit();
  REQUIRE(three.reply);
  CHECK(three.reply->status == proposal_status::interrupted);
  CHECK(three.reply->applied == 1);
  CHECK(three.reply->compensated == 1);
  CHECK(three.values[{"r0", "version"}] == std::optional<std::string>{"v0"});
  CHECK(three.violations.empty());
  return three;
}

} // namespace

TEST_CASE("flight: a grant lowered below the flight's level refuses its approval and stops it "
          "before its next effect") {
  // Level 1: the proposer's grant is lowered to level 0 while it waits.
  approval_refused_then_denied(
    [](driven& d) {
      d.fleet.grants["agent"] = grant_state{authority_level::read_only, caf::none};
    },
    ec::authority_denied, "grant of agent is now level 0");
  // Level 3: revoked in the observation window after step 0 of 2 (a temporary grant that
  // expired counts the same).
  auto three = stopped_in_window([](driven& t) {
    t.fleet.grants["agent"] = grant_state{authority_level::enforce, at_ms(t.now_ms)};
    t.config.authority.grants["agent"] = authority_level::assist; // what is left after it
  });
  CHECK(three.reply->code == ec::authority_denied);
  CHECK(three.reply->message.find("stopped after 1 of 2 steps") != std::string::npos);
}

TEST_CASE("flight: a halt refuses approvals and stops flights before their next effect") {
  approval_refused_then_denied([](driven& d) { d.fleet.halted = true; }, ec::halted,
                               "the node is halted");
  // Level 3: halted in the observation window after step 0 of 2.
  auto three = stopped_in_window([](driven& t) { t.fleet.halted = true; });
  CHECK(three.reply->code == ec::halted);

  // Level 4: halted while step 1's start rode step 0's effect: step 1 is journaled as not
  // run (no action is left in doubt) and step 0 is kept.
  driven four{authority_level::enforce, 2};
  four.commit();
  four.ok();
  four.fleet.halted = true;
  four.commit(); // step 0's effect + step 1's start
  CHECK_FALSE(four.call);
  four.commit();
  REQUIRE(four.reply);
  CHECK(four.reply->applied == 1);
  CHECK(four.reply->compensated == 0);
  int not_run = 0;
  for (auto& [seq, ev] : four.journal)
    if (ev.type == event_type::action_failed) {
      action_failed x;
      REQUIRE_FALSE(payload_of(ev, x));
      not_run += x.step == 1 && x.code == ec::halted;
    }
  CHECK(not_run == 1);
  CHECK(four.violations.empty());
  CHECK(three.violations.empty());
}

TEST_CASE("flight: a passed deadline fails the step without calling or blaming the effector") {
  // The deadline is gone by the time the decision commits.
  world w;
  w.s = fl::start(make_proposal(authority_level::enforce, 1, 1005), id_of(9), trace_id{9});
  std::vector<fl::command> out;
  REQUIRE_FALSE(fl::allow(w.s, 1, {}, w.cx(1000), out));
  w.take(out);
  w.feed(input{input::commit, 2000, 0, {}, {}});
  CHECK_FALSE(w.call);
  w.feed(input{input::commit, 2001, 0, {}, {}});
  REQUIRE(w.reply);
  CHECK(w.reply->code == ec::timeout);
  CHECK(w.reply->message.find("deadline passed before step 0 could be called")
        != std::string::npos);
  CHECK(w.reply->message.find("did not answer") == std::string::npos);
}

TEST_CASE("flight: the wait for an approval does not spend the execution deadline, and each "
          "timeout names its clock") {
  // A level-1 proposal with 30 s to run, approved 36 s after its decision, runs: the 30 s
  // start again at the approval.
  world w;
  w.s = fl::start(make_proposal(authority_level::assist, 1, 1000 + 30000), id_of(11),
                  trace_id{11});
  std::vector<fl::command> out;
  REQUIRE_FALSE(fl::allow(w.s, 1, {}, w.cx(1000), out));
  w.take(out);
  w.feed(input{input::commit, 1000, 0, {}, {}}); // the decision: awaiting approval
  REQUIRE(w.s.at == fl::phase::awaiting_approval);
  w.feed(input{input::approve, 37000, 0, {}, {}});
  w.feed(input{input::commit, 37000, 0, {}, {}}); // the approval is durable
  w.feed(input{input::commit, 37001, 0, {}, {}}); // step 0's start is durable
  REQUIRE(w.call);
  CHECK(w.call->call.deadline == at_ms(37001) + w.config.effector_timeout);
  CHECK(w.s.p.deadline == at_ms(37000 + 30000));
  w.feed(input{input::effect, 37100, 0, effector_result{true, ec::none, "", caf::none}, {}});
  w.feed(input{input::commit, 37100, 0, {}, {}});
  w.feed(input{input::commit, 37100, 0, {}, {}});
  REQUIRE(w.reply);
  CHECK(w.reply->status == proposal_status::succeeded);
  CHECK(w.violations.empty());

  // Nobody approving: the expiry names the approval window, not the deadline.
  world x;
  x.s = fl::start(make_proposal(authority_level::assist, 1, 1000 + 30000), id_of(12),
                  trace_id{12});
  out.clear();
  REQUIRE_FALSE(fl::allow(x.s, 1, {}, x.cx(1000), out));
  x.take(out);
  x.feed(input{input::commit, 1000, 0, {}, {}});
  x.feed(input{input::expire, 301000, 0, {}, {}});
  x.feed(input{input::commit, 301000, 0, {}, {}});
  REQUIRE(x.reply);
  CHECK(x.reply->code == ec::approval_expired);
  CHECK(x.reply->message.find("approval window") != std::string::npos);
  CHECK(x.reply->message.find("approval_timeout_ms") != std::string::npos);
}

TEST_CASE("flight: an approval by the proposer or by a principal without an approver role is "
          "refused and changes nothing") {
  world w;
  w.s = fl::start(make_proposal(authority_level::recommend, 2, 60000), id_of(13), trace_id{13});
  std::vector<fl::command> out;
  REQUIRE_FALSE(fl::allow(w.s, 1, {}, w.cx(1000), out));
  w.take(out);
  w.feed(input{input::commit, 1000, 0, {}, {}});
  REQUIRE(w.s.at == fl::phase::awaiting_approval);
  auto before = fl::fingerprint(w.s);
  for (auto* who : {"agent", "mallory"}) { // the proposer; a name with no role
    CAPTURE(who);
    for (bool yes : {true, false}) {
      out.clear();
      auto r = fl::answer(w.s, principal_id{who}, yes, "", w.cx(2000), out);
      CHECK(r.code == ec::authority_denied);
      CHECK(out.empty());
      CHECK(fl::fingerprint(w.s) == before);
    }
  }
  w.config.approvals.allow_self_approval = true;
  out.clear();
  CHECK(fl::answer(w.s, principal_id{"mallory"}, true, "", w.cx(2000), out).code
        == ec::authority_denied); // still no role
  CHECK(fl::fingerprint(w.s) == before);
  w.config.approvals.operators.insert("agent"); // a proposer with a role, self-approval on
  CHECK_FALSE(fl::answer(w.s, principal_id{"agent"}, true, "", w.cx(2000), out));
  CHECK(w.s.at == fl::phase::approving);
}

TEST_CASE("flight: a refused decision is journaled and answered with its own code") {
  driven d{authority_level::enforce, 1, false};
  d.commit();
  CHECK(fl::over(d.s));
  CHECK(d.answers == 1);
  CHECK(d.log.back().kind == fl::command_kind::finished);
  auto refusal = d.log[d.log.size() - 2];
  CHECK(refusal.kind == fl::command_kind::refuse);
  CHECK(refusal.code == ec::rate_limited);
  CHECK(refusal.retry_after == caf::optional<caf::timespan>{caf::timespan{5}});
}

namespace {

/// A pipeline restart in a worked example: the append under way is lost, the flight is
/// rebuilt from the journal at `now_ms`.
void restart_at(driven& d, int64_t now_ms, bool commit_under_way = false) {
  d.now_ms = now_ms;
  auto before = d.restarts;
  d.feed(input{input::restart, now_ms, 0, {}, {}, commit_under_way ? 1u : 0u});
  REQUIRE(d.restarts == before + 1);
}

} // namespace

TEST_CASE("flight: a level-1 flight waiting for approval is rebuilt and an approval runs it") {
  driven d{authority_level::assist, 1};
  d.commit();
  REQUIRE(d.s.at == fl::phase::awaiting_approval);
  auto expires = d.s.expires;
  restart_at(d, 30000);
  CHECK(d.s.at == fl::phase::awaiting_approval);
  CHECK(d.approval_armed);
  // The deadline is the decision's time plus the approval timeout (the commit's ms before
  // the original one at most).
  CHECK(d.s.expires == at_ms(1000) + d.config.approval_timeout);
  CHECK(d.s.expires <= expires);
  CHECK(d.log.back().kind == fl::command_kind::arm_approval);
  CHECK(d.log.back().after == d.s.expires - at_ms(30000));
  d.feed(input{input::approve, ++d.now_ms, 0, {}, {}});
  d.commit(); // the approval
  d.commit(); // the start
  d.ok();
  d.commit(); // effect and outcome
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::succeeded);
  CHECK(d.reply->applied == 1);
  CHECK(d.values[{"r0", "version"}] == "v1");
  CHECK(d.violations.empty());
  d.check_outcomes();
  CHECK(d.violations.empty());
}

TEST_CASE("flight: a waiting flight whose approval deadline passed while down expires at once") {
  driven d{authority_level::recommend, 2};
  d.commit();
  restart_at(d, 1000 + 300001); // past the default five minutes
  CHECK(d.s.at == fl::phase::finishing);
  CHECK(!d.approval_armed);
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::expired);
  CHECK(d.reply->code == ec::approval_expired);
  CHECK(d.types() == std::vector<event_type>{event_type::proposal_decided,
                                             event_type::decision_basis,
                                             event_type::approval_expired,
                                             event_type::proposal_finished});
  CHECK(d.calls_made() == 0);
}

TEST_CASE("flight: an approval journaled before the restart runs the flight without another") {
  driven d{authority_level::recommend, 2};
  d.commit();
  d.feed(input{input::approve, ++d.now_ms, 0, {}, {}});
  restart_at(d, 5000, true); // the approval's commit landed, its answer did not
  CHECK(d.s.at == fl::phase::starting); // the batch's starts
  d.commit();
  d.ok();
  d.ok();
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::succeeded);
  CHECK(d.reply->applied == 2);
  int approvals = 0;
  for (auto& [seq, ev] : d.journal)
    approvals += ev.type == event_type::approval_granted;
  CHECK(approvals == 1);
  CHECK(d.violations.empty());
}

TEST_CASE("flight: a level-3 flight between steps is rebuilt and rolled back, failing closed") {
  driven d{authority_level::act, 3};
  d.commit();
  d.ok();
  d.commit(); // step 0's effect: observing
  REQUIRE(d.s.at == fl::phase::observing);
  restart_at(d, 2000);
  REQUIRE(d.call);
  CHECK(d.call->call.compensation);
  CHECK(d.call->call.idempotency_key == to_hex(d.s.id) + "/0/undo");
  d.ok();
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->status == proposal_status::interrupted);
  CHECK(d.reply->code == ec::unavailable);
  CHECK(d.reply->applied == 1);
  CHECK(d.reply->compensated == 1);
  CHECK(d.values[{"r0", "version"}] == "v0");
  d.check_outcomes();
  CHECK(d.violations.empty());
}

TEST_CASE("flight: a compensation under way when the pipeline died is run again to its end") {
  driven d{authority_level::act, 2};
  d.commit();
  d.ok();
  d.commit();
  d.feed(input{input::interrupt, ++d.now_ms, 0, {}, {}}); // compensating step 0
  REQUIRE(d.call);
  d.feed(input{input::restart, ++d.now_ms, 0, {}, {}, 2u}); // the undo ran, unjournaled
  REQUIRE(d.restarts == 1);
  REQUIRE(d.call);
  CHECK(d.call->call.compensation);
  d.ok();
  d.commit();
  REQUIRE(d.reply);
  CHECK(d.reply->compensated == 1);
  CHECK(d.values[{"r0", "version"}] == "v0");
  d.check_outcomes();
  CHECK(d.violations.empty());
}

TEST_CASE("flight: what the journal cannot rebuild is not rebuilt, and a bad rebuild changes nothing") {
  // In doubt: a level-1 start without its outcome.
  driven a{authority_level::assist, 1};
  a.commit();
  a.feed(input{input::approve, ++a.now_ms, 0, {}, {}});
  a.commit();
  a.commit(); // the start: the call is under way
  REQUIRE(a.call);
  auto j = a.journaled(false);
  REQUIRE(j);
  CHECK(!fl::recovery_of(*j, a.config));
  // Finished, refused, level 0 and level 4.
  driven b{authority_level::assist, 1};
  b.commit();
  b.feed(input{input::deny, ++b.now_ms, 0, {}, {}});
  b.commit();
  CHECK(!fl::recovery_of(*b.journaled(false), b.config));
  driven c{authority_level::assist, 1, false};
  c.commit();
  CHECK(!fl::recovery_of(*c.journaled(false), c.config));
  driven r{authority_level::read_only, 0};
  r.commit();
  CHECK(!fl::recovery_of(*r.journaled(false), r.config));
  driven e{authority_level::enforce, 1};
  e.commit();
  CHECK(!fl::recovery_of(*e.journaled(false), e.config));
  // The input is only for a new flight of a level it can rebuild.
  fl::recovery rec;
  rec.decided = seq_no{5};
  rec.expires = at_ms(9000);
  std::vector<fl::command> out;
  auto before = fl::fingerprint(b.s);
  CHECK(fl::recovered(b.s, rec, b.cx(2000), out).code == ec::invalid_input);
  CHECK(fl::fingerprint(b.s) == before);
  auto four = fl::start(make_proposal(authority_level::enforce, 1, 60000), id_of(9), trace_id{9});
  before = fl::fingerprint(four);
  CHECK(fl::recovered(four, rec, b.cx(2000), out).code == ec::invalid_input);
  CHECK(fl::fingerprint(four) == before);
  auto one = fl::start(make_proposal(authority_level::assist, 1, 60000), id_of(9), trace_id{9});
  before = fl::fingerprint(one);
  CHECK(fl::recovered(one, fl::recovery{}, b.cx(2000), out).code == ec::invalid_input);
  CHECK(fl::fingerprint(one) == before);
  CHECK(out.empty());
}

namespace {

/// The `budget_charged` records a driven flight journaled.
std::vector<budget_charged> charges_of(const driven& d) {
  std::vector<budget_charged> out;
  for (auto& [seq, ev] : d.journal)
    if (ev.type == event_type::budget_charged) {
      budget_charged x;
      REQUIRE_FALSE(payload_of(ev, x));
      out.push_back(x);
    }
  return out;
}

} // namespace

TEST_CASE("flight: the blast budget is charged with the decision at level 4 and 3") {
  for (auto level : {authority_level::enforce, authority_level::act}) {
    driven d{level, 2};
    REQUIRE(d.append);
    REQUIRE(d.append->events.size() == 4);
    CHECK(d.append->events[2].type == event_type::budget_charged);
    d.commit();
    auto charges = charges_of(d);
    REQUIRE(charges.size() == 1);
    auto& c = charges[0];
    CHECK(c.proposal == id_of(7));
    CHECK(c.principal.value == "agent");
    REQUIRE(c.entries.size() == 2);
    CHECK(c.entries[0].resource.value == "r0");
    CHECK(c.entries[0].service == "svc");
    CHECK(c.entries[0].region == "north");
    CHECK(c.window == std::chrono::hours{1});
    CHECK(c.until == at_ms(1000) + std::chrono::hours{1});
  }
}

TEST_CASE("flight: levels 1 and 2 are charged at their approval, not at their decision") {
  driven d{authority_level::recommend, 2};
  d.commit(); // the decision: nothing charged while the proposal waits
  CHECK(charges_of(d).empty());
  d.feed(input{input::approve, 5000, 0, {}, {}});
  REQUIRE(d.append);
  REQUIRE(d.append->events.size() == 3);
  CHECK(d.append->events[0].type == event_type::approval_granted);
  CHECK(d.append->events[1].type == event_type::approval_checked);
  CHECK(d.append->events[2].type == event_type::budget_charged);
  d.commit();
  auto charges = charges_of(d);
  REQUIRE(charges.size() == 1);
  CHECK(charges[0].until == at_ms(5000) + std::chrono::hours{1});
  // A denied proposal is never charged.
  driven denied{authority_level::assist, 1};
  denied.commit();
  denied.feed(input{input::deny, 5000, 0, {}, {}});
  denied.commit();
  CHECK(charges_of(denied).empty());
}

namespace {

std::vector<approval_checked> checks_of(const world& w) {
  std::vector<approval_checked> out;
  for (auto& [seq, ev] : w.journal)
    if (ev.type == event_type::approval_checked) {
      approval_checked x;
      REQUIRE_FALSE(payload_of(ev, x));
      out.push_back(x);
    }
  return out;
}

} // namespace

TEST_CASE("flight: an approval and a denial are journaled with the approver's role, grant "
          "and the gate they meet") {
  // Level 1: alice (an operator with a journaled grant of level 2) approves agent's change.
  driven one{authority_level::assist, 1};
  one.fleet.grants["alice"] = grant_state{authority_level::recommend, caf::none};
  one.commit();
  one.feed(input{input::approve, 5000, 0, {}, {}});
  REQUIRE(one.append);
  CHECK(one.append->events[0].type == event_type::approval_granted);
  CHECK(one.append->events[1].type == event_type::approval_checked);
  one.commit(); // the evidence is durable in the approval's own transaction
  auto checks = checks_of(one);
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].proposal == one.s.id);
  CHECK(checks[0].approver.value == "alice");
  CHECK(checks[0].approve);
  CHECK(checks[0].role == "operator");
  REQUIRE(checks[0].grant);
  CHECK(*checks[0].grant == authority_level::recommend);
  REQUIRE(checks[0].gates.size() == 2);
  CHECK(checks[0].gates[0].name == gate::human_approval);
  CHECK(checks[0].gates[0].passed);
  CHECK(checks[0].gates[0].note
        == "approved by alice (role operator, grant level 2); proposed by agent");
  CHECK(checks[0].gates[1].name == gate::explicit_confirmation);
  CHECK(checks[0].gates[1].note.find(to_hex(one.s.id)) != std::string::npos);

  // Level 2: an admin with no grant of its own denies the batch; the review gate fails.
  driven two{authority_level::recommend, 2};
  two.config.approvals.admins = {"root"};
  two.commit();
  std::vector<fl::command> out;
  REQUIRE_FALSE(fl::answer(two.s, principal_id{"root"}, false, "no", two.cx(6000), out));
  two.take(out);
  two.commit();
  checks = checks_of(two);
  REQUIRE(checks.size() == 1);
  CHECK_FALSE(checks[0].approve);
  CHECK(checks[0].role == "admin");
  CHECK_FALSE(checks[0].grant);
  REQUIRE(checks[0].gates.size() == 1);
  CHECK(checks[0].gates[0].name == gate::human_review);
  CHECK_FALSE(checks[0].gates[0].passed);
  CHECK(checks[0].gates[0].note
        == "the batch of 2 actions was reviewed and denied by root (role admin, no grant); "
           "proposed by agent");
  // The denial and its evidence ride the outcome: the approver hears the denial's seq.
  REQUIRE(two.reply);
  CHECK(two.reply->status == proposal_status::denied);
}

TEST_CASE("flight: every decision, allowed or refused, is followed by its basis: the policy "
          "version in force and every declared target") {
  for (bool allowed : {true, false}) {
    CAPTURE(allowed);
    world w;
    w.config.policy_version = "abc123";
    auto p = make_proposal(authority_level::recommend, 1, 60000);
    p.services = {"svc", "web"};
    p.regions = {"north", "south"};
    w.s = fl::start(p, id_of(7), trace_id{7});
    std::vector<fl::command> out;
    if (allowed)
      REQUIRE_FALSE(fl::allow(w.s, 1, {}, w.cx(1000), out));
    else
      REQUIRE_FALSE(fl::refuse(w.s, ec::rate_limited, "slow down", caf::none, w.cx(1000), out));
    REQUIRE(!out.empty());
    REQUIRE(out[0].kind == fl::command_kind::append);
    auto& evs = out[0].events;
    REQUIRE(evs.size() >= 2);
    CHECK(evs[0].type == event_type::proposal_decided);
    REQUIRE(evs[1].type == event_type::decision_basis);
    decision_basis b;
    REQUIRE_FALSE(payload_of(evs[1], b));
    CHECK(b.proposal == id_of(7));
    CHECK(b.policy_version == "abc123");
    CHECK(b.services == std::vector<std::string>{"svc", "web"});
    CHECK(b.regions == std::vector<std::string>{"north", "south"});
  }
}

namespace {

/// A level-1 flight of one change whose proposal asks for its own approval window
/// (none: the node's), allowed at 1000 ms.
world windowed(caf::optional<caf::timespan> window) {
  world w;
  auto p = make_proposal(authority_level::assist, 1, 1000 + 30000);
  p.approval_window = window;
  w.s = fl::start(p, id_of(21), trace_id{21});
  std::vector<fl::command> out;
  REQUIRE_FALSE(fl::allow(w.s, 1, {}, w.cx(1000), out));
  w.take(out);
  return w;
}

std::vector<event_type> types_of(const world& w) {
  std::vector<event_type> out;
  for (auto& [seq, ev] : w.journal)
    out.push_back(ev.type);
  return out;
}

} // namespace

TEST_CASE("flight: a proposal's own approval window shorter than the node's expires at its "
          "own time, and the expiry names it") {
  auto w = windowed(caf::timespan{std::chrono::milliseconds{2500}});
  REQUIRE(w.append);
  // The window is journaled with the decision, in its transaction.
  REQUIRE(w.append->events.size() == 3); // the decision, its basis, the window
  CHECK(w.append->events[2].type == event_type::approval_window);
  approval_window jw;
  REQUIRE_FALSE(payload_of(w.append->events[2], jw));
  CHECK(jw.proposal == w.s.id);
  CHECK(jw.window == std::chrono::milliseconds{2500});
  w.feed(input{input::commit, 1000, 0, {}, {}});
  REQUIRE(w.s.at == fl::phase::awaiting_approval);
  CHECK(w.s.expires == at_ms(3500));
  CHECK(w.log.back().kind == fl::command_kind::arm_approval);
  CHECK(w.log.back().after == std::chrono::milliseconds{2500});
  w.feed(input{input::expire, 3500, 0, {}, {}});
  w.feed(input{input::commit, 3500, 0, {}, {}});
  REQUIRE(w.reply);
  CHECK(w.reply->status == proposal_status::expired);
  CHECK(w.reply->code == ec::approval_expired);
  CHECK(w.reply->message
        == "nobody approved within the approval window (2500 ms, the proposal's own: "
           "approval_window_ms)");
  CHECK(types_of(w) == std::vector<event_type>{event_type::proposal_decided,
                                               event_type::decision_basis,
                                               event_type::approval_window,
                                               event_type::approval_expired,
                                               event_type::proposal_finished});
  CHECK(w.calls_made() == 0);
  CHECK(w.violations.empty());
}

TEST_CASE("flight: the node's approval window applies when the proposal gives none") {
  auto w = windowed(caf::none);
  REQUIRE(w.append);
  CHECK(w.append->events.size() == 2); // the decision and its basis: no window record
  w.feed(input{input::commit, 1000, 0, {}, {}});
  CHECK(w.s.expires == at_ms(1000) + w.config.approval_timeout);
  CHECK(w.log.back().after == w.config.approval_timeout);
  w.feed(input{input::expire, 301000, 0, {}, {}});
  w.feed(input{input::commit, 301000, 0, {}, {}});
  REQUIRE(w.reply);
  CHECK(w.reply->code == ec::approval_expired);
  CHECK(w.reply->message
        == "nobody approved within the approval window (300 s, the node's: "
           "authority.approval_timeout_ms)");
}

TEST_CASE("flight: the HumanApproval gate names the proposal's own approval window") {
  auto w = windowed(caf::timespan{std::chrono::seconds{90}});
  REQUIRE(w.append);
  proposal_decided d;
  REQUIRE_FALSE(payload_of(w.append->events[0], d));
  REQUIRE(!d.gates.empty());
  CHECK(d.gates[0].name == gate::human_approval);
  CHECK(d.gates[0].note.find("within 90 s (the proposal's own window)") != std::string::npos);
}

TEST_CASE("flight: a rebuilt flight keeps the proposal's own approval window") {
  auto w = windowed(caf::timespan{std::chrono::seconds{20}});
  w.feed(input{input::commit, 1000, 0, {}, {}});
  REQUIRE(w.s.at == fl::phase::awaiting_approval);
  w.feed(input{input::restart, 15000, 0, {}, {}, 0});
  REQUIRE(w.restarts == 1);
  CHECK(w.s.at == fl::phase::awaiting_approval);
  CHECK(w.s.expires == at_ms(21000)); // the decision's time plus its own 20 s
  CHECK(w.log.back().after == std::chrono::seconds{6});
  // Down past its own window (not the node's): it expires at once, naming its window.
  w.feed(input{input::restart, 22000, 0, {}, {}, 0});
  REQUIRE(w.restarts == 2);
  w.feed(input{input::commit, 22000, 0, {}, {}});
  REQUIRE(w.reply);
  CHECK(w.reply->code == ec::approval_expired);
  CHECK(w.reply->message.find("20 s, the proposal's own") != std::string::npos);
  CHECK(w.violations.empty());
}

TEST_CASE("flight: a level-0 read answers exactly the declared services' resources in the "
          "declared regions, as its gates saw them") {
  world w;
  auto add = [&w](const std::string& id, const std::string& service, const std::string& region,
                  bool retired = false) {
    resource_state r;
    r.service = service;
    r.region = region;
    r.attributes["mode"] = id + "-mode";
    r.retired = retired;
    w.fleet.resources[id] = r;
  };
  add("s-south", "svc", "south");
  add("o-north", "other", "north");
  add("gone", "svc", "north", true);
  w.fleet.seq = 42;
  auto p = make_proposal(authority_level::read_only, 0, 60000);
  w.s = fl::start(p, id_of(31), trace_id{31});
  std::vector<fl::command> out;
  REQUIRE_FALSE(fl::allow(w.s, 0, {}, w.cx(1000), out));
  w.take(out);
  // The fleet changes before the decision is durable: the read is the view the gates read.
  add("late", "svc", "north");
  w.feed(input{input::commit, 1001, 0, {}, {}});
  REQUIRE(w.reply);
  CHECK(w.reply->status == proposal_status::read);
  REQUIRE(w.reply->read);
  auto& read = *w.reply->read;
  CHECK(read.seq.value == 42);
  CHECK(read.total == 4);
  CHECK(!read.truncated);
  std::vector<std::string> ids;
  for (auto& r : read.resources) {
    ids.push_back(r.id.value);
    CHECK(r.service == "svc");
    CHECK(r.region == "north");
    CHECK(r.attributes == w.fleet.resources.at(r.id.value).attributes);
  }
  CHECK(ids == std::vector<std::string>{"r0", "r1", "r2", "r3"});

  // No declared region: every region of the declared services.
  world all;
  all.fleet = w.fleet;
  auto q = make_proposal(authority_level::read_only, 0, 60000);
  q.services = {"svc", "other"};
  q.regions.clear();
  all.s = fl::start(q, id_of(32), trace_id{32});
  out.clear();
  REQUIRE_FALSE(fl::allow(all.s, 0, {}, all.cx(1000), out));
  all.take(out);
  all.feed(input{input::commit, 1001, 0, {}, {}});
  REQUIRE(all.reply);
  REQUIRE(all.reply->read);
  ids.clear();
  for (auto& r : all.reply->read->resources)
    ids.push_back(r.id.value);
  CHECK(ids == std::vector<std::string>{"late", "o-north", "r0", "r1", "r2", "r3", "s-south"});
}

TEST_CASE("flight: a read over the limit returns the first resources by id, flagged "
          "truncated, and counts them all") {
  fleet_state f = small_fleet();
  auto p = make_proposal(authority_level::read_only, 0, 60000);
  auto read = read_of(p, f, 3);
  CHECK(read.total == 4);
  CHECK(read.truncated);
  REQUIRE(read.resources.size() == 3);
  CHECK(read.resources.back().id.value == "r2");
  auto whole = read_of(p, f, 4);
  CHECK(!whole.truncated);
  CHECK(whole.resources.size() == 4);
  CHECK(max_read_resources == 1000);
}

TEST_CASE("flight: a level-0 proposal with a mutation is refused NoStateMutation and reads "
          "nothing") {
  world w;
  auto p = make_proposal(authority_level::read_only, 1, 60000);
  w.s = fl::start(p, id_of(33), trace_id{33});
  std::vector<fl::command> out;
  REQUIRE_FALSE(fl::allow(w.s, 0, {}, w.cx(1000), out));
  w.take(out);
  CHECK(!w.s.read);
  w.feed(input{input::commit, 1001, 0, {}, {}});
  CHECK(!w.reply); // refused: an error, not an outcome
  CHECK(w.answers == 1);
  proposal_decided d;
  REQUIRE(!w.journal.empty());
  REQUIRE_FALSE(payload_of(w.journal.front().second, d));
  CHECK(!d.allowed);
  CHECK(d.code == ec::authority_denied);
  CHECK(d.reason.rfind("NoStateMutation: ", 0) == 0);
  CHECK(w.calls_made() == 0);
}
