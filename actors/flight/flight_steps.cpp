// How a flight moves: starting, calling, recording, compensating and finishing its
// steps, the level rules the machine's inputs (flight_machine.cpp) are made of.

#include "actors/flight/flight_steps.hpp"

#include <algorithm>

#include "persistence/compensation_policy.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::flight::detail {

refusal no(ec code, std::string message) {
  return refusal{code, std::move(message)};
}

void arm(command_kind kind, nanoseconds after, std::vector<command>& out) {
  command c;
  c.kind = kind;
  c.after = after;
  out.push_back(std::move(c));
}

void over(state& s, std::vector<command>& out) {
  s.at = phase::done;
  s.awaited = 0;
  command c;
  c.kind = command_kind::finished;
  out.push_back(std::move(c));
}

void fail_all(state& s, ec code, std::string message, caf::optional<caf::timespan> retry_after,
              std::vector<command>& out) {
  command c;
  c.kind = command_kind::refuse;
  c.code = code;
  c.message = std::move(message);
  c.retry_after = retry_after;
  out.push_back(std::move(c));
  over(s, out);
}

outcome outcome_of(const state& s) {
  return outcome{s.id,        s.final_status,
                 s.final_code, s.final_message,
                 s.decided,    static_cast<uint32_t>(s.done.size()),
                 s.compensated, s.final_retry_after, caf::none};
}

/// The service of the resource `m` changes, as journaled ("" when unknown).
std::string service_of(const context& cx, const mutation& m) {
  auto& res = cx.fleet->resources;
  auto r = res.find(m.resource.value);
  return r == res.end() ? std::string{} : r->second.service;
}

/// The value `m`'s key holds now: the newest change of this flight, else the fleet's.
event budget_charge(const state& s, const context& cx) {
  budget_charged c;
  c.proposal = s.id;
  c.principal = s.p.principal;
  c.window = std::chrono::duration_cast<caf::timespan>(cx.config->budget_window);
  c.until = cx.now + c.window;
  for (auto& m : s.p.mutations) {
    budget_entry e{m.resource, "", ""};
    if (auto r = cx.fleet->resources.find(m.resource.value); r != cx.fleet->resources.end()) {
      e.service = r->second.service;
      e.region = r->second.region;
    }
    c.entries.push_back(std::move(e));
  }
  return make_event(event_type::budget_charged, cx.now, c, s.trace);
}

std::optional<std::string> current_value(const state& s, const context& cx, const mutation& m) {
  for (auto i = s.done.rbegin(); i != s.done.rend(); ++i)
    if (i->change.resource == m.resource && i->change.key == m.key)
      return i->change.value;
  auto& res = cx.fleet->resources;
  auto r = res.find(m.resource.value);
  if (r == res.end())
    return std::nullopt;
  auto a = r->second.attributes.find(m.key);
  if (a == r->second.attributes.end())
    return std::nullopt;
  return a->second;
}

bool halted(const context& cx) {
  return cx.fleet->halted;
}

std::optional<std::pair<ec, std::string>> stop_reason(const state& s, const context& cx) {
  if (halted(cx))
    return std::make_pair(ec::halted, std::string{"the node is halted"});
  auto grant = effective_grant(s.p.principal.value, cx.config->authority, cx.fleet->grants,
                               cx.now);
  if (!grant || *grant < s.p.level)
    return std::make_pair(ec::authority_denied,
                          "the grant of " + s.p.principal.value + " is now "
                            + (grant ? "level " + std::to_string(static_cast<int>(*grant))
                                     : std::string{"none"})
                            + ", below the proposal's level "
                            + std::to_string(static_cast<int>(s.p.level)));
  return std::nullopt;
}

void finish(state& s, const context& cx, std::vector<command>& out) {
  if (s.compensations_failed > 0 && s.final_status != proposal_status::compensation_failed) {
    // Not a plain failure: a change stays applied (the records before say which).
    s.final_status = proposal_status::compensation_failed;
    s.final_message = "compensation failed for " + std::to_string(s.compensations_failed)
                      + " of " + std::to_string(s.done.size())
                      + " applied steps (see the dead letters and the P1 incidents): "
                      + s.final_message;
  }
  bool ok = s.final_status == proposal_status::succeeded;
  auto applied = static_cast<uint32_t>(s.done.size());
  s.pending.push_back(make_event(event_type::proposal_finished, cx.now,
                                 proposal_finished{s.id, ok, s.final_code, applied,
                                                   s.compensated, s.final_message},
                                 s.trace));
  s.at = phase::finishing;
  append(s, std::move(s.pending), out);
  s.pending.clear();
}


