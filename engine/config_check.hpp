#pragma once

/// Refuses keys and tables of a parsed TOML file that `known_config_keys()` does not hold.

#include <string>

#include <toml++/toml.h>

#include "caf/expected.hpp"

#include "engine/config_keys.hpp"
#include "messages/error.hpp"

namespace bulwark {

/// Checks every key of `root` (read from `path`) against the table of known keys. The
/// error (`INVALID_INPUT`) names the file, each unknown key or table and the nearest
/// known name, one line each.
caf::error check_known_keys(const toml::table& root, config_file file, const std::string& path);

/// Parses the TOML file `path`; a syntax error (`INVALID_INPUT`) reads
/// `PATH:LINE:COLUMN: what`.
caf::expected<toml::table> read_toml(const std::string& path);

} // namespace bulwark
