// The embedding API's reads: proposals in flight or in doubt, head, verify, state, subscriptions.

#include <atomic>
#include <utility>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "bulwark/engine.hpp"
#include "actors/pipeline/recovery.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/event_json.hpp"
#include "persistence/projection.hpp"

namespace bulwark {

namespace {

std::vector<pending_proposal> flights(engine::impl& d, bool awaiting) {
  std::vector<pending_proposal> out;
  if (auto r = d.call<std::vector<pending_approval>>(d.pipeline, atom::pending_v))
    for (auto& p : *r)
      if (p.awaiting == awaiting)
        out.push_back(pending_proposal{to_hex(p.proposal), p.principal.value,
                                       static_cast<int>(p.level), p.mutations.size()});
  return out;
}

} // namespace

std::vector<pending_proposal> engine::pending() {
  return flights(*impl_, true);
}

std::vector<pending_proposal> engine::running() {
  return flights(*impl_, false);
}

std::vector<std::string> engine::in_doubt() {
  std::vector<std::string> out;
  for (auto& id : impl_->in_doubt_now())
    out.push_back(to_hex(id));
  return out;
}

std::vector<in_doubt_action> engine::in_doubt_actions() {
  auto& d = *impl_;
  std::vector<in_doubt_action> out;
  auto view = d.committed();
  if (!view)
    return out;
  auto* st = &view->state();
  auto actions = doubtful_actions(*d.store, *st);
  if (!actions) {
    spdlog::error("engine: cannot read the actions in doubt: {}",
                  describe(actions.error()).message);
    return out;
  }
  for (auto& a : *actions) {
    auto r = st->resources.find(a.change.resource.value);
    out.push_back({to_hex(a.proposal), a.principal.value, static_cast<int>(a.level),
                   a.decided.value, a.step, a.change.resource.value,
                   r != st->resources.end() ? r->second.service : std::string{},
                   a.change.key, a.change.value, a.started.value, wall_clock(a.started_at),
                   a.journaled_value});
  }
  return out;
}

namespace {

struct host_subscriber_state {
  std::function<void(const committed_event&)> fn;
  /// The newest seq handed to `fn`, kept across restarts: a restarted subscriber asks the
  /// journal for what follows it, and never hands an event twice.
  std::shared_ptr<std::atomic<uint64_t>> last;
  static inline const char* name = "host_subscriber";
};

subscriber_actor::behavior_type
host_subscriber(subscriber_actor::stateful_pointer<host_subscriber_state> self,
                std::function<void(const committed_event&)> fn,
                std::shared_ptr<std::atomic<uint64_t>> last) {
  self->state.fn = std::move(fn);
  self->state.last = std::move(last);
  return {
    [self](atom::committed, const std::vector<journal_entry>& entries) {
      // Emission is observability: a host callback that throws is logged and never
      // blocks a decision, an incident or the next event.
      for (auto& e : entries) {
        if (e.seq.value <= self->state.last->load())
          continue; // a restarted one's catch-up overlaps what was handed already
        self->state.last->store(e.seq.value);
        try {
          self->state.fn(committed_event{e.seq.value, to_string(e.ev.type), to_json(e).dump()});
        } catch (const std::exception& ex) {
          spdlog::warn("engine: a subscriber failed on seq {}: {}", e.seq.value, ex.what());
        } catch (...) {
          spdlog::warn("engine: a subscriber failed on seq {}", e.seq.value);
        }
      }
    },
  };
}

} // namespace

void engine::subscribe(std::function<void(const committed_event&)> fn) {
  auto& d = *impl_;
  auto head = d.store->head();
  auto last = std::make_shared<std::atomic<uint64_t>>(head.value);
  auto slot = std::make_shared<handle_slot<caf::actor>>();
  auto sub = d.sys->spawn(host_subscriber, fn, last);
  auto first = std::make_shared<caf::actor>(caf::actor_cast<caf::actor>(sub));
  slot->set(*first);
  d.subscribers.push_back(slot);
  caf::anon_send(d.journal, atom::subscribe_v, sub, head);
  // Under the root: a restarted one subscribes after the newest event it handed on.
  auto name = "subscriber:" + std::to_string(d.subscribers.size());
  d.chaos->expose(name, slot_killer(name, slot));
  d.enroll_in_root(child_spec{
    name, restart_kind::permanent,
    [first, slot, fn = std::move(fn), last, j = d.journal](caf::local_actor* sup) {
      if (*first)
        return std::exchange(*first, caf::actor{});
      auto sub = sup->home_system().spawn(host_subscriber, fn, last);
      caf::anon_send(j, atom::subscribe_v, sub, seq_no{last->load()});
      auto a = caf::actor_cast<caf::actor>(sub);
      slot->set(a);
      return a;
    }});
  d.pump();
}

std::pair<uint64_t, std::string> engine::head() {
  auto& d = *impl_;
  return {d.store->head().value, to_hex(d.store->head_chain())};
}

result engine::verify() {
  auto& d = *impl_;
  auto report = d.store->verify(seq_no{1}, seq_no{UINT64_MAX});
  result r;
  r.ok = report.ok;
  r.seq = report.ok ? report.head.value : report.first_bad.value;
  if (!report.ok) {
    r.code = "INTEGRITY_VIOLATION";
    r.message = "seq " + std::to_string(report.first_bad.value) + ": " + report.reason;
  }
  return r;
}

std::string engine::state_digest() {
  auto& d = *impl_;
  auto view = d.committed();
  if (!view)
    return {};
  return to_hex(view->proj().state_digest());
}

std::optional<std::string> engine::attribute(const std::string& resource, const std::string& key) {
  auto& d = *impl_;
  auto view = d.committed();
  if (!view)
    return std::nullopt;
  auto* st = &view->state();
  auto r = st->resources.find(resource);
  if (r == st->resources.end())
    return std::nullopt;
  auto a = r->second.attributes.find(key);
  if (a == r->second.attributes.end())
    return std::nullopt;
  return a->second;
}

} // namespace bulwark