/// Asks for an effector call within the deadline; a deadline that has passed is a
/// failure of its own: the effector is not called and not blamed.
void call(state& s, const mutation& m, bool compensation, std::optional<std::string> restore,
          std::string key, const context& cx, std::vector<command>& out) {
  auto left = s.p.deadline - cx.now;
  auto timeout = std::min<nanoseconds>(cx.config->effector_timeout, left);
  if (timeout <= nanoseconds{0}) {
    auto what = compensation ? "the compensation of step " : "step ";
    auto step = compensation ? s.undo - 1 : s.next;
    effector_result r{false, ec::timeout,
                      std::string{"the proposal's execution deadline passed before "} + what
                        + std::to_string(step) + " could be called (the effector was not "
                                                 "called)",
                      caf::none};
    if (compensation)
      return on_undone(s, r, cx, out);
    return on_call_failed(s, r, cx, out);
  }
  command c;
  c.kind = command_kind::call;
  c.token = next_token(s);
  c.step = compensation ? static_cast<uint32_t>(s.undo - 1) : s.next;
  c.call.service = service_of(cx, m);
  c.call.change = m;
  c.call.compensation = compensation;
  if (restore)
    c.call.restore = *restore;
  c.call.idempotency_key = std::move(key);
  c.call.deadline = cx.now + timeout;
  c.after = timeout;
  out.push_back(std::move(c));
}

/// Calls the effector for step `next`, whose start is durable.
void call_step(state& s, const context& cx, std::vector<command>& out) {
  s.at = phase::calling;
  call(s, s.p.mutations[s.next], false, std::nullopt,
       to_hex(s.id) + "/" + std::to_string(s.next), cx, out);
}

void start_step(state& s, const context& cx, std::vector<command>& out) {
  auto& m = s.p.mutations[s.next];
  if (s.next < s.started)
    return call_step(s, cx, out); // its start is durable already
  // Write-ahead: the start is durable before the effector runs (in-doubt detection).
  s.at = phase::starting;
  s.started = s.next + 1;
  append(s, {make_event(event_type::action_started, cx.now, action_started{s.id, s.next, m},
                        s.trace)},
         out);
}

void undo_next(state& s, const context& cx, std::vector<command>& out) {
  if (s.undo == 0)
    return finish(s, cx, out);
  auto& step = s.done[s.undo - 1];
  auto change = step.change;
  auto restore = step.old_value;
  call(s, change, true, std::move(restore),
       to_hex(s.id) + "/" + std::to_string(s.undo - 1) + "/undo", cx, out);
}

/// Starts undoing the applied steps, newest first.
void compensate(state& s, const context& cx, std::vector<command>& out) {
  s.at = phase::compensating;
  s.undo = s.done.size();
  undo_next(s, cx, out);
}

/// Journals the steps in [from, started) as not run: their start is durable, and each
/// start gets exactly one outcome.
void not_run(state& s, uint32_t from, ec code, const std::string& why, const context& cx) {
  for (auto i = from; i < s.started; ++i)
    s.pending.push_back(make_event(event_type::action_failed, cx.now,
                                   action_failed{s.id, i, s.p.mutations[i], code, why},
                                   s.trace));
}

/// A journaled halt (or a grant lowered below the flight's level) stops the flight before
/// its next effect: steps whose start is durable but that did not run get their outcome
/// ("not run"), then levels 2 and 3 compensate what was applied; level 4 keeps it, as on
/// a failure.
void halt_stop(state& s, const context& cx, std::vector<command>& out,
               const std::pair<ec, std::string>& why) {
  not_run(s, s.next, why.first, "not run: " + why.second, cx);
  s.final_status = proposal_status::interrupted;
  s.final_code = why.first;
  auto after = " after " + std::to_string(s.done.size()) + " of "
               + std::to_string(s.p.mutations.size()) + " steps";
  s.final_message = why.first == ec::halted ? "halted" + after
                                            : "stopped" + after + ": " + why.second;
  bool all_or_nothing = s.p.level == authority_level::recommend
                        || s.p.level == authority_level::act;
  if (all_or_nothing && !s.done.empty())
    return compensate(s, cx, out);
  finish(s, cx, out);
}

