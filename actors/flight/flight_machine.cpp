// The flight machine's inputs (flight_machine.hpp): each checks that the flight can take
// it, then moves the flight with the steps of flight_steps.cpp.

#include "actors/flight/flight_machine.hpp"

#include "actors/flight/flight_steps.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::flight {

using namespace detail;

const char* to_string(phase x) {
  switch (x) {
    case phase::deciding: return "deciding";
    case phase::awaiting_approval: return "awaiting_approval";
    case phase::approving: return "approving";
    case phase::starting: return "starting";
    case phase::calling: return "calling";
    case phase::recording: return "recording";
    case phase::observing: return "observing";
    case phase::compensating: return "compensating";
    case phase::finishing: return "finishing";
    case phase::done: return "done";
  }
  return "?";
}

std::string fingerprint(const state& s) {
  std::string out;
  auto put = [&out](const auto&... xs) {
    ((out += xs, out += '|'), ...);
  };
  auto num = [](auto x) { return std::to_string(static_cast<uint64_t>(x)); };
  put(to_hex(s.id), num(s.trace.value), to_string(s.at), num(s.allowed),
      num(s.expires.time_since_epoch().count()), num(s.budget.count()), num(s.decided.value),
      num(s.next));
  for (auto& d : s.done)
    put(d.change.resource.value, d.change.key, d.change.value,
        d.old_value ? "=" + *d.old_value : std::string{"-"}, num(d.applied_seq.value));
  put(num(s.undo));
  for (auto& e : s.pending)
    put(num(e.type), num(e.at.time_since_epoch().count()),
        to_hex(e.payload.data(), e.payload.size()));
  put(num(s.tokens), num(s.awaited), num(s.interrupted),
      num(s.window_from.time_since_epoch().count()), s.window_service, num(s.started),
      num(s.final_status), num(s.final_code), s.final_message,
      s.final_retry_after ? num(s.final_retry_after->count()) : std::string{"-"},
      num(s.compensated), num(s.compensations_failed), to_hex(s.compensation_incident),
      num(s.refusal_code), s.refusal_message, std::to_string(s.denial_at));
  if (s.read) {
    put(num(s.read->seq.value), num(s.read->total), num(s.read->truncated));
    for (auto& r : s.read->resources)
      put(r.id.value, num(r.attributes.size()));
  }
  return out;
}

std::chrono::nanoseconds window_of(const state& s, const settings& config) {
  if (s.p.approval_window && *s.p.approval_window <= config.approval_timeout)
    return *s.p.approval_window;
  return config.approval_timeout;
}

state start(proposal p, const digest& id, trace_id trace) {
  state s;
  s.p = std::move(p);
  s.id = id;
  s.trace = trace;
  return s;
}

namespace {

/// The record beside every decision: the policy version and every declared target.
event basis_of(const state& s, const context& cx) {
  return make_event(event_type::decision_basis, cx.now,
                    decision_basis{s.id, cx.config->policy_version, s.p.services, s.p.regions,
                                   s.p.approval_window},
                    s.trace);
}

/// Journals a refused decision with the gates evaluated (if any), then answers the error.
void decide_refused(state& s, ec code, std::string message,
                    caf::optional<caf::timespan> retry_after, std::vector<gate_result> gates,
                    const context& cx, std::vector<command>& out) {
  s.allowed = false;
  s.refusal_code = code;
  s.refusal_message = message;
  s.refusal_retry_after = retry_after;
  // An out-of-range level is recorded as 0; the reason names the level asked for.
  auto level = valid(s.p.level) ? s.p.level : authority_level::read_only;
  proposal_decided d{s.id, s.p.idempotency_key, s.p.principal, level,
                     s.p.services.empty() ? "" : s.p.services.front(),
                     s.p.regions.empty() ? "" : s.p.regions.front(), false, code,
                     std::move(message), 0, std::move(gates), s.p.mutations,
                     s.p.justification};
  append(s, {make_event(event_type::proposal_decided, cx.now, d, s.trace), basis_of(s, cx)},
         out);
}

} // namespace

std::vector<gate_result> gates_for(const state& s, const context& cx) {
  gate_inputs in;
  in.config = &cx.config->authority;
  in.approvals = &cx.config->approvals;
  in.fleet = cx.fleet;
  in.now = cx.now;
  in.observation_window = cx.config->observation_window;
  // Running level-4 flights count too: each may enter the queue when it finishes.
  in.audit_pending = cx.fleet->audit.pending.size() + cx.fleet->audit.running.size();
  return evaluate_gates(s.p, in);
}

