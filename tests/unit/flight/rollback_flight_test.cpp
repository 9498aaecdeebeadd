// A rollback as a compensation flight of the machine, alone: worked examples of its rules,
// and properties over random input sequences (10,000 per run over fixed seeds;
// BULWARK_FLIGHT_CASES=N runs N).
//
// The test is the flight's world: it commits appends, answers calls and fires the
// approval timer in a random order with stale answers and hostile inputs mixed in. At
// every step it checks that no compensation is called before the plan (and, below level
// 4, the approval) is durable, that no step is called twice or answered twice, that an
// input the flight cannot take changes nothing; at the end that the flight finished with
// one answer that agrees with the journaled outcome, and that replaying the same inputs
// gives the same states and commands.

#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "actors/flight/rollback_flight.hpp"
#include "unit/flight/flight_cases.hpp"
#include "persistence/codec.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
namespace fl = bulwark::flight;

namespace {

caf::timestamp at_ms(int64_t ms) {
  return caf::timestamp{std::chrono::milliseconds{ms}};
}

/// A plan of `n` steps over services svc0, svc1, ..., newest first (reverts n, n-1, ...).
std::pair<rollback_requested, std::vector<rollback_step>> make_plan(authority_level level,
                                                                    size_t n) {
  rollback_requested plan;
  plan.rollback = digest{};
  plan.rollback.bytes[0] = 0x7a;
  plan.by = principal_id{"alice"};
  plan.level = level;
  plan.justification = "test";
  std::vector<rollback_step> steps;
  for (size_t i = 0; i < n; ++i) {
    auto seq = seq_no{n - i + 10};
    plan.reverts.push_back(seq);
    rollback_step s;
    s.reverts = seq;
    s.service = "svc" + std::to_string(i % 2);
    s.resource = resource_id{"r" + std::to_string(i)};
    s.key = "version";
    s.current = "v" + std::to_string(i + 2);
    if (i % 3 != 2)
      s.restore = "v" + std::to_string(i + 1);
    steps.push_back(s);
  }
  return {plan, steps};
}

struct world {
  fleet_state fleet;
  fl::settings config;
  caf::timestamp now = at_ms(1000);
  uint64_t head = 100;
  std::vector<std::vector<event>> journal; ///< committed transactions
  std::vector<fl::command> log;            ///< every command, in order
  world() {
    config.approvals.operators = {"alice", "bob"};
    config.approvals.admins = {"root"};
    config.approval_timeout = std::chrono::seconds{60};
    config.effector_timeout = std::chrono::seconds{2};
    for (int i = 0; i < 8; ++i) {
      resource_state r;
      r.service = "svc" + std::to_string(i % 2);
      r.region = "north";
      fleet.resources["r" + std::to_string(i)] = r;
    }
  }
  fl::context cx() const {
    return fl::context{now, &fleet, &config};
  }
  std::vector<fl::command> take(std::vector<fl::command> out) {
    log.insert(log.end(), out.begin(), out.end());
    return out;
  }
  /// The last command of `kind` in `out` (fails the test when there is none).
  static const fl::command& find(const std::vector<fl::command>& out, fl::command_kind kind) {
    for (auto i = out.rbegin(); i != out.rend(); ++i)
      if (i->kind == kind)
        return *i;
    FAIL("no command of that kind");
    return out.front();
  }
  appended commit(const fl::command& c) {
    journal.push_back(c.events);
    auto first = head + 1;
    head += c.events.size();
    return appended{seq_no{first}, seq_no{head}, digest{}};
  }
  /// A rollback of `steps` whose plan is durable; `out` holds what it asked for then.
  fl::compensation planned(const rollback_requested& plan,
                           const std::vector<rollback_step>& steps,
                           std::vector<fl::command>& out) {
    out.clear();
    auto c = fl::begin_rollback(plan, steps, cx(), out);
    auto token = out.at(0).token;
    auto ack = commit(out[0]);
    out.clear();
    REQUIRE_FALSE(fl::committed(c, token, ack, cx(), out));
    return c;
  }
};

const effector_result done_ok{true, ec::none, "", caf::none};

bool has(const std::vector<fl::command>& out, fl::command_kind kind) {
  for (auto& c : out)
    if (c.kind == kind)
      return true;
  return false;
}

std::vector<event_type> types_of(const std::vector<event>& evs) {
  std::vector<event_type> out;
  for (auto& e : evs)
    out.push_back(e.type);
  return out;
}

} // namespace

