#pragma once

/// Reads one answer of Prometheus's instant-query API (`/api/v1/query`): a vector with
/// exactly one sample gives its value; anything else gives no value and the reason.
/// A pure function of the HTTP status and body.

#include <string>

namespace bulwark {

/// Why a query gave no value (each counted and documented in docs/operations.md).
enum class no_data : uint8_t {
  none = 0,        ///< a value
  unreachable,     ///< no HTTP answer (refused, reset, unresolved, TLS)
  timeout,         ///< no full answer within prometheus.timeout_ms
  http_status,     ///< an HTTP status other than 200 (a PromQL error answers 400)
  malformed,       ///< the body is not the API's JSON
  query_error,     ///< "status": "error" in a 200 answer
  wrong_type,      ///< a result type other than vector (matrix, scalar, string)
  empty,           ///< a vector with no sample (no series matched, or too few scrapes)
  several,         ///< a vector with more than one sample (the query must aggregate)
  not_a_number,    ///< NaN, Inf, or a value that is not a number (0/0 error rates)
};

/// Returns the reason's name ("none", "unreachable", ..., "not_a_number").
const char* to_string(no_data x) noexcept;

/// One query's outcome: `value` when `why == none`, else `detail` says more.
struct query_value {
  no_data why = no_data::none;
  double value = 0;
  std::string detail;
};

/// Reads an answer that arrived with HTTP `status` and `body`.
query_value read_query_answer(long status, const std::string& body);

} // namespace bulwark
