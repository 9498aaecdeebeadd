#include "actors/authority/authority.hpp"
#include "supervision/mailbox_gauge.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "messages/events.hpp"
#include "messages/state.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

namespace {

using authority_ptr = authority_actor::stateful_pointer<authority_state>;

/// Journals `ev` and, once durable, applies `commit` and answers with the seq.
template <class Commit>
caf::result<seq_no> journal_then(authority_ptr self, event ev, Commit commit) {
  auto rp = self->make_response_promise<seq_no>();
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(ev))
    .then([rp, commit](const appended& ack) mutable {
            commit();
            rp.deliver(ack.last);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::error not_admin(const principal_id& by, const char* what) {
  return refuse(ec::authority_denied, by.value + " is not an admin and may not " + what);
}

/// Returns the degradation level the token rates follow, logging each change of the
/// principals' rate (the adaptive rate limit).
uint8_t follow_degradation(authority_ptr self) {
  auto& st = self->state;
  uint8_t level = st.settings.conditions
                    ? std::min<uint8_t>(st.settings.conditions->degradation_level(), 2)
                    : 0;
  if (level != st.rate_level) {
    auto rate = st.settings.policy.rate_per_second;
    spdlog::info("authority: token rate per principal {} -> {} per second, burst {} -> {} "
                 "(degradation level {} -> {})",
                 rate * adaptive_share(st.rate_level), rate * adaptive_share(level),
                 st.settings.policy.burst * adaptive_share(st.rate_level),
                 st.settings.policy.burst * adaptive_share(level), st.rate_level, level);
    st.rate_level = level;
  }
  return level;
}

} // namespace

caf::timestamp authority_now(authority_ptr self) {
  return self->state.epoch + (self->clock().now() - self->state.start);
}

namespace {

/// The authority's verdict on `p`: halt, grant, gates, then the principal's token rate.
authority_verdict judge(authority_ptr self, const proposal& p) {
  auto& st = self->state;
  refresh(st.settings, st.settings_seen);
  if (st.settings.mailbox)
    st.settings.mailbox->sample(self);
  auto now = authority_now(self);
  auto v = evaluate(p, st.settings.policy, st.grants, st.halted, now);
  if (!v.allowed || p.mutations.empty())
    return v;
  auto share = adaptive_share(follow_degradation(self));
  auto wait = st.buckets[p.principal.value].take(now, st.settings.policy.rate_per_second * share,
                                                  st.settings.policy.burst * share);
  if (wait) {
    v.allowed = false;
    v.code = ec::rate_limited;
    v.reason = p.principal.value + " is over its proposal rate";
    v.retry_after = wait;
  }
  return v;
}

} // namespace

authority_actor::behavior_type authority(authority_ptr self, authority_settings settings,
                                         journal_actor journal, caf::timestamp epoch,
                                         std::shared_ptr<blast_window> window) {
  auto& st = self->state;
  st.window = std::move(window);
  st.settings = std::move(settings);
  refresh(st.settings, st.settings_seen); // a restart after a reload starts with its policy
  st.journal = std::move(journal);
  st.epoch = epoch;
  st.start = self->clock().now();
  // Rebuild from the journal before answering anything (await holds other messages).
  self->request(st.journal, caf::infinite, atom::state_v)
    .await([self](fleet_state& fs) {
             self->state.grants = std::move(fs.grants);
             self->state.halted = fs.halted;
           },
           [self](caf::error& err) { self->quit(err); });
  return {
    [self](atom::evaluate, const proposal& p) -> caf::result<authority_verdict> {
      return judge(self, p);
    },
    [self](atom::check,
           const scope_request& req) -> caf::result<authority_verdict, scope_verdict> {
      auto v = judge(self, req.subject);
      scope_verdict sv;
      if (v.allowed) {
        auto& w = *self->state.window;
        std::lock_guard<std::mutex> guard{w.mtx};
        sv = w.policy.check(req, authority_now(self));
      }
      return {std::move(v), std::move(sv)};
    },
    [self](atom::grant, const principal_id& by, const principal_id& who, authority_level level,
           const caf::optional<caf::timestamp>& until,
           const std::string& reason) -> caf::result<seq_no> {
      refresh(self->state.settings, self->state.settings_seen);
      if (self->state.settings.admins.count(by.value) == 0)
        return not_admin(by, "change grants");
      if (!is_valid_id(who.value) || !valid(level))
        return refuse(ec::invalid_input, "grant needs a valid principal and a level 0-4");
      grant_changed x{who, level, until, by, reason};
      auto ev = make_event(event_type::grant_changed, authority_now(self), x);
      return journal_then(self, std::move(ev), [self, who, level, until] {
        self->state.grants[who.value] = grant_state{level, until};
      });
    },
    [self](atom::halt, const principal_id& by, const std::string& reason) -> caf::result<seq_no> {
      refresh(self->state.settings, self->state.settings_seen);
      if (self->state.settings.admins.count(by.value) == 0)
        return not_admin(by, "engage the halt");
      auto ev = make_event(event_type::halt_engaged, authority_now(self), halt_changed{by, reason});
      return journal_then(self, std::move(ev), [self] { self->state.halted = true; });
    },
    [self](atom::release, const principal_id& by,
           const std::string& reason) -> caf::result<seq_no> {
      refresh(self->state.settings, self->state.settings_seen);
      if (self->state.settings.admins.count(by.value) == 0)
        return not_admin(by, "release the halt");
      auto ev = make_event(event_type::halt_released, authority_now(self),
                           halt_changed{by, reason});
      return journal_then(self, std::move(ev), [self] { self->state.halted = false; });
    },
    [self](atom::state) -> caf::result<bool> { return self->state.halted; },
  };
}

} // namespace bulwark