TEST_CASE("rollback flight: level 4 journals its plan before the first compensation, runs "
          "newest first, and journals every undo with the finish in one commit") {
  world w;
  auto [plan, steps] = make_plan(authority_level::enforce, 3);
  std::vector<fl::command> out;
  auto c = fl::begin_rollback(plan, steps, w.cx(), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == fl::command_kind::append);
  CHECK(types_of(out[0].events) == std::vector<event_type>{event_type::rollback_requested});
  CHECK_FALSE(has(out, fl::command_kind::call)); // write-ahead: nothing runs yet
  auto plan_token = out[0].token;
  auto ack = w.commit(out[0]);
  for (size_t i = 0; i < 3; ++i) {
    out.clear();
    auto r = i == 0 ? fl::committed(c, plan_token, ack, w.cx(), out)
                    : fl::effected(c, c.awaited, done_ok,
                                   w.cx(), out);
    REQUIRE_FALSE(r);
    REQUIRE(out.size() == 1);
    auto& call = out[0];
    REQUIRE(call.kind == fl::command_kind::call);
    CHECK(call.step == i);
    CHECK(call.call.compensation);
    CHECK(call.call.service == steps[i].service);
    CHECK(call.call.change.resource == steps[i].resource);
    CHECK(call.call.restore == steps[i].restore);
    CHECK(call.call.idempotency_key == to_hex(plan.rollback) + "/" + std::to_string(i));
    CHECK(call.call.deadline == w.now + w.config.effector_timeout);
  }
  out.clear();
  REQUIRE_FALSE(fl::effected(c, c.awaited, done_ok,
                             w.cx(), out));
  auto& fin = world::find(out, fl::command_kind::append);
  auto types = types_of(fin.events);
  CHECK(types == std::vector<event_type>{event_type::rollback_applied,
                                         event_type::rollback_applied,
                                         event_type::rollback_applied,
                                         event_type::rollback_finished});
  CHECK(c.at == fl::phase::finishing);
  CHECK_FALSE(has(out, fl::command_kind::report)); // answered only once durable
  auto done = w.commit(fin);
  out.clear();
  REQUIRE_FALSE(fl::committed(c, fin.token, done, w.cx(), out));
  auto& rep = world::find(out, fl::command_kind::report);
  CHECK(rep.status.status == "succeeded");
  CHECK(rep.status.reverted == 3);
  CHECK(rep.status.seq == done.last);
  CHECK(out.back().kind == fl::command_kind::finished);
  CHECK(fl::over(c));
}

TEST_CASE("rollback flight: a failed compensation does not stop the others and ends "
          "compensation_failed with its dead letter and P1 incident") {
  world w;
  auto [plan, steps] = make_plan(authority_level::enforce, 3);
  std::vector<fl::command> out;
  auto c = w.planned(plan, steps, out);
  // step 0 fails, 1 and 2 succeed
  out.clear();
  REQUIRE_FALSE(fl::effected(c, c.awaited,
                             effector_result{false, ec::effector_failed, "refused", caf::none},
                             w.cx(), out));
  REQUIRE(world::find(out, fl::command_kind::call).step == 1);
  out.clear();
  REQUIRE_FALSE(fl::effected(c, c.awaited, done_ok,
                             w.cx(), out));
  out.clear();
  REQUIRE_FALSE(fl::effected(c, c.awaited, done_ok,
                             w.cx(), out));
  auto& fin = world::find(out, fl::command_kind::append);
  auto types = types_of(fin.events);
  CHECK(std::count(types.begin(), types.end(), event_type::rollback_applied) == 2);
  CHECK(std::count(types.begin(), types.end(), event_type::dead_lettered) == 1);
  CHECK(std::count(types.begin(), types.end(), event_type::incident_opened) == 1);
  CHECK(types.back() == event_type::rollback_finished);
  out.clear();
  REQUIRE_FALSE(fl::committed(c, fin.token, w.commit(fin), w.cx(), out));
  auto& rep = world::find(out, fl::command_kind::report);
  CHECK(rep.status.status == "compensation_failed");
  CHECK(rep.status.reverted == 2);
  CHECK(rep.status.code == ec::effector_failed);
}

