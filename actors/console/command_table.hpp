#pragma once

/// The console's command table (docs/console-protocol.md): each command's role, one-line
/// description and arguments (name, required or not, type, one example). One table feeds
/// argument checking, `help` and the client's completion. Pure: no sockets, no actors.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/console/console_protocol.hpp"

namespace bulwark {

/// What an argument's value must be.
enum class arg_type : uint8_t {
  text,   ///< a JSON string
  count,  ///< a non-negative integer
  digest, ///< a string: 64 hex digits, or a unique prefix of at least 8
  list,   ///< a JSON array
  value,  ///< a string, a number or a list: the command checks it (log's times and types)
};

const char* to_string(arg_type x) noexcept;

/// One argument of a command.
struct console_arg {
  std::string name;
  bool required = false;
  arg_type type = arg_type::text;
  std::string example; ///< as typed in `bulwark console`, e.g. `3` or `["api"]`
};

/// One command: who may use it, what it does, what it takes.
struct console_command {
  std::string name;
  console_role role = console_role::viewer;
  std::string help;
  std::vector<console_arg> args;
  std::string example; ///< one line a person can type
};

/// Every command, in the order `help` lists them.
const std::vector<console_command>& command_table();

/// The command named `name`, or null.
const console_command* find_command(std::string_view name);

/// The fewest hex digits a digest prefix may have.
inline constexpr size_t min_digest_prefix = 8;

/// Takes a text or digest argument given as a non-negative integer as its digits (a
/// digest prefix of decimal digits, an owner named 1234), as the client sends them.
void normalize_args(console_request& req);

/// Checks `req.args` against the table: names every unknown argument, every missing
/// required one and every one of the wrong type, all in one INVALID_INPUT message.
/// Digest arguments must be hex of 8 to 64 digits. `auth` is not checked here.
bool check_args(const console_request& req, console_refusal& why);

/// How a person types the command: `grant principal=NAME level=N [until_ms=N] ...`.
std::string usage_of(const console_command& c);

/// Resolves a digest or a prefix of one (lowercase or not) against `known` (full hex
/// digests): the one that matches, or false with why (none, or how many match).
bool resolve_digest(std::string_view text, const std::vector<std::string>& known,
                    std::string& out, std::string& why);

} // namespace bulwark