void run_next(state& s, const context& cx, std::vector<command>& out) {
  if (s.at == phase::compensating)
    return undo_next(s, cx, out);
  if (s.interrupted) {
    s.final_status = proposal_status::interrupted;
    s.final_code = ec::none;
    s.final_message = "interrupted after " + std::to_string(s.done.size()) + " steps";
    return compensate(s, cx, out);
  }
  if (s.next == s.p.mutations.size())
    return finish(s, cx, out);
  if (auto why = stop_reason(s, cx))
    return halt_stop(s, cx, out, *why);
  if (s.p.level == authority_level::recommend && s.next == 0) {
    // All starts of the batch are durable before its first effector call.
    std::vector<event> starts;
    starts.reserve(s.p.mutations.size());
    for (uint32_t i = 0; i < s.p.mutations.size(); ++i)
      starts.push_back(make_event(event_type::action_started, cx.now,
                                  action_started{s.id, i, s.p.mutations[i]}, s.trace));
    s.at = phase::starting;
    s.started = static_cast<uint32_t>(s.p.mutations.size());
    return append(s, std::move(starts), out);
  }
  start_step(s, cx, out);
}

nanoseconds approval_window_of(const state& s, const context& cx) {
  return window_of(s, *cx.config);
}

std::string describe_window(const state& s, const context& cx) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(approval_window_of(s, cx));
  auto length = ms.count() % 1000 == 0 ? std::to_string(ms.count() / 1000) + " s"
                                       : std::to_string(ms.count()) + " ms";
  bool own = s.p.approval_window && *s.p.approval_window <= cx.config->approval_timeout;
  return length + (own ? ", the proposal's own: approval_window_ms"
                       : ", the node's: authority.approval_timeout_ms");
}

void launch(state& s, const context& cx, std::vector<command>& out) {
  switch (s.p.level) {
    case authority_level::read_only: {
      command c;
      c.kind = command_kind::reply;
      c.result = outcome{s.id, proposal_status::read, ec::none, "read-only", s.decided,
                         0,    0,                     caf::none,    s.read};
      out.push_back(std::move(c));
      return over(s, out);
    }
    case authority_level::assist:
    case authority_level::recommend: {
      auto window = approval_window_of(s, cx);
      s.at = phase::awaiting_approval;
      s.expires = cx.now + window;
      s.budget = std::max(nanoseconds{0}, s.p.deadline - cx.now);
      return arm(command_kind::arm_approval, window, out);
    }
    case authority_level::act:
    case authority_level::enforce:
      return run_next(s, cx, out);
  }
}

void record_failure(state& s, const effector_result& r, const context& cx) {
  auto& m = s.p.mutations[s.next];
  s.pending.push_back(make_event(event_type::action_failed, cx.now,
                                 action_failed{s.id, s.next, m, r.code, r.message}, s.trace));
  // Retries exhausted (the breaker retried timeouts and unavailability until its attempts
  // or the deadline ran out, or its circuit opened in between): the action waits for an
  // operator in the dead-letter list, journaled in the same transaction as its failure.
  if (r.code == ec::timeout || r.code == ec::unavailable || r.code == ec::circuit_open)
    s.pending.push_back(make_event(event_type::dead_lettered, cx.now,
                                   dead_lettered{s.id, s.next, s.p.principal, s.p.level,
                                                 service_of(cx, m), m, r.code, r.message,
                                                 cx.now},
                                   s.trace));
  s.final_status = proposal_status::failed;
  s.final_code = r.code == ec::none ? ec::unavailable : r.code;
  s.final_message = "step " + std::to_string(s.next) + " failed: " + r.message;
  s.final_retry_after = r.retry_after;
}

