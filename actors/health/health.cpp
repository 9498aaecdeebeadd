#include "actors/health/health.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "messages/commands.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

using health_ptr = health_actor::stateful_pointer<health_state>;

caf::timestamp now(health_ptr self) {
  return self->state.deps.epoch + (self->clock().now() - self->state.start);
}

double seconds(caf::timespan d) {
  return std::chrono::duration<double>(d).count();
}

void journal(health_ptr self, event ev) {
  self->request(self->state.deps.journal, caf::infinite, atom::append_v, std::move(ev))
    .then([](const appended&) {},
          [](const caf::error& err) {
            spdlog::error("health: cannot journal a health event: {}", describe(err).message);
          });
}

/// Readings of VAL-1 and VAL-5 from the board's last full verification.
std::vector<reading> verification_readings(health_ptr self, caf::timestamp at) {
  bool ok = true;
  uint64_t first_bad = 0;
  auto last = self->state.deps.board->last_verified(ok, first_bad);
  auto since = last ? *last : self->state.deps.epoch;
  return {{"corrupt_records", ok ? 0.0 : 1.0}, {"verification_age_s", seconds(at - since)}};
}

/// One sampling round with `extra` readings (from the pipeline's answer, if any).
void evaluate(health_ptr self, std::vector<reading> extra) {
  auto& st = self->state;
  auto at = now(self);
  auto readings = st.deps.sample ? st.deps.sample(at) : std::vector<reading>{};
  auto verification = verification_readings(self, at);
  readings.insert(readings.end(), verification.begin(), verification.end());
  readings.insert(readings.end(), extra.begin(), extra.end());
  auto step = st.policy.observe(readings, at);
  for (auto& w : step.warnings) {
    spdlog::warn("health: {} {} {} at {} (threshold {}): {}", w.mode, w.indicator,
                 to_string(w.level), w.value, w.threshold, w.action);
    journal(self, make_event(event_type::early_warning, at, w));
  }
  if (step.change) {
    spdlog::warn("health: degradation {} -> {} ({})", to_string(step.change->from),
                 to_string(step.change->to), step.change->cause);
    journal(self, make_event(event_type::degradation_changed, at, *step.change));
  }
  if (st.deps.conditions) {
    st.deps.conditions->set_journal_space_critical(st.policy.mode_level("JOURNAL-SPACE")
                                                   == degradation::critical);
    st.deps.conditions->set_degradation(static_cast<uint8_t>(st.policy.level()));
  }
  st.deps.board->publish(make_snapshot(st.policy, st.deps.board->get(), step.warnings, at));
}

void on_tick(health_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.policy.settings().period, atom::tick_v);
  if (!st.deps.pipeline)
    return evaluate(self, {});
  auto timeout = st.deps.approval_timeout;
  self->request(st.deps.pipeline, st.policy.settings().period, atom::pending_v)
    .then([self, timeout](const std::vector<pending_approval>& xs) {
            evaluate(self, approval_readings(xs, timeout, now(self)));
          },
          [self](const caf::error&) { evaluate(self, {}); });
}

void on_verify(health_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.policy.settings().verify_interval, atom::verify_v);
  if (!st.deps.verify)
    return;
  auto report = st.deps.verify();
  if (!report.ok)
    spdlog::error("health: full verification failed at seq {}: {}", report.first_bad.value,
                  report.reason);
  st.deps.board->verified(now(self), report.ok, report.first_bad.value);
}

} // namespace

std::vector<reading> approval_readings(const std::vector<pending_approval>& xs,
                                       caf::timespan approval_timeout, caf::timestamp now) {
  double waiting = 0, oldest_pct = 0;
  for (auto& p : xs) {
    if (!p.awaiting)
      continue;
    ++waiting;
    // Its age is the part of its window (its own, or the node's) already spent.
    auto window = p.approval_window > caf::timespan{0} ? p.approval_window : approval_timeout;
    auto age = window - (p.expires - now);
    oldest_pct = std::max(oldest_pct, 100.0 * seconds(age) / seconds(window));
  }
  return {{"pending_approvals", waiting},
          {"approval_age_pct", std::max(0.0, oldest_pct)},
          {"backlog", static_cast<double>(xs.size())}};
}

health_actor::behavior_type health(health_actor::stateful_pointer<health_state> self,
                                   health_settings s, health_deps deps) {
  auto& st = self->state;
  st.policy = health_policy{std::move(s)};
  st.deps = std::move(deps);
  st.start = self->clock().now();
  self->send(self, atom::tick_v);
  self->delayed_send(self, st.policy.settings().verify_interval, atom::verify_v);
  return {
    [self](atom::tick) { on_tick(self); },
    [self](atom::verify) { on_verify(self); },
  };
}

} // namespace bulwark
