// The rollback flight's inputs (rollback_flight.hpp): each checks that the rollback can
// take it, then moves it; what is to be done comes back as the machine's commands.

#include "actors/flight/rollback_flight.hpp"

#include <algorithm>

#include "actors/flight/flight_steps.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::flight {

using detail::append;
using detail::next_token;
using detail::no;

namespace {

std::string name_of(const compensation& c) {
  return "rollback " + to_hex(c.plan.rollback);
}

refusal stale(const compensation& c, const char* what) {
  return no(ec::invalid_input, name_of(c) + " awaits no " + what + " with that token (it is "
                                 + to_string(c.at) + ")");
}

void report(const rollback_status& s, std::vector<command>& out) {
  command x;
  x.kind = command_kind::report;
  x.status = s;
  out.push_back(std::move(x));
}

rollback_status status_of(const compensation& c, std::string status) {
  rollback_status s;
  s.rollback = c.plan.rollback;
  s.status = std::move(status);
  return s;
}

/// Journals the outcome: every undo, each failed one's records, the finish, in one
/// transaction; it is answered once durable.
void finish(compensation& c, ec code, std::string message, const context& cx,
            std::vector<command>& out) {
  auto& resources = cx.fleet->resources;
  auto region_of = [&resources](const std::string& resource) {
    auto i = resources.find(resource);
    return i == resources.end() ? std::string{} : i->second.region;
  };
  auto o = rollback_outcome_of(c.plan, c.steps, c.next, c.failed, code, std::move(message),
                               region_of, cx.now);
  c.result = status_of(c, o.status);
  c.result.code = o.code;
  c.result.message = o.message;
  c.result.reverted = o.reverted;
  c.at = phase::finishing;
  append(c, std::move(o.records), out);
}

/// Calls the next step's effector (a compensation), or finishes after the last.
void run_next(compensation& c, const context& cx, std::vector<command>& out) {
  if (c.next == c.steps.size()) {
    auto done = c.steps.empty() ? std::string{"nothing left to revert: another rollback "
                                              "reverted it"}
                                : "reverted " + std::to_string(c.steps.size()) + " actions";
    finish(c, ec::none, std::move(done), cx, out);
    return;
  }
  auto& s = c.steps[c.next];
  auto timeout = cx.config->effector_timeout;
  command x;
  x.kind = command_kind::call;
  x.token = next_token(c);
  x.step = static_cast<uint32_t>(c.next);
  x.after = timeout;
  x.call = effector_request{s.service, mutation{s.resource, s.key, s.current}, true, s.restore,
                            to_hex(c.plan.rollback) + "/" + std::to_string(c.next),
                            cx.now + timeout};
  c.at = phase::calling;
  out.push_back(std::move(x));
}

/// Starts the calls of an approved (or level-4) rollback. Steps another rollback reverted
/// meanwhile (two incidents, one culprit) are dropped first: no change is reverted twice.
void execute(compensation& c, const context& cx, std::vector<command>& out) {
  auto& reverted = cx.fleet->reverted;
  c.steps.erase(std::remove_if(c.steps.begin(), c.steps.end(),
                               [&](const rollback_step& s) {
                                 return reverted.count(s.reverts.value) != 0;
                               }),
                c.steps.end());
  run_next(c, cx, out);
}

} // namespace

std::string fingerprint(const compensation& c) {
  std::string out;
  auto put = [&out](const auto&... xs) {
    ((out += xs, out += '|'), ...);
  };
  auto num = [](auto x) { return std::to_string(static_cast<uint64_t>(x)); };
  put(to_hex(c.plan.rollback), to_hex(c.plan.incident), c.plan.by.value, num(c.plan.level),
      c.plan.justification);
  for (auto r : c.plan.reverts)
    put(num(r.value));
  for (auto& s : c.steps)
    put(num(s.reverts.value), s.service, s.resource.value, s.key, s.current,
        s.restore ? "=" + *s.restore : std::string{"-"});
  put(to_string(c.at), num(c.next));
  for (auto& f : c.failed)
    put(num(f.index), num(f.code), f.message);
  put(num(c.expires.time_since_epoch().count()), num(c.approved), num(c.end_code),
      c.end_message, to_hex(c.result.rollback), c.result.status, num(c.result.code),
      c.result.message, num(c.result.reverted), num(c.result.seq.value), num(c.tokens),
      num(c.awaited));
  return out;
}

compensation begin_rollback(rollback_requested plan, std::vector<rollback_step> steps,
                            const context& cx, std::vector<command>& out) {
  compensation c;
  c.plan = std::move(plan);
  c.steps = std::move(steps);
  c.at = phase::starting;
  append(c, {make_event(event_type::rollback_requested, cx.now, c.plan)}, out);
  return c;
}

compensation rebuild_rollback(rollback_requested plan, std::vector<rollback_step> steps,
                              caf::timestamp requested_at, const context& cx,
                              std::vector<command>& out) {
  compensation c;
  c.plan = std::move(plan);
  c.steps = std::move(steps);
  c.at = phase::awaiting_approval;
  c.expires = requested_at + cx.config->approval_timeout;
  if (cx.now >= c.expires) {
    approval_expired(c, cx, out);
    return c;
  }
  command arm;
  arm.kind = command_kind::arm_approval;
  arm.after = c.expires - cx.now;
  out.push_back(std::move(arm));
  return c;
}