refusal allow(state& s, uint32_t allowed_count, std::vector<event> extra, const context& cx,
              std::vector<command>& out) {
  if (s.at != phase::deciding || s.awaited != 0)
    return no(ec::invalid_input, "proposal " + to_hex(s.id) + " is decided already");
  auto gates = gates_for(s, cx);
  for (auto& g : gates)
    if (!g.passed) { // a gate refuses: the decision records every verdict with its evidence
      auto why = std::string{to_string(g.name)} + ": " + g.note;
      decide_refused(s, ec::authority_denied, std::move(why), caf::none, std::move(gates), cx,
                     out);
      return {};
    }
  s.allowed = true;
  if (s.p.level == authority_level::read_only) // the read is the view the gates evaluated
    s.read = read_of(s.p, *cx.fleet);
  proposal_decided d{s.id, s.p.idempotency_key, s.p.principal, s.p.level,
                     s.p.services.empty() ? "" : s.p.services.front(),
                     s.p.regions.empty() ? "" : s.p.regions.front(), true, ec::none,
                     "allowed", allowed_count, std::move(gates), s.p.mutations,
                     s.p.justification};
  std::vector<event> events;
  events.reserve(4 + extra.size());
  events.push_back(make_event(event_type::proposal_decided, cx.now, d, s.trace));
  events.push_back(basis_of(s, cx));
  // The proposal's own approval window is journaled with its decision, so a flight rebuilt
  // after a restart expires when this one would have.
  bool waits = s.p.level == authority_level::assist || s.p.level == authority_level::recommend;
  if (waits && s.p.approval_window)
    events.push_back(make_event(event_type::approval_window, cx.now,
                                approval_window{s.id, approval_window_of(s, cx)}, s.trace));
  for (auto& e : extra)
    events.push_back(std::move(e));
  // Levels 3 and 4 run at once: the first action's start rides the decision's
  // transaction (both durable before the effector runs), saving a commit per proposal.
  bool runs_now = s.p.level == authority_level::act || s.p.level == authority_level::enforce;
  if (runs_now && !s.p.mutations.empty()) {
    events.push_back(budget_charge(s, cx));
    events.push_back(make_event(event_type::action_started, cx.now,
                                action_started{s.id, 0, s.p.mutations[0]}, s.trace));
    s.started = 1;
  }
  append(s, std::move(events), out);
  return {};
}

refusal refuse(state& s, ec code, std::string message, caf::optional<caf::timespan> retry_after,
               const context& cx, std::vector<command>& out) {
  if (s.at != phase::deciding || s.awaited != 0)
    return no(ec::invalid_input, "proposal " + to_hex(s.id) + " is decided already");
  if (code == ec::none)
    return no(ec::invalid_input, "a refusal needs a code");
  decide_refused(s, code, std::move(message), retry_after, {}, cx, out);
  return {};
}

refusal committed(state& s, uint64_t token, const appended& ack, const context& cx,
                  std::vector<command>& out) {
  if (!awaits_commit(s, token))
    return stale(s, "commit");
  s.awaited = 0;
  switch (s.at) {
    case phase::deciding:
      if (!s.allowed) {
        fail_all(s, s.refusal_code, s.refusal_message, s.refusal_retry_after, out);
        break;
      }
      s.decided = ack.first;
      launch(s, cx, out);
      break;
    case phase::approving: {
      command c;
      c.kind = command_kind::ack_approval;
      c.seq = ack.first; // the approval; its budget charge follows it
      out.push_back(std::move(c));
      s.p.deadline = cx.now + s.budget; // the execution deadline starts at the approval
      run_next(s, cx, out);
      break;
    }
    case phase::starting:
      if (auto why = stop_reason(s, cx)) // journaled while the start was: it does not run
        halt_stop(s, cx, out, *why);
      else
        call_step(s, cx, out);
      break;
    case phase::recording: {
      s.done.back().applied_seq = ack.last;
      // Level 3 observes after every step, the last one included.
      if (s.p.level == authority_level::act && !s.interrupted) {
        s.at = phase::observing;
        s.window_from = cx.now;
        s.window_service = service_of(cx, s.done.back().change);
        arm(command_kind::arm_step, cx.config->observation_window, out);
      } else {
        run_next(s, cx, out);
      }
      break;
    }
    case phase::finishing: {
      if (s.denial_at >= 0) {
        command a;
        a.kind = command_kind::ack_approval;
        a.seq = seq_no{ack.first.value + static_cast<uint64_t>(s.denial_at)};
        s.denial_at = -1;
        out.push_back(std::move(a));
      }
      command c;
      c.kind = command_kind::reply;
      c.result = outcome_of(s);
      out.push_back(std::move(c));
      over(s, out);
      break;
    }
    default:
      break; // unreachable: no other phase awaits a commit
  }
  return {};
}

