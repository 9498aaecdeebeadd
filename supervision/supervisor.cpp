#include "supervision/supervisor.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "caf/send.hpp"

#include "messages/error.hpp"
#include "messages/events.hpp"

namespace bulwark {

namespace {

using supervisor_ptr = caf::stateful_actor<supervisor_state>*;

/// Time since the supervisor started: the restart window needs durations only.
caf::timestamp now(supervisor_ptr self) {
  return caf::timestamp{} + (self->clock().now() - self->state.start);
}

void on_exit(supervisor_ptr self, size_t index, const caf::error& why);

/// Starts child `i`; one that cannot start (no handle) fails like a crash.
void start_child(supervisor_ptr self, size_t i) {
  auto& st = self->state;
  st.children[i] = st.specs[i].start(self);
  if (!st.children[i]) {
    on_exit(self, i, caf::make_error(caf::sec::runtime_error, st.specs[i].name
                                                                + " could not start"));
    return;
  }
  self->monitor(st.children[i]);
}

void record(supervisor_ptr self, const std::string& child, const std::string& reason,
            uint32_t recent, bool escalated) {
  auto& st = self->state;
  if (escalated)
    spdlog::error("supervisor {}: {} failed ({}): restart limit reached, escalating", st.name,
                  child, reason);
  else
    spdlog::warn("supervisor {}: restarting {} after {} ({} recent restarts)", st.name, child,
                 reason, recent);
  if (st.report)
    st.report(actor_restarted{st.name, child, reason, recent, escalated});
}

/// A worker ended: forgotten; one that ended abnormally answers through `on_failure`.
bool on_worker_down(supervisor_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto i = st.workers.find(msg.source);
  if (i == st.workers.end())
    return false;
  auto w = std::move(i->second);
  st.workers.erase(i);
  auto& why = msg.reason;
  if (why && why != caf::exit_reason::normal && why != caf::exit_reason::user_shutdown) {
    ++st.workers_failed;
    spdlog::warn("supervisor {}: worker {} failed ({}); not restarted (its job would run "
                 "twice)", st.name, w.name, self->system().render(why));
    if (w.on_failure)
      w.on_failure(why);
  }
  return true;
}

/// Starts the workers queued; one that cannot start fails at once.
void start_workers(supervisor_ptr self) {
  auto& st = self->state;
  for (auto& w : st.queue->take_workers()) {
    auto a = w.start ? w.start(self) : caf::actor{};
    if (!a) {
      if (w.on_failure)
        w.on_failure(caf::make_error(caf::sec::runtime_error, w.name + " could not start"));
      continue;
    }
    self->monitor(a);
    st.workers.emplace(a.address(), std::move(w));
  }
}

void on_down(supervisor_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (on_worker_down(self, msg) || st.stopping)
    return;
  size_t index = st.children.size();
  for (size_t i = 0; i < st.children.size(); ++i)
    if (st.children[i] && st.children[i].address() == msg.source)
      index = i;
  if (index == st.children.size())
    return; // a child stopped on purpose (restart of its siblings), or stale
  on_exit(self, index, msg.reason);
}

/// Child `index` exited (or could not start) for `why`: restart by strategy or escalate.
void on_exit(supervisor_ptr self, size_t index, const caf::error& why) {
  auto& st = self->state;
  bool abnormal = why && why != caf::exit_reason::user_shutdown
                  && why != caf::exit_reason::normal;
  auto reason = self->system().render(why);
  st.children[index] = nullptr;
  auto d = st.policy.on_exit(index, st.children.size(), st.specs[index].kind, abnormal,
                             now(self));
  auto recent = static_cast<uint32_t>(st.policy.recent(now(self)));
  if (d.escalate) {
    record(self, st.specs[index].name, reason, recent, true);
    self->quit(why ? why : caf::make_error(caf::sec::runtime_error));
    return;
  }
  if (d.restart.empty())
    return;
  record(self, st.specs[index].name, reason, recent, false);
  // Siblings restarted with it are stopped first (their downs are ignored: slots cleared).
  for (auto i : d.restart)
    if (st.children[i]) {
      self->demonitor(st.children[i]);
      self->send_exit(st.children[i], caf::exit_reason::user_shutdown);
      st.children[i] = nullptr;
    }
  for (auto i : d.restart)
    self->delayed_send(self, d.delay, atom::restart_v, static_cast<uint64_t>(i));
}

} // namespace

std::function<caf::error()> slot_killer(const std::string& name,
                                        std::shared_ptr<handle_slot<caf::actor>> slot) {
  return [name, slot]() -> caf::error {
    auto target = slot->get();
    if (!target)
      return refuse(ec::unavailable, name + " is not running");
    caf::anon_send_exit(target, caf::exit_reason::kill);
    return {};
  };
}

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, std::string name,
                         supervisor_limits limits, std::vector<child_spec> specs,
                         std::function<void(actor_restarted)> report,
                         std::shared_ptr<child_queue> queue) {
  auto& st = self->state;
  st.name = std::move(name);
  st.policy = restart_policy{limits};
  st.specs = std::move(specs);
  st.children.resize(st.specs.size());
  st.report = std::move(report);
  st.queue = std::move(queue);
  st.start = self->clock().now();
  for (size_t i = 0; i < st.specs.size(); ++i)
    start_child(self, i);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    st.stopping = true;
    for (auto& c : st.children)
      if (c)
        self->send_exit(c, msg.reason);
    // Workers stop with it; whoever waits for their job is answered.
    auto stopped = caf::make_error(caf::sec::runtime_error, "supervisor " + st.name
                                                              + " stopped: "
                                                              + self->system().render(msg.reason));
    for (auto& [addr, w] : std::exchange(st.workers, {})) {
      if (auto a = caf::actor_cast<caf::actor>(addr))
        self->send_exit(a, msg.reason);
      if (w.on_failure)
        w.on_failure(stopped);
    }
    if (st.queue)
      for (auto& w : st.queue->take_workers())
        if (w.on_failure)
          w.on_failure(stopped);
    self->quit(msg.reason);
  });
  return {
    [self](atom::enroll) {
      auto& st = self->state;
      if (!st.queue || st.stopping)
        return;
      for (auto& spec : st.queue->take()) {
        st.specs.push_back(std::move(spec));
        st.children.emplace_back();
        start_child(self, st.specs.size() - 1);
      }
      start_workers(self);
    },
    [self](atom::restart, uint64_t i) {
      auto& st = self->state;
      if (!st.stopping && i < st.children.size() && !st.children[i])
        start_child(self, i);
    },
  };
}

} // namespace bulwark
