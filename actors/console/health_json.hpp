#pragma once

/// Renders the health actor's published view for the console (`health`, `warnings`) and
/// the metrics endpoint.

#include <string>

#include <nlohmann/json.hpp>

#include "actors/health/health_board.hpp"

namespace bulwark {

/// The `health` answer: level, rounds, failure modes and indicators.
nlohmann::json health_json(const health_snapshot& s);

/// The `warnings` answer: every early warning kept, newest last.
nlohmann::json warnings_json(const health_snapshot& s);

/// Prometheus lines: the degradation level, each mode's level and each indicator's value.
std::string render_health_metrics(const health_snapshot& s);

} // namespace bulwark