TEST_CASE("rollback flight: below level 4 it waits for an approver the policy accepts, "
          "journaled with the approver's role and grant") {
  world w;
  auto [plan, steps] = make_plan(authority_level::assist, 2);
  std::vector<fl::command> out;
  auto c = w.planned(plan, steps, out);
  CHECK(c.at == fl::phase::awaiting_approval);
  CHECK_FALSE(has(out, fl::command_kind::call));
  CHECK(world::find(out, fl::command_kind::arm_approval).after == w.config.approval_timeout);
  auto& waiting = world::find(out, fl::command_kind::report);
  CHECK(waiting.status.status == "awaiting-approval");
  CHECK(waiting.status.seq == seq_no{w.head});

  SUBCASE("a principal without an approver role is refused and nothing changes") {
    auto before = fl::fingerprint(c);
    out.clear();
    auto r = fl::answer(c, principal_id{"mallory"}, true, "", w.cx(), out);
    CHECK(r.code == ec::authority_denied);
    CHECK(out.empty());
    CHECK(fl::fingerprint(c) == before);
    r = fl::answer(c, principal_id{"not a name!"}, true, "", w.cx(), out);
    CHECK(r.code == ec::invalid_input);
    CHECK(fl::fingerprint(c) == before);
  }
  SUBCASE("the order's own principal may approve it (no proposer rule), and it then runs") {
    out.clear();
    REQUIRE_FALSE(fl::answer(c, principal_id{"alice"}, true, "ok", w.cx(), out));
    auto& a = world::find(out, fl::command_kind::append);
    CHECK(types_of(a.events) == std::vector<event_type>{event_type::approval_granted,
                                                        event_type::approval_checked});
    approval_checked evidence;
    REQUIRE_FALSE(decode(a.events[1].payload, evidence));
    CHECK(evidence.approver.value == "alice");
    CHECK(evidence.role == "operator");
    CHECK(evidence.approve);
    CHECK_FALSE(has(out, fl::command_kind::call)); // not before the approval is durable
    auto t = a.token;
    auto done = w.commit(a);
    out.clear();
    REQUIRE_FALSE(fl::committed(c, t, done, w.cx(), out));
    CHECK(world::find(out, fl::command_kind::call).step == 0);
    // A second answer is refused: it no longer waits.
    out.clear();
    CHECK(fl::answer(c, principal_id{"bob"}, true, "", w.cx(), out).code == ec::invalid_input);
    CHECK(out.empty());
  }
  SUBCASE("a denial ends it failed, AUTHORITY_DENIED, with nothing reverted") {
    out.clear();
    REQUIRE_FALSE(fl::answer(c, principal_id{"bob"}, false, "no", w.cx(), out));
    auto& a = world::find(out, fl::command_kind::append);
    CHECK(a.events[0].type == event_type::approval_denied);
    auto t = a.token;
    out.clear();
    REQUIRE_FALSE(fl::committed(c, t, w.commit(a), w.cx(), out));
    auto& fin = world::find(out, fl::command_kind::append);
    CHECK(types_of(fin.events) == std::vector<event_type>{event_type::rollback_finished});
    out.clear();
    REQUIRE_FALSE(fl::committed(c, fin.token, w.commit(fin), w.cx(), out));
    auto& rep = world::find(out, fl::command_kind::report);
    CHECK(rep.status.status == "failed");
    CHECK(rep.status.code == ec::authority_denied);
    CHECK(rep.status.reverted == 0);
  }
  SUBCASE("the approval window running out journals the expiry, then the failed outcome") {
    out.clear();
    REQUIRE_FALSE(fl::approval_expired(c, w.cx(), out));
    auto& a = world::find(out, fl::command_kind::append);
    CHECK(a.events[0].type == event_type::approval_expired);
    auto t = a.token;
    out.clear();
    REQUIRE_FALSE(fl::committed(c, t, w.commit(a), w.cx(), out));
    auto& fin = world::find(out, fl::command_kind::append);
    out.clear();
    REQUIRE_FALSE(fl::committed(c, fin.token, w.commit(fin), w.cx(), out));
    CHECK(world::find(out, fl::command_kind::report).status.code == ec::approval_expired);
    // The timer firing again changes nothing.
    out.clear();
    CHECK(fl::approval_expired(c, w.cx(), out).code == ec::invalid_input);
    CHECK(out.empty());
  }
  SUBCASE("during a halt only an admin's approval runs it") {
    w.fleet.halted = true;
    auto before = fl::fingerprint(c);
    out.clear();
    CHECK(fl::answer(c, principal_id{"bob"}, true, "", w.cx(), out).code == ec::halted);
    CHECK(fl::fingerprint(c) == before);
    CHECK_FALSE(fl::answer(c, principal_id{"bob"}, false, "", w.cx(), out)); // a denial may
    world w2;
    w2.fleet.halted = true;
    std::vector<fl::command> o2;
    auto c2 = w2.planned(plan, steps, o2);
    o2.clear();
    CHECK_FALSE(fl::answer(c2, principal_id{"root"}, true, "", w2.cx(), o2));
  }
}

