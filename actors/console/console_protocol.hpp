#pragma once

/// The console protocol's pure core (docs/console-protocol.md): parsing one request line,
/// the command table with the role each command needs, token checks, and building
/// responses. No sockets, no actors: tested on its own and fuzzed.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/error.hpp"
#include "messages/ids.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// Who may use a command; each role includes the ones before it.
enum class console_role : uint8_t { none = 0, viewer = 1, operator_ = 2, admin = 3 };

const char* to_string(console_role x) noexcept;
bool parse(std::string_view name, console_role& out) noexcept;

/// One configured console token: its SHA-256, never the token itself.
struct console_token {
  digest sha256;
  principal_id principal;
  console_role role = console_role::viewer;
};

/// A parsed request line.
struct console_request {
  nlohmann::json id; ///< echoed in the response (number, string or null)
  std::string cmd;
  nlohmann::json args = nlohmann::json::object();
};

/// A protocol-level refusal: the code, the message, and the id if one was readable.
struct console_refusal {
  ec code = ec::invalid_input;
  std::string message;
  nlohmann::json id;
};

/// Parses one line (without its newline). Refuses invalid JSON, non-objects, a missing
/// or non-string `cmd`, non-object `args`, an `id` that is not a number, string or null.
bool parse_request(std::string_view line, console_request& out, console_refusal& why);

/// Returns the role a command needs, or none for an unknown command (command_table.hpp).
console_role required_role(const std::string& cmd);

/// Finds the token whose SHA-256 matches `token` (constant-time compare per entry).
const console_token* authenticate(const std::vector<console_token>& tokens,
                                  std::string_view token);

/// `{"id":…, "ok":true, "result":…}`
std::string ok_response(const nlohmann::json& id, const nlohmann::json& result);

/// `{"id":…, "ok":false, "error":{"code", "message", "trace_id", "retry_after"}}`
std::string error_response(const nlohmann::json& id, ec code, const std::string& message,
                           uint64_t trace = 0, int64_t retry_after_ms = -1);

/// The error response for a CAF error (codes, messages and retry_after kept).
std::string error_response(const nlohmann::json& id, const caf::error& err);

/// `{"event":…, "data":…}`: a server-pushed message for subscriptions and progress.
std::string push_message(const std::string& event, const nlohmann::json& data);

/// Reads a required string argument; false (with `why`) if missing or not a string.
bool string_arg(const console_request& req, const char* name, std::string& out,
                console_refusal& why);

/// Reads an optional unsigned argument; false (with `why`) if present but not one.
bool uint_arg(const console_request& req, const char* name, uint64_t& out,
              console_refusal& why);

/// The most samples one `report` carries.
inline constexpr size_t max_report_samples = 1000;

/// Reads `report`'s `samples`: a list of {service, region, error_rate (0..1), latency_ms
/// (>= 0), at_ms? (ms since the epoch; default `now`)}; false (with `why`) on any bad one.
bool parse_samples(const console_request& req, caf::timestamp now, std::vector<metric_in>& out,
                   console_refusal& why);

} // namespace bulwark
