#pragma once

/// The project error enum, registered with CAF, and the helpers that build and read it.

#include <cstdint>
#include <string>
#include <string_view>

#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/make_message.hpp"
#include "caf/message.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"

#include "messages/ids.hpp"

namespace bulwark {

/// Every refusal or failure Bulwark reports. Append only: codes travel on the wire.
enum class ec : uint8_t {
  none = 0,
  invalid_input = 1,
  authority_denied = 2,
  approval_required = 3,
  approval_expired = 4,
  blast_radius_exceeded = 5,
  circuit_open = 6,
  rate_limited = 7,
  overloaded = 8,
  halted = 9,
  governance_failure = 10,
  audit_unavailable = 11,
  unavailable = 12,
  timeout = 13,
  integrity_violation = 14,
  effector_failed = 15,
};

/// Returns the documented name, e.g. "AUDIT_UNAVAILABLE".
const char* to_string(ec code) noexcept;

/// Parses a documented name back into a code; false if unknown.
bool parse(std::string_view name, ec& out) noexcept;

/// The category atom text of Bulwark errors.
inline constexpr char error_category[] = "bulwark";

} // namespace bulwark

CAF_ERROR_CODE_ENUM(bulwark::ec, "bulwark")

namespace bulwark {

/// Builds a Bulwark error with the fixed context (what, trace id, retry_after).
caf::error refuse(ec code, std::string what, trace_id trace = {},
                  caf::optional<caf::timespan> retry_after = caf::none);

/// Returns true if `err` is the Bulwark error `code`.
bool is(const caf::error& err, ec code) noexcept;

/// Returns the Bulwark code of `err`, or `ec::none` for foreign errors.
ec code_of(const caf::error& err) noexcept;

/// The decoded context of a Bulwark error.
struct error_info {
  ec code = ec::none;
  std::string message;
  trace_id trace;
  caf::optional<caf::timespan> retry_after;
};

/// Extracts code and context; foreign errors keep their CAF rendering as message.
error_info describe(const caf::error& err);

/// Renders a Bulwark error, e.g. `AUDIT_UNAVAILABLE: map full (trace 12)`.
std::string render_error(uint8_t code, caf::atom_value category, const caf::message& ctx);

} // namespace bulwark