TEST_CASE("rollback flight: a rebuilt rollback waits for the rest of its window, or expires at "
          "once when it passed, and an approval then runs it") {
  world w;
  auto [plan, steps] = make_plan(authority_level::assist, 2);
  auto requested = w.now - std::chrono::seconds{20};
  std::vector<fl::command> out;
  auto c = fl::rebuild_rollback(plan, steps, requested, w.cx(), out);
  CHECK(c.at == fl::phase::awaiting_approval);
  REQUIRE(out.size() == 1); // no append, no answer: the plan is journaled, nobody waits
  CHECK(out[0].kind == fl::command_kind::arm_approval);
  CHECK(out[0].after == w.config.approval_timeout - std::chrono::seconds{20});
  out.clear();
  REQUIRE_FALSE(fl::answer(c, principal_id{"bob"}, true, "", w.cx(), out));
  auto& a = world::find(out, fl::command_kind::append);
  auto t = a.token;
  auto ack = w.commit(a);
  out.clear();
  REQUIRE_FALSE(fl::committed(c, t, ack, w.cx(), out));
  CHECK(world::find(out, fl::command_kind::call).step == 0);

  world late;
  out.clear();
  auto gone = fl::rebuild_rollback(plan, steps, late.now - late.config.approval_timeout,
                                   late.cx(), out);
  CHECK(gone.at == fl::phase::approving);
  auto& expiry = world::find(out, fl::command_kind::append);
  CHECK(types_of(expiry.events) == std::vector<event_type>{event_type::approval_expired});
  CHECK_FALSE(has(out, fl::command_kind::arm_approval));
}

TEST_CASE("rollback flight: a step another rollback reverted meanwhile is dropped when it "
          "runs, and an empty plan finishes at once") {
  world w;
  auto [plan, steps] = make_plan(authority_level::enforce, 3);
  w.fleet.reverted[steps[1].reverts.value] = digest{};
  std::vector<fl::command> out;
  auto c = w.planned(plan, steps, out);
  CHECK(c.steps.size() == 2);
  std::set<std::string> called;
  for (int i = 0; i < 2; ++i) {
    called.insert(world::find(out, fl::command_kind::call).call.change.resource.value);
    out.clear();
    REQUIRE_FALSE(fl::effected(c, c.awaited, done_ok,
                               w.cx(), out));
  }
  CHECK(called == std::set<std::string>{steps[0].resource.value, steps[2].resource.value});

  world e;
  auto [none, no_steps] = make_plan(authority_level::assist, 0);
  auto empty = e.planned(none, no_steps, out); // no approval for nothing
  CHECK(empty.at == fl::phase::finishing);
  auto& fin = world::find(out, fl::command_kind::append);
  CHECK(types_of(fin.events) == std::vector<event_type>{event_type::rollback_finished});
}

TEST_CASE("rollback flight: a journal that fails ends it with AUDIT_UNAVAILABLE, and stale "
          "answers change nothing") {
  world w;
  auto [plan, steps] = make_plan(authority_level::enforce, 2);
  std::vector<fl::command> out;
  auto c = fl::begin_rollback(plan, steps, w.cx(), out);
  auto t = out[0].token;
  auto before = fl::fingerprint(c);
  std::vector<fl::command> none;
  CHECK(fl::committed(c, t + 1, appended{}, w.cx(), none).code == ec::invalid_input);
  CHECK(fl::effected(c, t, done_ok, w.cx(), none).code
        == ec::invalid_input);
  CHECK(fl::answer(c, principal_id{"bob"}, true, "", w.cx(), none).code == ec::invalid_input);
  CHECK(none.empty());
  CHECK(fl::fingerprint(c) == before);
  out.clear();
  REQUIRE_FALSE(fl::commit_failed(c, t, error_info{ec::audit_unavailable, "disk full", {}, {}},
                                  w.cx(), out));
  auto& r = world::find(out, fl::command_kind::refuse);
  CHECK(r.code == ec::audit_unavailable);
  CHECK(r.message.find("plan could not be journaled: disk full") != std::string::npos);
  CHECK(out.back().kind == fl::command_kind::finished);
  CHECK_FALSE(has(out, fl::command_kind::call));
  CHECK(fl::over(c));
  // A follower's refusal keeps its code and its retry hint.
  auto [p2, s2] = make_plan(authority_level::enforce, 1);
  out.clear();
  auto c2 = fl::begin_rollback(p2, s2, w.cx(), out);
  auto t2 = out[0].token;
  out.clear();
  REQUIRE_FALSE(fl::commit_failed(c2, t2,
                                  error_info{ec::unavailable, "this node is a follower", {},
                                             caf::timespan{std::chrono::seconds{1}}},
                                  w.cx(), out));
  auto& r2 = world::find(out, fl::command_kind::refuse);
  CHECK(r2.code == ec::unavailable);
  CHECK(r2.retry_after == caf::timespan{std::chrono::seconds{1}});
}

