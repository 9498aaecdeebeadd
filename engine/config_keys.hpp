#pragma once

/// The one table of configuration keys: every key and section that bulwark.toml and the
/// fleet file accept. The parsers refuse anything else (naming the nearest known name),
/// and a test holds docs/configuration.md to the same table.

#include <string>
#include <vector>

namespace bulwark {

/// Which file a key belongs to.
enum class config_file { node, fleet };

/// A value, a table (`[a.b]`) or a list of tables (`[[a.b]]`).
enum class key_kind { value, table, table_list };

/// One known key. `path` is dotted from the file's root; a segment in angle brackets is
/// a name the user chooses (`<service>`, `<principal>`, `<node>`, `<name>`), except
/// `<indicator>`, which is one of the health indicators. A table with `same_as` accepts
/// the keys of that table (`breaker.<service>` takes those of `breaker`).
struct config_key {
  config_file file;
  const char* path;
  key_kind kind;
  const char* same_as = nullptr;
};

/// Every known key and table, in the order of the documentation.
const std::vector<config_key>& known_config_keys();

/// A key of `known_config_keys()` with `<indicator>` replaced by an indicator's id.
struct config_name {
  config_file file;
  key_kind kind;
  std::string path;
};

/// `known_config_keys()` with `<indicator>` replaced by each health indicator's id.
std::vector<config_name> expanded_config_keys();

/// The edit distance of two names (insertions, deletions, substitutions).
size_t edit_distance(const std::string& a, const std::string& b);

} // namespace bulwark
