#include "apps/node_front.hpp"

#include <chrono>
#include <memory>
#include <utility>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "engine/engine_impl.hpp"
#include "messages/error.hpp"

namespace bulwark::cli {

node_front::node_front(engine::impl& d, caf::actor broker, console_settings settings,
                       console_deps deps)
  : d_(d) {
  console_ = d.behind_door(
    "console", refuse(ec::unavailable, "the console is restarting"), std::move(broker),
    [settings = std::move(settings), deps = std::move(deps)](caf::local_actor* sup) {
      // Same settings and port; its connections are gone (their clients saw them close).
      return spawn_console(sup->home_system(), settings, deps);
    },
    &specs_);
}

void node_front::start(std::vector<child_spec> more) {
  d_.chaos->expose("console", slot_killer("console", d_.behind_doors.at("console")));
  for (auto& spec : more) {
    auto slot = std::make_shared<handle_slot<caf::actor>>();
    d_.chaos->expose(spec.name, slot_killer(spec.name, slot));
    spec.start = [slot, start = std::move(spec.start)](caf::local_actor* sup) {
      auto a = start(sup);
      slot->set(a);
      return a;
    };
    specs_.push_back(std::move(spec));
  }
  supervisor_limits one_for_one;
  d_.restarts->limit("front", one_for_one);
  sup_ = d_.sys->spawn(supervisor, std::string{"front"}, one_for_one, std::exchange(specs_, {}),
                       d_.restart_report(), std::shared_ptr<child_queue>{});
  d_.enroll_in_root(child_spec{"front", restart_kind::temporary,
                               [sup = sup_](caf::local_actor*) { return sup; }});
}

void node_front::stop() {
  if (sup_) {
    caf::scoped_actor self{*d_.sys};
    self->monitor(sup_);
    caf::anon_send_exit(sup_, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds{5}) >> [] {});
    sup_ = nullptr;
  } else if (auto slot = d_.behind_doors.find("console"); slot != d_.behind_doors.end()) {
    // Never started: the console runs unsupervised behind its door.
    if (auto a = slot->second->get())
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  specs_.clear();
  if (auto slot = d_.behind_doors.find("console"); slot != d_.behind_doors.end())
    slot->second->close();
  caf::anon_send_exit(console_, caf::exit_reason::user_shutdown);
  console_ = nullptr;
}

} // namespace bulwark::cli
