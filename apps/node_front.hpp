#pragma once

/// The node's front doors under one supervisor, `front` (one-for-one; a temporary child of
/// the engine's root, like the engine's own supervisors): the console broker behind a
/// door, so the HTTP API keeps one handle across its restarts, and the HTTP API's journal
/// feed. A restarted console listens on the port the first one bound. `chaos kill console`
/// and `chaos kill http_feed` reach them.

#include <string>
#include <vector>

#include "caf/actor.hpp"

#include "actors/console/console.hpp"
#include "bulwark/engine.hpp"
#include "supervision/supervisor.hpp"

namespace bulwark::cli {

class node_front {
public:
  /// Puts `broker` (the running console, bound to `settings.port`) behind a door.
  node_front(engine::impl& d, caf::actor broker, console_settings settings, console_deps deps);

  /// The console's door: what the HTTP API and the node hold.
  caf::actor console() const {
    return console_;
  }

  /// Starts the supervisor over the console and `more` (the HTTP API's actors) and enrolls
  /// it under the root; each child becomes a `chaos kill` name.
  void start(std::vector<child_spec> more);

  /// Stops the supervisor and its children and waits for it (nothing is restarted after);
  /// then the door. Before the listeners stop.
  void stop();

private:
  engine::impl& d_;
  caf::actor console_;
  caf::actor sup_;
  std::vector<child_spec> specs_;
};

} // namespace bulwark::cli
