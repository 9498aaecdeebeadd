#pragma once

/// Effectors and probes built from `[[effectors]]` tables, as the engine calls them.

#include <vector>

#include "bulwark/engine.hpp"
#include "effectors/effector_config.hpp"

namespace bulwark {

/// Returns the effector `spec` describes: exec maps exit 0 to applied, 75 to retryable
/// and anything else to failed (with the tail of stderr); http maps 2xx to applied,
/// 408, 429, 5xx, timeouts and lost connections to retryable, anything else to failed.
effector make_effector(const endpoint_spec& spec);

/// Returns the probe `spec` describes: its answer is `{"value": "..."}` or
/// `{"value": null}` (exec: on stdout with exit 0; http: as a 2xx body).
prober make_probe(const endpoint_spec& spec);

/// Registers each spec's effector and probe (when it has one) with `eng`.
void register_effectors(engine& eng, const std::vector<effector_spec>& specs);

} // namespace bulwark
