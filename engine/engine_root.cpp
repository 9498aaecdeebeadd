// The root of the supervision tree: the journal, blast radius, the pipeline and the
// rollback executor (each behind a door, so a restart does not change the handle callers
// hold) and the engine's supervisors (governance, execution, watch, intake) all under one
// root supervisor (docs/architecture.md, "Supervision").

#include <utility>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/journal/journal.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/make_event.hpp"
#include "around_caf/door.hpp"

namespace bulwark {

namespace {

/// Appends `ev` as a request, again every 100 ms (at most 50 times) while it fails: the
/// journal may be restarting itself, and a message sent to it as it dies would be lost.
caf::behavior append_until_journaled(caf::event_based_actor* self, journal_actor j, event ev) {
  // Tied to the journal's door: when the engine stops (the door goes), so does it.
  self->monitor(j);
  self->set_down_handler([self](const caf::down_msg&) { self->quit(); });
  auto tries = std::make_shared<int>(0);
  auto attempt = [self, j, ev, tries] {
    self->request(j, std::chrono::seconds{5}, atom::append_v, ev)
      .then([self](const appended&) { self->quit(); },
            [self, tries](const caf::error& err) {
              if (++*tries >= 50) {
                spdlog::error("engine: a restart could not be journaled: {}",
                              describe(err).message);
                self->quit();
                return;
              }
              self->delayed_send(self, std::chrono::milliseconds{100}, atom::retry_v);
            });
  };
  attempt();
  return {[attempt](atom::retry) { attempt(); }};
}

} // namespace

std::function<void(actor_restarted)> engine::impl::restart_report() {
  // Restarts and escalations are journaled like every other constitutional event, and
  // counted for the restart-storm indicators.
  auto j = journal;
  auto tracker = restarts;
  return [this, j, tracker](actor_restarted x) {
    auto at = now();
    tracker->record(x.supervisor, at);
    auto ev = make_event(event_type::actor_restarted, at, x);
    auto what = x.supervisor + "/" + x.child;
    spawn_worker(worker_spec{
      "restart-report",
      [j, ev](caf::local_actor* sup) {
        return caf::actor{sup->home_system().spawn(append_until_journaled, j, ev)};
      },
      [what](const caf::error& why) {
        spdlog::error("engine: the restart of {} was not journaled ({})", what,
                      caf::to_string(why));
      }});
  };
}

void engine::impl::spawn_worker(worker_spec w) {
  auto sup = workers;
  if (!sup || stopped) {
    if (w.on_failure)
      w.on_failure(caf::make_error(caf::sec::runtime_error, "the engine stopped"));
    return;
  }
  workers_queue->push_worker(std::move(w));
  caf::anon_send(sup, atom::enroll_v);
  pump();
}

caf::actor engine::impl::behind_door(const std::string& name, caf::error when_down,
                                     caf::actor first,
                                     std::function<caf::actor(caf::local_actor*)> restart,
                                     std::vector<child_spec>* into) {
  auto slot = std::make_shared<handle_slot<caf::actor>>();
  slot->set(first);
  behind_doors[name] = slot;
  auto d = sys->spawn(door, name, std::move(when_down), first);
  // Callers that go straight to the actor (the flights' appends) read the slot: a door
  // that ends closes it, so the room answers nobody from then on, as its door does.
  d->attach_functor([slot] { slot->close(); });
  watch_door(name, d);
  // The first start hands the actor launch spawned to the root; later ones spawn anew.
  auto launched = std::make_shared<caf::actor>(std::move(first));
  (into != nullptr ? *into : root_children).push_back(child_spec{
    name, restart_kind::permanent,
    [d, slot, launched, restart = std::move(restart)](caf::local_actor* sup) {
      auto a = *launched ? std::exchange(*launched, caf::actor{}) : restart(sup);
      slot->set(a);
      if (a)
        caf::anon_send(d, atom::restart_v, a);
      return a;
    }});
  return d;
}

caf::actor engine::impl::behind_router(const std::string& name, caf::error when_down,
                                       std::vector<routed_child> children, door_route route,
                                       std::function<caf::message_handler(door_ptr)> own,
                                       std::vector<child_spec>& into) {
  std::vector<caf::actor> firsts;
  for (auto& c : children)
    firsts.push_back(c.first);
  auto d = sys->spawn(router_door, name, std::move(when_down), std::move(firsts),
                      std::move(route), std::move(own));
  watch_door(name, d);
  for (uint32_t i = 0; i < children.size(); ++i) {
    auto& c = children[i];
    auto slot = std::make_shared<handle_slot<caf::actor>>();
    slot->set(c.first);
    behind_doors[c.name] = slot;
    d->attach_functor([slot] { slot->close(); }); // as behind_door's
    // The first start hands the actor launch spawned to its supervisor; later ones spawn
    // anew.
    auto launched = std::make_shared<caf::actor>(std::move(c.first));
    into.push_back(child_spec{
      c.name, restart_kind::permanent,
      [d, i, slot, launched, restart = std::move(c.restart)](caf::local_actor* sup) {
        auto a = *launched ? std::exchange(*launched, caf::actor{}) : restart(sup);
        slot->set(a);
        if (a)
          caf::anon_send(d, atom::restart_v, i, a);
        return a;
      }});
  }
  return d;
}

namespace {

/// Records at the head of the journal a restarted journal verifies before it writes.
constexpr uint64_t tail_checked = 1000;

} // namespace

std::function<caf::actor(caf::local_actor*)> engine::impl::journal_restart() {
  auto st = store;
  auto settings = cfg.journal;
  bool attached = virtual_clock;
  return [st, settings, attached](caf::local_actor* sup) -> caf::actor {
    auto head = st->head().value;
    auto from = head > tail_checked ? head - tail_checked + 1 : 1;
    if (head > 0) {
      auto report = st->verify(seq_no{from}, seq_no{head}, 1);
      if (!report.ok) {
        spdlog::error("journal: the tail does not verify at seq {} ({}): not restarted",
                      report.first_bad.value, report.reason);
        return {};
      }
    }
    auto j = spawn_journal(sup->home_system(), st, settings, attached);
    if (!j) {
      spdlog::error("journal: cannot restart: {}", describe(j.error()).message);
      return {};
    }
    spdlog::warn("journal: restarted at seq {} (the last {} records verified)", head,
                 head - from + 1);
    return caf::actor_cast<caf::actor>(*j);
  };
}

namespace {

/// The doors' supervisor's child for door `d` of room `name`: started once (the door
/// exists already), never restarted (its limits allow no restart). Transient: a door
/// ended in order (`user_shutdown`, as a node's stop ends the console's) is no escalation;
/// any other end is.
child_spec door_spec(const std::string& name, caf::actor d) {
  auto first = std::make_shared<caf::actor>(std::move(d));
  return child_spec{"door:" + name, restart_kind::transient,
                    [first](caf::local_actor*) { return std::exchange(*first, caf::actor{}); }};
}

/// No restart: the first end of a door escalates.
supervisor_limits doors_limits() {
  supervisor_limits limits;
  limits.max_restarts = 0;
  return limits;
}

} // namespace

void engine::impl::watch_door(const std::string& name, caf::actor d) {
  doors.emplace_back(name, d);
  if (!doors_sup)
    return; // start_root takes it
  doors_queue->push(door_spec(name, std::move(d)));
  caf::anon_send(doors_sup, atom::enroll_v);
  pump();
}

void engine::impl::start_root() {
  // The supervisors launch started: taken over as they are. Their own escalation is final
  // (temporary): the engine stays closed, as it did before the root existed.
  auto adopt = [this](const std::string& name, caf::actor sup) {
    if (sup)
      root_children.push_back(child_spec{name, restart_kind::temporary,
                                         [sup](caf::local_actor*) { return sup; }});
  };
  adopt("workers", workers);
  adopt("governance", governance);
  adopt("execution", execution);
  adopt("flights", flights_sup);
  adopt("watch", watch);
  adopt("intake", intake);
  adopt("cluster", cluster_sup);
  std::vector<child_spec> door_specs;
  for (auto& [name, d] : doors)
    door_specs.push_back(door_spec(name, d));
  restarts->limit("doors", doors_limits());
  doors_sup = sys->spawn(supervisor, std::string{"doors"}, doors_limits(), std::move(door_specs),
                         restart_report(), doors_queue);
  adopt("doors", doors_sup);
  supervisor_limits limits; // one_for_one
  restarts->limit("root", limits);
  root = sys->spawn(supervisor, std::string{"root"}, limits, std::exchange(root_children, {}),
                    restart_report(), root_queue);
  pump();
}

void engine::impl::enroll_in_root(child_spec spec) {
  if (!root)
    return;
  root_queue->push(std::move(spec));
  caf::anon_send(root, atom::enroll_v);
  pump();
}

void engine::impl::stop_behind_doors() {
  for (auto& [name, slot] : behind_doors) {
    if (auto a = slot->get())
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    slot->close(); // a supervisor starting its children late must not fill it again
  }
  for (auto& [name, d] : doors)
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  doors.clear();
  root_children.clear();
}

} // namespace bulwark
