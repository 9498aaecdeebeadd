#pragma once

/// The node's HTTP API (docs/http-api.md): JSON routes that run the console's commands
/// (same tokens, roles, limits and access trail), the journal as pages and as
/// Server-Sent Events, /healthz, /readyz and /metrics. Served by cpp-httplib on its own
/// thread pool; the server's headers stay inside http_api.cpp.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "actors/console/console.hpp"
#include "actors/http/http_settings.hpp"

namespace bulwark {

class http_api {
public:
  /// What a listener serves: the whole API, or only `GET /metrics` (the metrics listener).
  enum class scope : uint8_t { api, metrics_only };

  /// Listens on `host:port` (0 picks a port) and serves until `stop`. `console` is the
  /// running console broker (commands go through it). A certificate or key that does not
  /// load, or an address that cannot be bound, is refused before anything is served.
  static caf::expected<std::unique_ptr<http_api>>
  start(caf::actor_system& sys, const std::string& host, uint16_t port, http_settings settings,
        caf::actor console, console_deps deps, scope what = scope::api);

  ~http_api();
  http_api(const http_api&) = delete;
  http_api& operator=(const http_api&) = delete;

  /// The bound port.
  uint16_t port() const;

  /// Its long-lived actor for a supervisor: `http_feed`, the journal's feed of the event
  /// streams (none for a metrics-only listener). Taken before `stop`, which stops it.
  std::vector<child_spec> children();

  /// Ends open event streams, stops accepting and joins the server's threads.
  void stop();

  struct impl;

private:
  explicit http_api(std::unique_ptr<impl> d);
  std::unique_ptr<impl> d_;
};

} // namespace bulwark