void on_call_failed(state& s, const effector_result& r, const context& cx,
                    std::vector<command>& out) {
  record_failure(s, r, cx);
  // A batch's later steps were started with it: they get their outcome, not run.
  not_run(s, s.next + 1, r.code == ec::none ? ec::unavailable : r.code,
          "not run: step " + std::to_string(s.next) + " of the batch failed", cx);
  if (s.p.level == authority_level::enforce || s.p.level == authority_level::assist)
    return finish(s, cx, out);
  compensate(s, cx, out); // levels 2 and 3: undo what this proposal applied
}

void on_undone(state& s, const effector_result& r, const context& cx, std::vector<command>& out) {
  auto& step = s.done[s.undo - 1];
  if (r.ok) {
    caf::optional<std::string> restore;
    if (step.old_value)
      restore = *step.old_value;
    s.pending.push_back(make_event(event_type::rollback_applied, cx.now,
                                   rollback_applied{s.id, step.applied_seq, step.change.resource,
                                                    step.change.key, step.change.value, restore},
                                   s.trace));
    ++s.compensated;
  } else {
    // A compensation that fails leaves the resource for an operator: journaled with its
    // dead letter and its P1 incident. The others still run (independent resources).
    auto index = static_cast<uint32_t>(s.undo - 1);
    auto code = r.code == ec::none ? ec::effector_failed : r.code;
    s.pending.push_back(make_event(event_type::action_failed, cx.now,
                                   action_failed{s.id, index, step.change, r.code,
                                                 "compensation failed: " + r.message},
                                   s.trace));
    failed_compensation f;
    f.proposal = s.id;
    f.step = index;
    f.principal = s.p.principal;
    f.level = s.p.level;
    f.service = service_of(cx, step.change);
    if (auto res = cx.fleet->resources.find(step.change.resource.value);
        res != cx.fleet->resources.end())
      f.region = res->second.region;
    f.change = step.change;
    f.restore = step.old_value;
    f.code = code;
    f.message = r.message;
    bool first = s.compensations_failed == 0;
    if (first)
      s.compensation_incident = compensation_incident_id(s.id, index);
    for (auto& ev : compensation_failure_records(f, s.compensation_incident, first, cx.now,
                                                 s.trace))
      s.pending.push_back(std::move(ev));
    ++s.compensations_failed;
    if (s.final_code == ec::none) // an operator's interrupt has none: this one is the error
      s.final_code = code;
  }
  --s.undo;
  undo_next(s, cx, out);
}

void on_applied(state& s, const context& cx, std::vector<command>& out) {
  auto& m = s.p.mutations[s.next];
  auto old = current_value(s, cx, m);
  caf::optional<std::string> old_caf;
  if (old)
    old_caf = *old;
  auto ev = make_event(event_type::action_applied, cx.now,
                       action_applied{s.id, s.next, m.resource, m.key, old_caf, m.value}, s.trace);
  s.done.push_back(applied_step{m, std::move(old), seq_no{0}});
  ++s.next;
  if (s.p.level == authority_level::recommend) {
    s.pending.push_back(std::move(ev)); // the batch's effects ride its outcome
    return run_next(s, cx, out);
  }
  if (s.next == s.p.mutations.size() && !s.interrupted && s.p.level != authority_level::act) {
    // The last effect rides the finishing transaction: one commit instead of two (not at
    // level 3, where the last step has its observation window too).
    s.pending.push_back(std::move(ev));
    return finish(s, cx, out);
  }
  s.at = phase::recording;
  std::vector<event> events{std::move(ev)};
  if (s.p.level == authority_level::enforce) {
    // Nothing can happen between this effect and the next step at level 4: the next
    // step's start rides the effect's transaction.
    events.push_back(make_event(event_type::action_started, cx.now,
                                action_started{s.id, s.next, s.p.mutations[s.next]}, s.trace));
    s.started = s.next + 1;
  }
  append(s, std::move(events), out);
}

/// True when `token` is the append the flight awaits (calls have tokens too).
bool awaits_commit(const state& s, uint64_t token) {
  return token != 0 && token == s.awaited && s.at != phase::calling
         && s.at != phase::compensating;
}

refusal stale(const state& s, const char* what) {
  return no(ec::invalid_input, std::string{"proposal "} + to_hex(s.id) + " awaits no " + what
                                 + " with that token (it is " + to_string(s.at) + ")");
}


} // namespace bulwark::flight::detail
