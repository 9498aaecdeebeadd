#pragma once

/// The attempts store's pure rules: an attempt's id, what retention keeps, and the
/// filter an operator lists attempts by (console `attempts`, `GET /v1/attempts`, the
/// embedding API). Time arrives as an argument; nothing here reads a clock.

#include <cstdint>

#include <nlohmann/json.hpp>

#include "caf/expected.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/attempts.hpp"

namespace bulwark {

/// `[incident] attempt_retention_days` by default: 90 days.
inline constexpr caf::timespan default_attempt_retention = std::chrono::hours{24 * 90};

/// The longest retention accepted (ten years).
inline constexpr uint32_t max_attempt_retention_days = 3650;

/// The most attempts one listing returns.
inline constexpr uint32_t max_attempt_limit = 1000;

/// How often the attempts store is pruned.
inline constexpr caf::timespan attempt_prune_interval = std::chrono::hours{1};

/// SHA-256 of the candidate, the attempt's number and its start: the same attempt gets
/// the same id on every run; two runs' first attempts at one candidate do not share one.
digest attempt_id(const digest& candidate, uint32_t attempt, caf::timestamp started);

/// Attempts started before this are deleted at `now` under `retention`.
caf::timestamp retention_cutoff(caf::timestamp now, caf::timespan retention);

/// Whether retention keeps `x` at `now`.
bool retained(const attempt_record& x, caf::timestamp now, caf::timespan retention);

/// Reads a filter from a JSON object: `candidate` (64 hex characters), `service`,
/// `region` (names), `status` ("succeeded" or "failed"), `limit` (1 to 1000, default
/// 100). Another key, a wrong type or a bad value: INVALID_INPUT naming it.
caf::expected<attempt_filter> parse_attempt_filter(const nlohmann::json& args);

/// Whether `x` passes `f` (its limit aside).
bool matches(const attempt_filter& f, const attempt_record& x);

/// "succeeded" or "failed".
const char* status_of(const attempt_record& x) noexcept;

} // namespace bulwark
