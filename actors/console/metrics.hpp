#pragma once

/// The node's Prometheus endpoint: text exposition (version 0.0.4) over plain HTTP on a
/// loopback port, for monitoring.

#include <cstdint>
#include <string>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "actors/console/console.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// Renders the cluster figures (`bulwark_cluster_*`) in Prometheus text format.
std::string render_cluster_metrics(const cluster_gauges& g);

/// Renders the metrics text from the journal's state and the other figures.
std::string render_metrics(const fleet_state& st, const space_usage& space, uint64_t head,
                           size_t pending, size_t running,
                           const std::vector<std::pair<std::string, breaker_state>>& breakers);

/// Renders the journal's append rate and acknowledgement latency quantiles.
std::string render_append_metrics(const append_meter::summary& s);

/// Serves `GET /metrics` on host:port (0 picks a port); returns the bound port.
caf::expected<uint16_t> start_metrics(caf::actor_system& sys, const std::string& host,
                                      uint16_t port, console_deps deps, caf::actor& handle);

} // namespace bulwark
