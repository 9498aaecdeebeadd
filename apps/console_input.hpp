#pragma once

/// What a person types into `bulwark console`, as pure functions: a line to a request,
/// and the completions of the word being typed (commands, then argument names).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bulwark::cli {

/// Splits a typed line into words: blanks separate them, except inside "..." (with \"
/// and \\ escapes) and inside [...] or {...}. False (with `error`) for an unclosed quote
/// or bracket.
bool split_words(const std::string& input, std::vector<std::string>& out, std::string& error);

/// Turns `cmd key=value ...` (values that parse as JSON are sent as JSON, others as
/// text; quote text with blanks) or a raw JSON object into a request with `id`.
bool to_request(const std::string& input, uint64_t id, nlohmann::json& out, std::string& error);

/// A command as `help` lists it: its name and its arguments' names.
struct command_names {
  std::string name;
  std::vector<std::string> args;
};

/// The commands in a `help` answer's result (entries without a name are skipped).
std::vector<command_names> commands_from_help(const nlohmann::json& result);

/// A `help` answer's result for people: per command, its usage, what it does and one
/// example; empty when `result` is not a `help` answer.
std::string help_text(const nlohmann::json& result);

/// The completions of the last word of `line` (the text before the cursor): command
/// names for the first word; after it, `name=` for each argument of that command not
/// given yet. Nothing inside a quoted or bracketed value, or after `=`.
std::vector<std::string> complete(const std::string& line, const std::vector<command_names>& cmds);

} // namespace bulwark::cli