namespace {

/// How a random run ended, for the coverage check.
struct ending {
  std::string status; ///< the answer's status, or "refused" (the journal failed)
  size_t called = 0;  ///< compensations called
  ec code = ec::none;
};

/// One random run: inputs drawn from `seed`; returns the fingerprints and command kinds
/// it went through (for the replay check) and how it ended. Checks the properties as it
/// goes.
std::vector<std::string> random_run(uint64_t seed, ending* end = nullptr) {
  std::mt19937_64 rng{seed};
  auto pick = [&rng](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  world w;
  w.fleet.halted = pick(5) == 0;
  auto level = pick(2) == 0 ? authority_level::enforce
                            : static_cast<authority_level>(1 + pick(3));
  auto [plan, steps] = make_plan(level, pick(5));
  size_t planned = steps.size();
  if (planned > 0 && pick(4) == 0) // another rollback reverted one meanwhile
    w.fleet.reverted[steps[pick(planned)].reverts.value] = digest{};
  std::vector<std::string> trace;
  std::vector<fl::command> out;
  auto c = fl::begin_rollback(plan, steps, w.cx(), out);
  std::vector<fl::command> pending_appends; // not yet answered
  std::vector<fl::command> pending_calls;
  bool plan_durable = false;
  bool approval_durable = false;
  bool timer_armed = false;
  std::set<uint32_t> called;
  size_t reports_final = 0;
  size_t finished = 0;
  auto absorb = [&](std::vector<fl::command>& cmds) {
    for (auto& x : cmds) {
      trace.push_back(std::to_string(static_cast<int>(x.kind)) + ":" + std::to_string(x.token));
      switch (x.kind) {
        case fl::command_kind::append: pending_appends.push_back(x); break;
        case fl::command_kind::call:
          // Write-ahead: the plan, and below level 4 the approval, are durable first.
          CHECK(plan_durable);
          CHECK((level == authority_level::enforce || approval_durable));
          CHECK(called.insert(x.step).second); // each step called once
          pending_calls.push_back(x);
          break;
        case fl::command_kind::arm_approval: timer_armed = true; break;
        case fl::command_kind::report:
          if (x.status.status != "awaiting-approval")
            ++reports_final;
          break;
        case fl::command_kind::refuse: ++reports_final; break;
        case fl::command_kind::finished: ++finished; break;
        default: FAIL("a rollback asks for no proposal command"); break;
      }
    }
    cmds.clear();
  };
  absorb(out);
  for (int turn = 0; turn < 200 && !fl::over(c); ++turn) {
    auto before = fl::fingerprint(c);
    fl::refusal r;
    std::vector<fl::command> o;
    auto choice = pick(7);
    w.now += std::chrono::milliseconds{1 + pick(50)};
    if (choice <= 1 && !pending_appends.empty()) {
      auto x = pending_appends.front();
      pending_appends.erase(pending_appends.begin());
      if (pick(25) == 0) {
        r = fl::commit_failed(c, x.token, error_info{ec::audit_unavailable, "injected", {}, {}},
                              w.cx(), o);
      } else {
        auto types = types_of(x.events);
        r = fl::committed(c, x.token, w.commit(x), w.cx(), o);
        if (!r && types.front() == event_type::rollback_requested)
          plan_durable = true;
        if (!r && types.front() == event_type::approval_granted)
          approval_durable = true;
      }
    } else if (choice <= 3 && !pending_calls.empty()) {
      auto x = pending_calls.front();
      pending_calls.erase(pending_calls.begin());
      bool ok = pick(4) != 0;
      r = fl::effected(c, x.token,
                       effector_result{ok, ok ? ec::none : ec::effector_failed,
                                       ok ? "" : "no", caf::none},
                       w.cx(), o);
    } else if (choice == 4) {
      static const char* who[] = {"alice", "bob", "root", "mallory", "x y"};
      std::string by = who[pick(5)];
      bool approve = pick(3) != 0;
      r = fl::answer(c, principal_id{by}, approve, "n", w.cx(), o);
      // Never taken from a principal without an approver role, nor, during a halt, an
      // approval from anyone but an admin.
      if (by == "mallory" || by == "x y")
        CHECK(r);
      if (approve && w.fleet.halted && by != "root")
        CHECK(r);
    } else if (choice == 5) {
      if (timer_armed || pick(3) == 0)
        r = fl::approval_expired(c, w.cx(), o);
    } else {
      // Hostile: stale tokens.
      auto stale_token = c.tokens + 1 + pick(3);
      if (pick(2) == 0)
        r = fl::committed(c, stale_token, appended{}, w.cx(), o);
      else
        r = fl::effected(c, stale_token, done_ok,
                         w.cx(), o);
    }
    if (r) { // refused: nothing changed
      CHECK(o.empty());
      CHECK(fl::fingerprint(c) == before);
      trace.push_back("refused:" + std::to_string(static_cast<int>(r.code)));
    }
    absorb(o);
    trace.push_back(fl::fingerprint(c));
  }
  // The world then answers what it owes, and an approval nobody gave expires.
  for (int turn = 0; turn < 100 && !fl::over(c); ++turn) {
    std::vector<fl::command> o;
    fl::refusal r;
    if (!pending_appends.empty()) {
      auto x = pending_appends.front();
      pending_appends.erase(pending_appends.begin());
      auto types = types_of(x.events);
      r = fl::committed(c, x.token, w.commit(x), w.cx(), o);
      if (!r && types.front() == event_type::rollback_requested)
        plan_durable = true;
      if (!r && types.front() == event_type::approval_granted)
        approval_durable = true;
    } else if (!pending_calls.empty()) {
      auto x = pending_calls.front();
      pending_calls.erase(pending_calls.begin());
      r = fl::effected(c, x.token, done_ok, w.cx(), o);
    } else {
      r = fl::approval_expired(c, w.cx(), o);
    }
    CHECK_FALSE(r);
    absorb(o);
    trace.push_back(fl::fingerprint(c));
  }
  CHECK(fl::over(c));          // it ends
  CHECK(finished == 1);        // once
  CHECK(reports_final == 1);   // with one answer
  CHECK(called.size() <= planned);
  if (!c.result.status.empty() && c.result.seq.value != 0) {
    // The answer agrees with the journaled outcome.
    auto& last = w.journal.back();
    auto types = types_of(last);
    CHECK(types.back() == event_type::rollback_finished);
    auto applied = std::count(types.begin(), types.end(), event_type::rollback_applied);
    auto failed = std::count(types.begin(), types.end(), event_type::compensation_failed);
    CHECK(static_cast<uint32_t>(applied) == c.result.reverted);
    // One outcome per compensation called: undone or failed, never both, never twice.
    CHECK(static_cast<size_t>(applied + failed) == called.size());
  }
  if (end != nullptr)
    *end = ending{c.result.seq.value != 0 ? c.result.status : std::string{"refused"},
                  called.size(), c.result.code};
  return trace;
}

} // namespace

TEST_CASE("rollback flight: random input sequences keep write-ahead, one outcome per "
          "compensation, an end, one answer, and replay to the same states") {
  auto n = test::flight_cases();
  std::map<std::string, size_t> statuses;
  std::map<ec, size_t> codes;
  size_t calling = 0;
  for (uint64_t seed = 1; seed <= n; ++seed) {
    ending end;
    auto first = random_run(seed, &end);
    ++statuses[end.status];
    ++codes[end.code];
    calling += end.called > 0 ? 1 : 0;
    if (seed % 10 == 0)
      CHECK(random_run(seed) == first); // replay: the same states and commands
  }
  if (n >= 1000) { // the sequences reach every ending, not one of them only
    MESSAGE("runs that called a compensation: " << calling << " of " << n);
    CHECK(calling > n / 4);
    for (auto s : {"succeeded", "failed", "compensation_failed", "refused"})
      CHECK_MESSAGE(statuses[s] > n / 100, s);
    for (auto c : {ec::authority_denied, ec::approval_expired, ec::effector_failed})
      CHECK_MESSAGE(codes[c] > n / 100, to_string(c));
  }
}
