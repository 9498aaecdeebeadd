// A flight rebuilt from the journal (flight_recovery.hpp): what the journal says of it,
// and the machine's input that puts it back.

#include "actors/flight/flight_recovery.hpp"

#include <algorithm>
#include <map>

#include "actors/flight/flight_steps.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::flight {

using namespace detail;

namespace {

bool waits_for_approval(authority_level level) {
  return level == authority_level::assist || level == authority_level::recommend;
}

} // namespace

std::optional<recovery> recovery_of(const journaled_flight& j, const settings& config) {
  auto& d = j.decision;
  if (!d.allowed || !(waits_for_approval(d.level) || d.level == authority_level::act))
    return std::nullopt;
  recovery r;
  r.decided = j.decided;
  r.expires = j.decided_at + config.approval_timeout;
  std::map<uint32_t, int> open; // started steps without their outcome
  bool started = false;
  for (auto& [seq, ev] : j.later) {
    switch (ev.type) {
      case event_type::proposal_finished:
        return std::nullopt; // finished: nothing to rebuild
      case event_type::approval_granted:
        r.approved = true;
        break;
      case event_type::decision_basis: {
        decision_basis x;
        if (payload_of(ev, x))
          return std::nullopt;
        r.basis = std::move(x);
        break;
      }
      case event_type::approval_window: {
        approval_window x;
        if (payload_of(ev, x))
          return std::nullopt;
        r.window = x.window;
        r.expires = j.decided_at + std::min<caf::timespan>(x.window, config.approval_timeout);
        break;
      }
      case event_type::action_started: {
        action_started x;
        if (payload_of(ev, x))
          return std::nullopt; // unreadable: not rebuilt (the journal checks payloads)
        ++open[x.step];
        started = true;
        break;
      }
      case event_type::action_applied: {
        action_applied x;
        if (payload_of(ev, x))
          return std::nullopt;
        --open[x.step];
        std::optional<std::string> old;
        if (x.old_value)
          old = *x.old_value;
        r.done.push_back(applied_step{mutation{x.resource, x.key, x.new_value}, std::move(old),
                                      seq});
        break;
      }
      case event_type::action_failed: {
        action_failed x;
        if (payload_of(ev, x))
          return std::nullopt;
        if (x.message.rfind("compensation failed: ", 0) != 0)
          --open[x.step];
        break;
      }
      default:
        break;
    }
  }
  for (auto& [step, n] : open)
    if (n != 0)
      return std::nullopt; // a start without its outcome: in doubt
  // Levels 1 and 2 journal an effect or a failure only with their outcome: a start means
  // the flight was past its approval and in doubt.
  if (waits_for_approval(d.level) && started)
    return std::nullopt;
  if (d.level == authority_level::act && r.done.size() > d.mutations.size())
    return std::nullopt;
  return r;
}

proposal proposal_of(const proposal_decided& d) {
  proposal p;
  p.idempotency_key = d.idempotency_key;
  p.principal = d.principal;
  p.level = d.level;
  if (!d.service.empty())
    p.services.push_back(d.service);
  if (!d.region.empty())
    p.regions.push_back(d.region);
  p.mutations = d.mutations;
  p.justification = d.justification;
  return p;
}

refusal recovered(state& s, const recovery& r, const context& cx, std::vector<command>& out) {
  if (s.at != phase::deciding || s.awaited != 0 || s.allowed || s.tokens != 0)
    return no(ec::invalid_input, "proposal " + to_hex(s.id) + " is not a new flight");
  bool waits = waits_for_approval(s.p.level);
  if (!waits && s.p.level != authority_level::act)
    return no(ec::invalid_input, "only a level-1 or level-2 flight waiting for its approval "
                                 "or a level-3 flight between steps is rebuilt");
  if (!waits && r.done.size() > s.p.mutations.size())
    return no(ec::invalid_input, "more steps applied than the proposal has");
  if (r.decided.value == 0)
    return no(ec::invalid_input, "a rebuilt flight needs its decision's seq");
  s.allowed = true;
  s.decided = r.decided;
  if (r.basis) {
    s.p.services = r.basis->services;
    s.p.regions = r.basis->regions;
  }
  s.p.approval_window = r.window;
  auto base = waits ? std::max(cx.now, r.expires) : cx.now;
  auto steps = static_cast<int64_t>(std::max<size_t>(s.p.mutations.size(), 1));
  s.p.deadline = base + cx.config->effector_timeout * steps;
  s.budget = cx.config->effector_timeout * steps; // the approval starts it again
  if (waits) {
    if (r.approved)
      return run_next(s, cx, out), refusal{};
    s.at = phase::awaiting_approval;
    s.expires = r.expires;
    if (cx.now >= r.expires)
      return approval_expired(s, cx, out);
    arm(command_kind::arm_approval, r.expires - cx.now, out);
    return {};
  }
  s.done = r.done;
  s.next = static_cast<uint32_t>(s.done.size());
  s.started = s.next;
  s.interrupted = true;
  s.final_status = proposal_status::interrupted;
  s.final_code = ec::unavailable;
  s.final_message = "the pipeline restarted after " + std::to_string(s.done.size())
                    + " steps: the observation window's analysis was lost, the applied "
                      "steps are rolled back";
  compensate(s, cx, out);
  return {};
}

} // namespace bulwark::flight
