// Reads the `[[effectors]]` tables of bulwark.toml, naming the file and key of any error.

#include "effectors/effector_config.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include "engine/config_check.hpp"
#include "messages/error.hpp"
#include "messages/ids.hpp"

namespace bulwark {

const char* to_string(effector_kind kind) noexcept {
  switch (kind) {
    case effector_kind::exec:
      return "exec";
    case effector_kind::http:
      return "http";
  }
  return "?";
}

namespace {

const std::set<std::string> common_keys{"kind", "timeout_ms", "max_output_bytes"};
const std::set<std::string> exec_keys{"command", "workdir", "env", "env_pass"};
const std::set<std::string> http_keys{"url", "ca_file", "token_file", "connect_timeout_ms"};

/// Reads one endpoint table; remembers the first error with the file and key.
class endpoint_reader {
public:
  endpoint_reader(std::string file, std::string base) : file_(std::move(file)), base_(std::move(base)) {
  }

  void fail(const std::string& where, const std::string& key, const std::string& problem) {
    if (error.empty())
      error = file_ + ": " + where + "." + key + ": " + problem;
  }

  /// Reads `t` (the entry or its probe) into `out`; `extra` are keys read elsewhere.
  void read(const toml::table& t, const std::string& where, const std::set<std::string>& extra,
            endpoint_spec& out) {
    auto kind = t["kind"].value<std::string>();
    if (!t.contains("kind"))
      return fail(where, "kind", "is required (exec or http)");
    if (!kind || (*kind != "exec" && *kind != "http"))
      return fail(where, "kind", "must be exec or http");
    out.kind = *kind == "exec" ? effector_kind::exec : effector_kind::http;
    auto& own = out.kind == effector_kind::exec ? exec_keys : http_keys;
    for (auto& [name, node] : t) {
      std::string key{name.str()};
      if (common_keys.count(key) || own.count(key) || extra.count(key))
        continue;
      if (exec_keys.count(key) || http_keys.count(key))
        fail(where, key, std::string{"does not apply to a "} + *kind + " effector");
      else
        fail(where, key, "is not an effector key");
    }
    size_t max_output = 65536;
    read_uint(t, where, "max_output_bytes", max_output);
    int64_t timeout = 0;
    read_ms(t, where, "timeout_ms", timeout);
    out.timeout = std::chrono::milliseconds{timeout};
    if (out.kind == effector_kind::exec) {
      out.exec.max_output = max_output;
      read_exec(t, where, out.exec);
    } else {
      out.http.max_output = max_output;
      read_http(t, where, out.http);
    }
  }

  void read_http(const toml::table& t, const std::string& where, http_spec& h) {
    if (!read_string(t, where, "url", h.url))
      return fail(where, "url", "is required: an http:// or https:// URL");
    auto scheme_end = h.url.find("://");
    auto scheme = scheme_end == std::string::npos ? std::string{} : h.url.substr(0, scheme_end);
    for (auto& c : scheme)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "http" && scheme != "https")
      return fail(where, "url", "must be an http:// or https:// URL");
    if (h.url.size() <= scheme_end + 3 || h.url.find_first_of(" \r\n\t") != std::string::npos)
      return fail(where, "url", "must name a host and hold no spaces");
    if (read_string(t, where, "ca_file", h.ca_file)) {
      h.ca_file = resolve(h.ca_file);
      if (::access(h.ca_file.c_str(), R_OK) != 0)
        return fail(where, "ca_file", h.ca_file + " cannot be read");
    }
    std::string token_file;
    if (read_string(t, where, "token_file", token_file)) {
      token_file = resolve(token_file);
      std::ifstream in{token_file};
      std::stringstream text;
      if (!in || !(text << in.rdbuf()))
        return fail(where, "token_file", token_file + " cannot be read");
      h.token = text.str();
      while (!h.token.empty() && (h.token.back() == '\n' || h.token.back() == '\r'
                                  || h.token.back() == ' '))
        h.token.pop_back();
      if (h.token.empty() || h.token.find_first_of("\r\n\0 ", 0, 4) != std::string::npos)
        return fail(where, "token_file", token_file + " must hold one token on one line");
    }
    int64_t connect = h.connect_timeout.count();
    read_ms(t, where, "connect_timeout_ms", connect);
    h.connect_timeout = std::chrono::milliseconds{connect};
  }

  std::string error;

private:
  std::string resolve(const std::string& p) const {
    return !p.empty() && p[0] == '/' ? p : base_ + "/" + p;
  }

  void read_uint(const toml::table& t, const std::string& where, const char* key, size_t& out) {
    if (!t.contains(key))
      return;
    auto v = t[key].value<int64_t>();
    if (!v || *v < 1 || *v > (int64_t{64} << 20))
      fail(where, key, "must be bytes from 1 to 67108864 (64 MiB)");
    else
      out = static_cast<size_t>(*v);
  }

  void read_ms(const toml::table& t, const std::string& where, const char* key, int64_t& out) {
    if (!t.contains(key))
      return;
    auto v = t[key].value<int64_t>();
    if (!v || *v < 1 || *v > 86400000)
      fail(where, key, "must be milliseconds from 1 to 86400000");
    else
      out = *v;
  }