refusal committed(compensation& c, uint64_t token, const appended& ack, const context& cx,
                  std::vector<command>& out) {
  bool appending = c.at == phase::starting || c.at == phase::approving
                   || c.at == phase::finishing;
  if (!appending || c.awaited == 0 || c.awaited != token)
    return stale(c, "commit");
  c.awaited = 0;
  switch (c.at) {
    case phase::starting:
      if (c.plan.level != authority_level::enforce && !c.steps.empty()) {
        auto window = cx.config->approval_timeout;
        c.at = phase::awaiting_approval;
        c.expires = cx.now + window;
        command arm;
        arm.kind = command_kind::arm_approval;
        arm.after = window;
        out.push_back(std::move(arm));
        auto s = status_of(c, "awaiting-approval");
        s.seq = ack.last;
        s.message = "an operator must approve " + name_of(c);
        report(s, out);
        return {};
      }
      execute(c, cx, out);
      return {};
    case phase::approving:
      if (c.approved)
        execute(c, cx, out);
      else
        finish(c, c.end_code, c.end_message, cx, out);
      return {};
    default: // finishing
      c.result.seq = ack.last;
      c.at = phase::done;
      report(c.result, out);
      out.push_back(command{});
      return {};
  }
}

refusal commit_failed(compensation& c, uint64_t token, const error_info& why,
                      const context&, std::vector<command>& out) {
  bool appending = c.at == phase::starting || c.at == phase::approving
                   || c.at == phase::finishing;
  if (!appending || c.awaited == 0 || c.awaited != token)
    return stale(c, "commit");
  const char* what = c.at == phase::starting    ? "plan"
                     : c.at == phase::approving ? "answer to its approval"
                                                : "outcome";
  c.awaited = 0;
  c.at = phase::done;
  command x;
  x.kind = command_kind::refuse;
  x.code = why.code == ec::none ? ec::audit_unavailable : why.code;
  x.message = "the " + name_of(c) + "'s " + what + " could not be journaled: " + why.message;
  x.retry_after = why.retry_after;
  out.push_back(std::move(x));
  out.push_back(command{});
  return {};
}

refusal effected(compensation& c, uint64_t token, const effector_result& r, const context& cx,
                 std::vector<command>& out) {
  if (c.at != phase::calling || c.awaited == 0 || c.awaited != token)
    return stale(c, "effect");
  c.awaited = 0;
  // A failed step does not stop the others: each undoes an independent change.
  if (!r.ok)
    c.failed.push_back(
      rollback_failure{c.next, r.code == ec::none ? ec::effector_failed : r.code, r.message});
  ++c.next;
  run_next(c, cx, out);
  return {};
}

refusal answer(compensation& c, const principal_id& approver, bool approve,
               const std::string& note, const context& cx, std::vector<command>& out) {
  if (c.at != phase::awaiting_approval)
    return no(ec::invalid_input, "no " + name_of(c) + " awaits approval");
  if (!is_valid_id(approver.value))
    return no(ec::invalid_input, "approver is not a valid name");
  auto& config = *cx.config;
  // The role is checked; the self rule is not: a principal's rollback order is its own
  // request (a rollback restores journaled values).
  auto who = check_approver(config.approvals, approver.value, std::string{}, c.plan.level);
  if (who.code != ec::none)
    return no(who.code, who.message);
  // During a halt a rollback waits: only an admin's explicit approval runs one.
  if (approve && cx.fleet->halted && who.role != approver_role::admin)
    return no(ec::halted, "the halt is engaged: only an admin's approval runs a rollback now ("
                            + approver.value + " is " + to_string(who.role) + ")");
  auto id = c.plan.rollback;
  auto type = approve ? event_type::approval_granted : event_type::approval_denied;
  auto grant = effective_grant(approver.value, config.authority, cx.fleet->grants, cx.now);
  std::vector<event> evs;
  evs.push_back(make_event(type, cx.now, approval_recorded{id, approver, note}));
  evs.push_back(make_event(event_type::approval_checked, cx.now,
                           approval_evidence(who, id, approver.value, std::string{}, approve,
                                             c.plan.level, c.plan.reverts.size(), grant)));
  c.at = phase::approving;
  c.approved = approve;
  if (!approve) {
    c.end_code = ec::authority_denied;
    c.end_message = "denied by " + approver.value;
  }
  append(c, std::move(evs), out);
  return {};
}

refusal approval_expired(compensation& c, const context& cx, std::vector<command>& out) {
  if (c.at != phase::awaiting_approval)
    return no(ec::invalid_input, "no " + name_of(c) + " awaits approval");
  c.at = phase::approving;
  c.approved = false;
  c.end_code = ec::approval_expired;
  c.end_message = "nobody approved the rollback in time";
  append(c,
         {make_event(event_type::approval_expired, cx.now,
                     approval_recorded{c.plan.rollback, principal_id{"bulwark"}, "timeout"})},
         out);
  return {};
}

} // namespace bulwark::flight
