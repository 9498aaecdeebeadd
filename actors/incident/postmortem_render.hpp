#pragma once

/// Renders a postmortem report (postmortem_policy) as Markdown and as JSON, and reads
/// one from a journal store (the two passes of the builder).

#include <string>

#include <nlohmann/json.hpp>

#include "caf/expected.hpp"

#include "actors/incident/postmortem_policy.hpp"

namespace bulwark {

class journal_store;

/// The report as a Markdown document.
std::string to_markdown(const postmortem_report& r);

/// The report as a JSON object (times as RFC 3339 UTC, durations in ms).
nlohmann::json to_json(const postmortem_report& r);

/// Builds the report of incident `id` from every record of `store`; `INVALID_INPUT` when
/// the journal holds no such incident.
caf::expected<postmortem_report> read_postmortem(journal_store& store, const digest& id,
                                                 caf::timespan lookback);

} // namespace bulwark