refusal commit_failed(state& s, uint64_t token, const std::string& why, const context& cx,
                      std::vector<command>& out) {
  if (!awaits_commit(s, token))
    return stale(s, "commit");
  s.awaited = 0;
  switch (s.at) {
    case phase::deciding:
      if (!s.allowed) // best effort: the refusal keeps its own code
        fail_all(s, s.refusal_code, s.refusal_message, s.refusal_retry_after, out);
      else
        fail_all(s, ec::audit_unavailable, "the decision could not be journaled: " + why,
                 caf::none, out);
      break;
    case phase::approving: {
      command c;
      c.kind = command_kind::nack_approval;
      c.code = ec::audit_unavailable;
      c.message = "the approval could not be journaled: " + why;
      out.push_back(std::move(c));
      fail_all(s, ec::audit_unavailable, "the approval could not be journaled: " + why,
               caf::none, out);
      break;
    }
    case phase::starting:
      if (s.p.level == authority_level::recommend) {
        // No effect ran: the batch ends with no outcome record (its decision stands).
        fail_all(s, ec::audit_unavailable, "the batch's starts could not be journaled: " + why,
                 caf::none, out);
        break;
      }
      s.final_status = proposal_status::failed;
      s.final_code = ec::audit_unavailable;
      s.final_message = "action start could not be journaled: " + why;
      finish(s, cx, out);
      break;
    case phase::recording:
      // Applied, but its record is not durable: in doubt, and not counted as done.
      s.done.pop_back();
      s.final_status = proposal_status::failed;
      s.final_code = ec::audit_unavailable;
      s.final_message = "an effect could not be journaled (in doubt): " + why;
      finish(s, cx, out);
      break;
    case phase::finishing:
      if (s.denial_at >= 0) {
        command c;
        c.kind = command_kind::nack_approval;
        c.code = ec::audit_unavailable;
        c.message = "the denial could not be journaled: " + why;
        s.denial_at = -1;
        out.push_back(std::move(c));
      }
      fail_all(s, ec::audit_unavailable, "the outcome could not be journaled (in doubt): " + why,
               caf::none, out);
      break;
    default:
      break; // unreachable: no other phase awaits a commit
  }
  return {};
}

refusal effected(state& s, uint64_t token, const effector_result& r, const context& cx,
                 std::vector<command>& out) {
  if (token == 0 || token != s.awaited
      || (s.at != phase::calling && s.at != phase::compensating))
    return stale(s, "effector answer");
  s.awaited = 0;
  if (s.at == phase::compensating) {
    on_undone(s, r, cx, out);
    return {};
  }
  if (r.ok)
    on_applied(s, cx, out);
  else
    on_call_failed(s, r, cx, out);
  return {};
}

