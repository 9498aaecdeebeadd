#pragma once

/// The node's Prometheus figures: text exposition (version 0.0.4), served as `/metrics`
/// by the HTTP API.

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

/// Renders what the node's signal source reports (`signals_json`): per series whether it
/// has no data, the consecutive failed rounds, and the queries without a value by reason.
std::string render_signal_metrics(const nlohmann::json& signals);

/// Gathers every figure and renders the metrics text (blocking: call it off CAF's
/// threads); UNAVAILABLE when the journal or the pipeline does not answer in `timeout`.
caf::expected<std::string> collect_metrics(caf::actor_system& sys, const console_deps& deps,
                                           caf::timespan timeout);

} // namespace bulwark
