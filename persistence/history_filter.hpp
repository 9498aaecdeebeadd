#pragma once

/// What a history query asks for (docs/journal-format.md, "History queries"): a seq range,
/// a time range, event types and the subjects an event must name (principal, resource,
/// service, incident, proposal), with a page size. Pure: no store, no clock.
///
/// `bulwark log`, the console's `log` and `GET /v1/events` all fill one `history_filter`
/// through `set_history_arg`, so each argument means the same everywhere.

#include <bitset>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "messages/events.hpp"

namespace bulwark {

/// Events per page when none is asked for.
inline constexpr uint32_t history_default_page = 1000;

/// The largest page one answer holds (a larger `limit` is INVALID_INPUT).
inline constexpr uint32_t history_max_page = 10000;

/// A history query's filter; every condition given must hold (types: any of them).
struct history_filter {
  uint64_t from = 1;                                   ///< first seq scanned
  uint64_t to = std::numeric_limits<uint64_t>::max(); ///< last seq scanned (clamped to the head)
  int64_t since_ns = std::numeric_limits<int64_t>::min(); ///< event time, inclusive
  int64_t until_ns = std::numeric_limits<int64_t>::max(); ///< event time, inclusive
  std::bitset<256> types;  ///< the types asked for (none set: every type)
  std::string principal;   ///< "": any
  std::string resource;
  std::string service;
  std::string incident;    ///< 64 lowercase hex characters, or ""
  std::string proposal;
  std::string incident_bytes; ///< the digests' 32 bytes, for the payload test
  std::string proposal_bytes;
  uint32_t limit = history_default_page; ///< matches per page
};

/// Sets the argument `name` of `f` from its text: from, to (seqs), since, until (ISO 8601
/// UTC times or milliseconds since the epoch), type (event type names separated by
/// commas), principal, resource, service, incident, proposal (whole digests), limit.
/// False with `why` naming the argument and the problem; `f` is unchanged then.
bool set_history_arg(history_filter& f, std::string_view name, std::string_view value,
                     std::string& why);

/// Checks the filter as a whole: from >= 1, from <= to, since <= until.
bool check_history_filter(const history_filter& f, std::string& why);

/// Parses `2026-12-06T07:00:00Z` (seconds, optionally `.mmm`, `Z` required) or a
/// number of milliseconds since the epoch into nanoseconds since the epoch.
bool parse_history_time(std::string_view text, int64_t& ns);

/// True when a record of `type` stored at `at_ns` passes the type and time conditions.
inline bool history_header_matches(const history_filter& f, uint8_t type, int64_t at_ns) {
  return (f.types.none() || f.types.test(type)) && at_ns >= f.since_ns && at_ns <= f.until_ns;
}

/// True when the filter names any subject (principal, resource, ...).
bool history_has_subjects(const history_filter& f);

/// A cheap first test: every subject asked for occurs as bytes in the canonical payload
/// (a string's bytes, a digest's 32 bytes). False means the event cannot match.
bool history_payload_may_match(const history_filter& f, const uint8_t* payload, size_t size);

/// The exact test: the decoded payload names every subject asked for in one of its
/// fields (principal: principal, approver, by, owner; resource, service, incident,
/// proposal: the field of that name, in nested changes and culprits too).
bool history_subjects_match(const history_filter& f, const event& ev);

} // namespace bulwark