refusal answer(state& s, const principal_id& approver, bool approve, const std::string& note,
               const context& cx, std::vector<command>& out) {
  if (s.at != phase::awaiting_approval)
    return no(ec::invalid_input, "no proposal awaits approval with digest " + to_hex(s.id));
  if (!is_valid_id(approver.value))
    return no(ec::invalid_input, "approver is not a valid name");
  auto who = check_approver(cx.config->approvals, approver.value, s.p.principal.value,
                            s.p.level);
  if (who.code != ec::none)
    return no(who.code, std::move(who.message));
  if (auto why = approve ? stop_reason(s, cx) : std::nullopt)
    return no(why->first, why->first == ec::halted
                            ? "the node is halted: no approval runs a change until the halt "
                              "is released (a denial is still taken)"
                            : why->second + ": no approval runs it (a denial is still taken)");
  auto type = approve ? event_type::approval_granted : event_type::approval_denied;
  auto ev = make_event(type, cx.now, approval_recorded{s.id, approver, note}, s.trace);
  auto grant = effective_grant(approver.value, cx.config->authority, cx.fleet->grants, cx.now);
  auto checked = make_event(event_type::approval_checked, cx.now,
                            approval_evidence(who, s.id, approver.value, s.p.principal.value,
                                              approve, s.p.level, s.p.mutations.size(), grant),
                            s.trace);
  if (!approve) { // the denial rides the outcome's transaction: acknowledged with it
    s.denial_at = static_cast<int32_t>(s.pending.size());
    s.pending.push_back(std::move(ev));
    s.pending.push_back(std::move(checked));
    s.final_status = proposal_status::denied;
    s.final_message = "denied by " + approver.value;
    finish(s, cx, out);
    return {};
  }
  s.at = phase::approving;
  std::vector<event> events;
  events.push_back(std::move(ev));
  events.push_back(std::move(checked));
  if (!s.p.mutations.empty()) // the execution starts: its resources count from now
    events.push_back(budget_charge(s, cx));
  append(s, std::move(events), out);
  return {};
}

refusal interrupt(state& s, const principal_id& by, const context& cx,
                  std::vector<command>& out) {
  bool running = s.at == phase::starting || s.at == phase::calling
                 || s.at == phase::recording || s.at == phase::observing;
  if (s.p.level != authority_level::act || !s.allowed || !running)
    return no(ec::invalid_input, "no level-3 proposal is running with digest " + to_hex(s.id));
  if (s.interrupted)
    return no(ec::invalid_input, "the proposal was interrupted already");
  s.interrupted = true;
  s.pending.push_back(make_event(event_type::interrupted, cx.now,
                                 bulwark::interrupted{s.id, by,
                                                      static_cast<uint32_t>(s.done.size())},
                                 s.trace));
  // Between steps nothing runs: roll back now. During a call: when it returns.
  if (s.at == phase::observing)
    run_next(s, cx, out);
  return {};
}

refusal approval_expired(state& s, const context& cx, std::vector<command>& out) {
  if (s.at != phase::awaiting_approval)
    return no(ec::invalid_input, "proposal " + to_hex(s.id) + " awaits no approval");
  s.pending.push_back(make_event(event_type::approval_expired, cx.now,
                                 approval_recorded{s.id, principal_id{"bulwark"}, "timeout"},
                                 s.trace));
  s.final_status = proposal_status::expired;
  s.final_code = ec::approval_expired;
  s.final_message = "nobody approved within the approval window (" + describe_window(s, cx)
                    + ")";
  finish(s, cx, out);
  return {};
}

refusal observed(state& s, const signal_summary& signals, const context& cx,
                 std::vector<command>& out) {
  if (s.at != phase::observing)
    return no(ec::invalid_input, "proposal " + to_hex(s.id) + " is not observing");
  auto limit = cx.config->analysis_failure_limit;
  auto step = static_cast<uint32_t>(s.done.size() - 1);
  std::string why;
  if (!signals.available)
    why = "the signals of service '" + s.window_service + "' could not be read: " + signals.error;
  else if (signals.breaches > limit)
    why = std::to_string(signals.breaches) + " of " + std::to_string(signals.samples)
          + " samples of service '" + s.window_service + "' breached their thresholds (worst: "
          + signals.worst_region + " at " + std::to_string(signals.worst_ppm) + " ppm over "
          + std::to_string(signals.threshold_ppm) + " ppm; failure limit "
          + std::to_string(limit) + ")";
  else if (signals.samples == 0 && cx.config->analysis_requires_data)
    why = "no samples of service '" + s.window_service + "' in the observation window";
  if (why.empty()) {
    run_next(s, cx, out);
    return {};
  }
  s.pending.push_back(make_event(
    event_type::analysis_failed, cx.now,
    analysis_failed{s.id, step, s.window_service, s.window_from, cx.now, signals.samples,
                    signals.breaches, limit, signals.worst_region, signals.worst_ppm,
                    signals.threshold_ppm, why},
    s.trace));
  s.interrupted = true;
  s.final_status = proposal_status::interrupted;
  s.final_code = signals.available ? ec::none : ec::unavailable;
  s.final_message = "analysis failed after step " + std::to_string(step) + ": " + why;
  compensate(s, cx, out);
  return {};
}

} // namespace bulwark::flight