  bool read_string(const toml::table& t, const std::string& where, const char* key,
                   std::string& out) {
    if (!t.contains(key))
      return false;
    auto v = t[key].value<std::string>();
    if (!v || v->empty() || v->find('\0') != std::string::npos) {
      fail(where, key, "must be a non-empty string");
      return false;
    }
    out = *v;
    return true;
  }

  void read_exec(const toml::table& t, const std::string& where, exec_spec& e) {
    auto argv = t["command"].as_array();
    if (!argv || argv->empty())
      return fail(where, "command", "is required: a non-empty list of strings (no shell)");
    for (auto& x : *argv) {
      auto s = x.value<std::string>();
      if (!s || s->find('\0') != std::string::npos)
        return fail(where, "command", "must be a list of strings");
      e.argv.push_back(*s);
    }
    if (e.argv[0].empty())
      return fail(where, "command", "must name a program");
    e.argv[0] = resolve(e.argv[0]);
    struct stat st {};
    if (::stat(e.argv[0].c_str(), &st) != 0)
      return fail(where, "command", e.argv[0] + " does not exist");
    if (!S_ISREG(st.st_mode) || ::access(e.argv[0].c_str(), X_OK) != 0)
      return fail(where, "command", e.argv[0] + " is not an executable file");
    e.workdir = base_;
    if (read_string(t, where, "workdir", e.workdir))
      e.workdir = resolve(e.workdir);
    if (::stat(e.workdir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return fail(where, "workdir", e.workdir + " is not a directory");
    read_env(t, where, e);
  }

  void read_env(const toml::table& t, const std::string& where, exec_spec& e) {
    std::set<std::string> names;
    auto add = [&](const std::string& name, const std::string& value, const char* key) {
      if (!is_env_name(name))
        return fail(where, key, "\"" + name + "\" is not a variable name");
      if (value.find('\0') != std::string::npos)
        return fail(where, key, name + " must not hold a NUL byte");
      if (!names.insert(name).second)
        return fail(where, key, name + " is set twice");
      e.env.push_back(name + "=" + value);
    };
    if (t.contains("env")) {
      auto env = t["env"].as_table();
      if (!env)
        return fail(where, "env", "must be a table of NAME = \"value\"");
      for (auto& [name, node] : *env) {
        auto v = node.value<std::string>();
        if (!v)
          return fail(where, "env", std::string{name.str()} + " must be a string");
        add(std::string{name.str()}, *v, "env");
      }
    }
    if (t.contains("env_pass")) {
      auto pass = t["env_pass"].as_array();
      if (!pass)
        return fail(where, "env_pass", "must be a list of variable names");
      for (auto& x : *pass) {
        auto name = x.value<std::string>();
        if (!name)
          return fail(where, "env_pass", "must be a list of variable names");
        if (auto v = std::getenv(name->c_str()))
          add(*name, v, "env_pass");
        else if (!is_env_name(*name))
          return fail(where, "env_pass", "\"" + *name + "\" is not a variable name");
      }
    }
    if (!names.count("PATH"))
      e.env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  }

  static bool is_env_name(const std::string& s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
      return false;
    for (char c : s)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
        return false;
    return true;
  }

  std::string file_;
  std::string base_;
};

std::string directory_of(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  std::string full = real ? real : path;
  std::free(real);
  auto slash = full.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : full.substr(0, slash);
}

} // namespace

std::string read_http_endpoint(const toml::table& t, const std::string& path,
                               const std::string& where, http_spec& out) {
  endpoint_reader r{path, directory_of(path)};
  r.read_http(t, where, out);
  return r.error;
}

caf::expected<std::vector<effector_spec>> load_effectors(const std::string& path) {
  auto parsed = read_toml(path);
  if (!parsed)
    return std::move(parsed.error());
  auto& root = *parsed;
  std::vector<effector_spec> out;
  if (!root.contains("effectors"))
    return out;
  auto list = root["effectors"].as_array();
  if (!list)
    return refuse(ec::invalid_input, path + ": effectors: must be [[effectors]] tables");
  endpoint_reader r{path, directory_of(path)};
  for (size_t i = 0; i < list->size() && r.error.empty(); ++i) {
    auto where = "effectors[" + std::to_string(i) + "]";
    auto t = (*list)[i].as_table();
    if (!t)
      return refuse(ec::invalid_input, path + ": " + where + ": must be a table");
    effector_spec spec;
    auto service = (*t)["service"].value<std::string>();
    if (!service || !is_valid_id(*service)) {
      r.fail(where, "service", "must name a service");
      break;
    }
    spec.service = *service;
    for (size_t j = 0; j < out.size(); ++j)
      if (out[j].service == spec.service)
        r.fail(where, "service", "service " + spec.service + " has an effector already (effectors["
                                   + std::to_string(j) + "])");
    r.read(*t, where, {"service", "probe"}, spec.effect);
    if (t->contains("probe")) {
      auto p = (*t)["probe"].as_table();
      if (!p) {
        r.fail(where, "probe", "must be a table");
        break;
      }
      spec.probe.emplace();
      r.read(*p, where + ".probe", {}, *spec.probe);
    }
    out.push_back(std::move(spec));
  }
  if (!r.error.empty())
    return refuse(ec::invalid_input, r.error);
  return out;
}

} // namespace bulwark
