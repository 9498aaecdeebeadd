#pragma once

/// The HTTP API's pure core (docs/http-api.md): the route table, the translation of a
/// request into a console command, and HTTP status codes for the console's error codes.
/// No sockets, no actors: tested on its own, fuzzed, and checked against docs/openapi.json.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/console/console_protocol.hpp"

namespace bulwark {

/// What serves a route besides a console command.
enum class http_builtin : uint8_t { none, healthz, readyz, metrics, stream, web };

/// One route: method, path (OpenAPI form, `{name}` for the one path parameter), and the
/// console command that serves it.
struct http_route {
  std::string method;     ///< GET or POST
  std::string path;       ///< e.g. /v1/proposals/{id}/approve
  std::string command;    ///< console command ("" for a built-in)
  std::string param;      ///< the argument the path parameter fills ("" when none)
  bool param_is_seq = false; ///< the path parameter is a number (a seq)
  std::string list;       ///< GET one item: the command's list ("" for a bare array)...
  std::string key;        ///< ...and the field that holds its id ("" for no selection)
  http_builtin builtin = http_builtin::none;
  std::string summary;
  bool immediate = false; ///< the console answers it itself, without asking another actor
};

/// Every route the server registers.
const std::vector<http_route>& http_routes();

/// The events of a `GET /v1/events` page when no `limit` is given.
inline constexpr uint64_t http_events_page = 1000;

/// Builds the console request of a route from its path parameter, query and body (a JSON
/// object or empty). The body gives the arguments; the path parameter and the query
/// (the history parameters of /v1/events: `from`, `to`, `since`, `until`, `type`,
/// `principal`, `resource`, `service`, `incident`, `proposal`, `limit`) set theirs. False (with `why`) on bad input.
bool http_request(const http_route& r, const std::string& param,
                  const std::map<std::string, std::string>& query, std::string_view body,
                  console_request& out, console_refusal& why);

/// Picks the item whose `key` is `id` from a list command's result (null if none).
nlohmann::json http_select(const http_route& r, const nlohmann::json& result,
                           const std::string& id);

/// The HTTP status of a console error code (`authenticated`: the token was accepted, so
/// AUTHORITY_DENIED is a role or policy refusal, 403, not 401).
int http_status(ec code, bool authenticated);

/// The HTTP status and body of a console response line: the result on success, else
/// `{"error": {...}}`; a proposal refused by policy has its code's status. False if the
/// line is not a console response.
bool http_response(std::string_view line, bool authenticated, int& status,
                   nlohmann::json& body);

/// The result of a console line that answered ok to a request without an id, as the text
/// the console rendered it (what http_response's body would dump to, without parsing it);
/// empty if the line is anything else.
std::string_view http_ok_result(std::string_view line);

} // namespace bulwark
