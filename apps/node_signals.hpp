#pragma once

/// The node's signal source: `[prometheus]` in its configuration, checked before the node
/// starts and run beside it.

#include <memory>
#include <string>

#include "actors/console/console.hpp"
#include "bulwark/engine.hpp"
#include "signals/prometheus_source.hpp"

namespace bulwark::cli {

/// Checks `[prometheus]` of `config` (its keys, templates and series; `fleet` may give
/// the series). Prints the error and returns exit_usage, else exit_ok.
int check_signal_source(const std::string& config, const std::string& fleet);

/// Starts the source of `config`, if it has one, feeding `eng`; `deps.signals` then shows
/// what it sees. Prints the error and returns exit_usage when it cannot start.
int start_signal_source(const std::string& config, const std::string& fleet, engine& eng,
                        console_deps& deps, std::unique_ptr<prometheus_source>& out);

} // namespace bulwark::cli
