#include "messages/error.hpp"

#include <chrono>

#include "caf/atom.hpp"
#include "caf/message.hpp"
#include "caf/make_message.hpp"

namespace bulwark {

const char* to_string(ec code) noexcept {
  switch (code) {
    case ec::none:
      return "NONE";
    case ec::invalid_input:
      return "INVALID_INPUT";
    case ec::authority_denied:
      return "AUTHORITY_DENIED";
    case ec::approval_required:
      return "APPROVAL_REQUIRED";
    case ec::approval_expired:
      return "APPROVAL_EXPIRED";
    case ec::blast_radius_exceeded:
      return "BLAST_RADIUS_EXCEEDED";
    case ec::circuit_open:
      return "CIRCUIT_OPEN";
    case ec::rate_limited:
      return "RATE_LIMITED";
    case ec::overloaded:
      return "OVERLOADED";
    case ec::halted:
      return "HALTED";
    case ec::governance_failure:
      return "GOVERNANCE_FAILURE";
    case ec::audit_unavailable:
      return "AUDIT_UNAVAILABLE";
    case ec::unavailable:
      return "UNAVAILABLE";
    case ec::timeout:
      return "TIMEOUT";
    case ec::integrity_violation:
      return "INTEGRITY_VIOLATION";
    case ec::effector_failed:
      return "EFFECTOR_FAILED";
  }
  return "UNKNOWN";
}

bool parse(std::string_view name, ec& out) noexcept {
  for (uint8_t i = 0; i <= static_cast<uint8_t>(ec::effector_failed); ++i) {
    auto code = static_cast<ec>(i);
    if (name == to_string(code)) {
      out = code;
      return true;
    }
  }
  return false;
}

caf::error refuse(ec code, std::string what, trace_id trace,
                  caf::optional<caf::timespan> retry_after) {
  return caf::make_error(code, std::move(what), trace, retry_after);
}

bool is(const caf::error& err, ec code) noexcept {
  return err.category() == caf::atom(error_category)
         && err.code() == static_cast<uint8_t>(code);
}

ec code_of(const caf::error& err) noexcept {
  if (!err || err.category() != caf::atom(error_category))
    return ec::none;
  return static_cast<ec>(err.code());
}

error_info describe(const caf::error& err) {
  error_info info;
  info.code = code_of(err);
  if (info.code == ec::none) {
    info.message = err ? caf::to_string(err) : std::string{};
    return info;
  }
  auto& ctx = err.context();
  if (ctx.match_elements<std::string, trace_id, caf::optional<caf::timespan>>()) {
    info.message = ctx.get_as<std::string>(0);
    info.trace = ctx.get_as<trace_id>(1);
    info.retry_after = ctx.get_as<caf::optional<caf::timespan>>(2);
  }
  return info;
}

std::string render_error(uint8_t code, caf::atom_value, const caf::message& ctx) {
  std::string out = to_string(static_cast<ec>(code));
  if (ctx.match_elements<std::string, trace_id, caf::optional<caf::timespan>>()) {
    out += ": ";
    out += ctx.get_as<std::string>(0);
    auto trace = ctx.get_as<trace_id>(1);
    if (trace.value != 0)
      out += " (trace " + std::to_string(trace.value) + ")";
    auto& retry = ctx.get_as<caf::optional<caf::timespan>>(2);
    if (retry) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*retry).count();
      out += " (retry after " + std::to_string(ms) + " ms)";
    }
  }
  return out;
}

} // namespace bulwark
