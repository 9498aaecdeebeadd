#pragma once

/// The `[[effectors]]` tables of bulwark.toml: per service, how its changes are applied
/// (a command or an HTTP endpoint) and, optionally, how its current values are read back.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "caf/expected.hpp"

namespace bulwark {

/// How an effector or probe reaches the world.
enum class effector_kind : uint8_t { exec = 1, http = 2 };

/// Returns "exec" or "http".
const char* to_string(effector_kind kind) noexcept;

/// A command run once per call: argv without a shell, a fixed environment and directory.
struct exec_spec {
  std::vector<std::string> argv;   ///< argv[0]: an absolute path to an executable file
  std::string workdir;             ///< the working directory (default: the config's directory)
  std::vector<std::string> env;    ///< the whole environment, as NAME=value
  size_t max_output = 65536;       ///< bytes each of stdout and stderr may hold
};

/// An HTTP endpoint called once per call with a JSON body.
struct http_spec {
  std::string url;                 ///< http:// or https://
  std::string ca_file;             ///< PEM CA bundle for TLS ("": the system's)
  std::string token;               ///< bearer token ("": no Authorization header)
  std::chrono::milliseconds connect_timeout{2000};
  size_t max_output = 65536;       ///< bytes of the answer's body kept
};

/// One way to reach the world: an exec or an http endpoint.
struct endpoint_spec {
  effector_kind kind = effector_kind::exec;
  exec_spec exec;
  http_spec http;
  std::chrono::milliseconds timeout{0}; ///< cap on each call (0: the caller's timeout only)
};

/// One service's configured effector and its optional probe.
struct effector_spec {
  std::string service;
  endpoint_spec effect;
  std::optional<endpoint_spec> probe;
};

/// Reads the `[[effectors]]` tables of `path` (none: an empty list). Every error is
/// INVALID_INPUT naming the file and the key: an unknown key or kind, a second effector
/// for one service, a command that does not exist or is not executable, a working
/// directory that is not one, a URL that is not http(s), an unreadable CA or token file.
caf::expected<std::vector<effector_spec>> load_effectors(const std::string& path);

/// Reads the HTTP endpoint keys of table `t` (at `where` in the file `path`): `url` (required,
/// http or https), `ca_file`, `token_file` (read now) and `connect_timeout_ms`; relative
/// files are found beside `path`. Returns "" or the first error as "PATH: WHERE.KEY: problem".
std::string read_http_endpoint(const toml::table& t, const std::string& path,
                               const std::string& where, http_spec& out);

} // namespace bulwark
