// Reads a node's bulwark.toml into its configuration, naming the file and key of any error.

#include "engine/node_config.hpp"

#include <algorithm>
#include <sstream>

#include <toml++/toml.h>

#include "engine/config_check.hpp"
#include "persistence/sha256.hpp"

namespace bulwark {

namespace {

/// Reads typed keys of one table and remembers the first error with file and key.
class reader {
public:
  reader(std::string file, const toml::table& root) : file_(std::move(file)), root_(root) {
  }

  template <class T>
  void get(const char* table, const char* key, T& out) {
    get_at(root_[table], table, key, out);
  }

  template <class T>
  void get_at(toml::node_view<const toml::node> parent, const std::string& table,
              const char* key, T& out) {
    auto node = parent[key];
    if (!node)
      return;
    if constexpr (std::is_same_v<T, bool>) {
      if (auto v = node.template value<bool>())
        out = *v;
      else
        fail(table, key, "must be true or false");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = node.template value<std::string>())
        out = *v;
      else
        fail(table, key, "must be a string");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto v = node.template value<double>())
        out = static_cast<T>(*v);
      else
        fail(table, key, "must be a number");
    } else {
      auto v = node.template value<int64_t>();
      if (!v)
        fail(table, key, "must be an integer");
      else if (*v < 0)
        fail(table, key, "must not be negative");
      else
        out = static_cast<T>(*v);
    }
  }

  void get_ms(const char* table, const char* key, caf::timespan& out) {
    int64_t ms = -1;
    get(table, key, ms);
    if (err)
      return;
    if (ms == 0)
      fail(table, key, "must be greater than zero");
    else if (ms > 0)
      out = std::chrono::milliseconds{ms};
  }

  void get_ms_at(toml::node_view<const toml::node> parent, const std::string& table,
                 const char* key, caf::timespan& out) {
    int64_t ms = -1;
    get_at(parent, table, key, ms);
    if (ms == 0)
      fail(table, key, "must be greater than zero");
    else if (ms > 0)
      out = std::chrono::milliseconds{ms};
  }

  void fail(const std::string& table, const std::string& key, const std::string& problem) {
    if (!err)
      err = refuse(ec::invalid_input, file_ + ": " + table + "." + key + ": " + problem);
  }

  const toml::table& root() const {
    return root_;
  }

  caf::error err;

private:
  std::string file_;
  const toml::table& root_;
};

/// Reads `[authority] key`, a list of principal names, into `out`.
void read_principals(reader& r, const char* key, std::set<std::string>& out) {
  auto node = r.root()["authority"][key];
  if (node && !node.is_array())
    r.fail("authority", key, "must be a list of principal names");
  if (auto names = node.as_array()) {
    for (auto& x : *names) {
      if (auto s = x.value<std::string>(); s && is_valid_id(*s))
        out.insert(*s);
      else
        r.fail("authority", key, "must be a list of principal names");
    }
  }
}

void read_authority(reader& r, authority_settings& a) {
  r.get("authority", "enforce_enabled", a.policy.enforce_enabled);
  r.get("authority", "rate_per_second", a.policy.rate_per_second);
  r.get("authority", "burst", a.policy.burst);
  r.get_ms("authority", "approval_timeout_ms", a.policy.approval_timeout);
  r.get_ms("authority", "observation_window_ms", a.policy.observation_window);
  read_principals(r, "admins", a.admins);
  read_principals(r, "operators", a.approvals.operators);
  r.get("authority", "allow_self_approval", a.approvals.allow_self_approval);
  r.get("authority", "max_batch", a.policy.max_batch);
  r.get("authority", "audit_backlog", a.policy.audit_backlog);
  if (auto node = r.root()["authority"]["approver_role"]; node && !node.is_table())
    r.fail("authority", "approver_role", "must be a table of levels (\"1\" to \"4\") to roles");
  if (auto roles = r.root()["authority"]["approver_role"].as_table()) {
    for (auto& [name, value] : *roles) {
      std::string level{name.str()};
      auto role = value.value<std::string>();
      if (level.size() != 1 || level[0] < '1' || level[0] > '4')
        r.fail("authority.approver_role", level, "is not a level from \"1\" to \"4\"");
      else if (!role || (*role != "operator" && *role != "admin"))
        r.fail("authority.approver_role", level, "must be \"operator\" or \"admin\"");
      else
        a.approvals.least[static_cast<size_t>(level[0] - '0')] =
          *role == "admin" ? approver_role::admin : approver_role::operator_;
    }
  }
  if (auto grants = r.root()["authority"]["grants"].as_table()) {
    for (auto& [name, value] : *grants) {
      auto level = value.value<int64_t>();
      std::string key{name.str()};
      if (!is_valid_id(key))
        r.fail("authority.grants", key, "is not a valid principal name");
      else if (!level || *level < 0 || *level > 4)
        r.fail("authority.grants", key, "must be a level from 0 to 4");
      else
        a.policy.grants[key] = static_cast<authority_level>(*level);
    }
  }
}

/// Reads `[health]`: periods, history, sustain_rounds and `<indicator>_warning` /
/// `<indicator>_critical`
/// (any other key was refused by `check_known_keys`).
void read_health(reader& r, health_settings& h) {
  r.get_ms("health", "period_ms", h.period);
  r.get_ms("health", "verify_interval_ms", h.verify_interval);
  r.get_ms("health", "rate_window_ms", h.rate_window);
  r.get("health", "history", h.history);
  r.get("health", "sustain_rounds", h.sustain_rounds);
  for (auto& def : indicator_defs()) {
    auto t = limits_of(h, def);
    r.get("health", (def.id + "_warning").c_str(), t.warning);
    r.get("health", (def.id + "_critical").c_str(), t.critical);
    if (t.warning != def.limits.warning || t.critical != def.limits.critical)
      h.limits[def.id] = t;
  }
}

/// Reads the breaker keys of one table (`breaker` or `breaker.<service>`).
void read_breaker(reader& r, toml::node_view<const toml::node> t, const std::string& name,
                  breaker_limits& b) {
  r.get_at(t, name, "consecutive_failures", b.consecutive_failures);
  r.get_at(t, name, "failure_rate", b.failure_rate);
  r.get_at(t, name, "window_calls", b.window_calls);
  r.get_ms_at(t, name, "window_ms", b.window_time);
  r.get_at(t, name, "minimum_calls", b.minimum_calls);
  r.get_at(t, name, "slow_call_rate", b.slow_call_rate);
  r.get_ms_at(t, name, "slow_call_ms", b.slow_call_duration);
  r.get_ms_at(t, name, "cooldown_ms", b.cooldown);
  r.get_at(t, name, "half_open_probes", b.half_open_probes);
  r.get_at(t, name, "max_in_flight", b.max_in_flight);
  r.get_at(t, name, "max_queue", b.max_queue);
  r.get_at(t, name, "attempts", b.attempts);
  r.get_ms_at(t, name, "attempt_timeout_ms", b.attempt_timeout);
  r.get_ms_at(t, name, "backoff_base_ms", b.backoff_base);
  r.get_ms_at(t, name, "backoff_cap_ms", b.backoff_cap);
}

/// Reads `[breaker]` and every `[breaker.<service>]` (which starts from `[breaker]`).
void read_breakers(reader& r, node_config& cfg) {
  auto t = r.root()["breaker"];
  read_breaker(r, t, "breaker", cfg.breaker);
  if (auto table = t.as_table())
    for (auto& [name, node] : *table)
      if (node.is_table()) {
        std::string service{name.str()};
        auto& b = cfg.breakers[service] = cfg.breaker;
        read_breaker(r, t[service], "breaker." + service, b);
      }
}

/// Reads `[console]` and its `[[console.tokens]]`.
void read_console(reader& r, node_config& cfg) {
  auto& c = cfg.console;
  r.get("node", "id", c.node_id);
  std::string listen;
  r.get("console", "listen", listen);
  if (!listen.empty() && !parse_listen(listen, c))
    r.fail("console", "listen", "must be HOST:PORT");
  r.get("console", "max_connections", c.max_connections);
  r.get("console", "max_line_bytes", c.max_line);
  r.get_ms("console", "idle_timeout_ms", c.idle_timeout);
  r.get("console", "rate_per_second", c.rate_per_second);
  r.get("console", "burst", c.burst);
  r.get("console", "tls_cert", c.tls_cert);
  r.get("console", "tls_key", c.tls_key);
  r.get("console", "history_threads", c.history_threads);
  if (c.history_threads < 1 || c.history_threads > 16)
    r.fail("console", "history_threads", "must be 1 to 16");
  r.get("console", "history_queue", c.history_queue);
  if (c.history_queue < 1 || c.history_queue > 1024)
    r.fail("console", "history_queue", "must be 1 to 1024");
  r.get_ms("console", "history_timeout_ms", c.history_timeout);
  if (!c.tls_cert.empty() && c.tls_key.empty())
    r.fail("console", "tls_key", "must be set with tls_cert (the certificate's PEM private key)");
  else if (c.tls_cert.empty() && !c.tls_key.empty())
    r.fail("console", "tls_cert", "must be set with tls_key (a PEM certificate chain)");
  auto tokens = r.root()["console"]["tokens"].as_array();
  if (!tokens)
    return;
  size_t i = 0;
  for (auto& node : *tokens) {
    auto where = "tokens[" + std::to_string(i++) + "]";
    auto t = node.as_table();
    console_token tok;
    auto hash = t ? (*t)["sha256"].value<std::string>() : std::nullopt;
    auto who = t ? (*t)["principal"].value<std::string>() : std::nullopt;
    auto role = t ? (*t)["role"].value<std::string>() : std::nullopt;
    if (!hash || !parse_digest(*hash, tok.sha256))
      r.fail("console", where + ".sha256", "must be the SHA-256 of the token, 64 hex characters");
    else if (!who || !is_valid_id(*who))
      r.fail("console", where + ".principal", "must be a principal name");
    else if (!role || !parse(*role, tok.role))
      r.fail("console", where + ".role", "must be viewer, operator or admin");
    else {
      tok.principal = principal_id{*who};
      c.tokens.push_back(tok);
    }
  }
}

/// Reads `[http]`: the HTTP API's address, TLS files, pool, limits and timeouts.
void read_http(reader& r, http_settings& h) {
  r.get("http", "listen", h.listen);
  if (console_settings probe; h.listen != "off" && !parse_listen(h.listen, probe))
    r.fail("http", "listen", "must be HOST:PORT or \"off\"");
  r.get("http", "tls_cert", h.tls_cert);
  r.get("http", "tls_key", h.tls_key);
  if (!h.tls_cert.empty() && h.tls_key.empty())
    r.fail("http", "tls_key", "must be set with tls_cert (the certificate's PEM private key)");
  else if (h.tls_cert.empty() && !h.tls_key.empty())
    r.fail("http", "tls_cert", "must be set with tls_key (a PEM certificate chain)");
  r.get("http", "pool", h.pool);
  r.get("http", "max_body_bytes", h.max_body);
  r.get("http", "max_streams", h.max_streams);
  auto ms = [&](const char* key, std::chrono::milliseconds& out) {
    caf::timespan t = out;
    r.get_ms("http", key, t);
    out = std::chrono::duration_cast<std::chrono::milliseconds>(t);
  };
  ms("read_timeout_ms", h.read_timeout);
  ms("write_timeout_ms", h.write_timeout);
  ms("idle_timeout_ms", h.idle_timeout);
  ms("request_timeout_ms", h.request_timeout);
  ms("heartbeat_ms", h.heartbeat);
  if (h.pool < 2 || h.pool > 4096)
    r.fail("http", "pool", "must be from 2 to 4096 threads");
  else if (h.max_streams >= h.pool)
    r.fail("http", "max_streams", "must be below pool (each stream holds a thread)");
  if (h.max_body < 1024 || h.max_body > (64u << 20))
    r.fail("http", "max_body_bytes", "must be from 1024 to 67108864");
}

/// Reads one `[[incident.policy]]` table.
void read_policy(reader& r, const toml::table& t, const std::string& where,
                 incident_policy_def& p) {
  auto id = t["id"].value<std::string>();
  if (!id || !is_valid_id(*id))
    return r.fail("incident", where + ".id", "must be a policy name");
  p.id = *id;
  if (auto node = t["verdict"]) {
    auto v = node.value<std::string>();
    if (!v || !parse(*v, p.verdict))
      r.fail("incident", where + ".verdict", "must be PROMOTE, DEFER or SUPPRESS");
  }
  if (auto node = t["severity"]) {
    auto v = node.value<std::string>();
    if (!v || !parse(*v, p.level))
      r.fail("incident", where + ".severity", "must be P0, P1, P2 or P3");
  }
  if (auto node = t["rollback_level"]) {
    auto v = node.value<int64_t>();
    if (!v || *v < 1 || *v > 4)
      r.fail("incident", where + ".rollback_level", "must be a level from 1 to 4");
    else
      p.rollback_level = static_cast<authority_level>(*v);
  }
  auto rules = t["rules"].as_array();
  if (!rules)
    return;
  size_t i = 0;
  for (auto& node : *rules) {
    auto at = where + ".rules[" + std::to_string(i++) + "]";
    auto rt = node.as_table();
    auto min = rt ? (*rt)["min_error_rate"].value<double>() : std::nullopt;
    auto sev = rt ? (*rt)["severity"].value<std::string>() : std::nullopt;
    severity_rule rule;
    if (!min || *min < 0 || *min > 1)
      r.fail("incident", at + ".min_error_rate", "must be a rate from 0 to 1");
    else if (!sev || !parse(*sev, rule.level))
      r.fail("incident", at + ".severity", "must be P0, P1, P2 or P3");
    else {
      rule.min_error_rate = *min;
      p.rules.push_back(rule);
    }
  }
}

/// Reads `[incident]` with its `[[incident.policy]]` and `[[incident.correlation]]` tables.
void read_incident(reader& r, incident_settings& s) {
  auto& d = s.detector;
  r.get("incident", "factor", d.factor);
  r.get("incident", "floor", d.floor);
  r.get_ms("incident", "confirmation_ms", d.confirmation);
  r.get_ms("incident", "verification_ms", d.verification);
  r.get_ms("incident", "verification_timeout_ms", d.verification_timeout);
  r.get("incident", "warmup_samples", d.warmup);
  r.get("incident", "ewma_alpha", d.alpha);
  r.get_ms("incident", "max_skew_ms", d.max_skew);
  r.get("incident", "latency_factor", d.latency_factor);
  r.get("incident", "latency_floor_ms", d.latency_floor_ms);
  r.get_ms("incident", "lookback_ms", s.rca.lookback);
  r.get("incident", "max_culprits", s.rca.max_culprits);
  r.get("incident", "attempt_retention_days", s.attempt_retention_days);
  if (auto list = r.root()["incident"]["policy"].as_array()) {
    size_t i = 0;
    for (auto& node : *list) {
      auto where = "policy[" + std::to_string(i++) + "]";
      incident_policy_def p;
      p.rules.clear();
      if (auto t = node.as_table())
        read_policy(r, *t, where, p);
      else
        r.fail("incident", where, "must be a table");
      s.policies.push_back(std::move(p));
    }
  }
  if (auto list = r.root()["incident"]["correlation"].as_array()) {
    size_t i = 0;
    for (auto& node : *list) {
      auto where = "correlation[" + std::to_string(i++) + "]";
      auto t = node.as_table();
      correlation_rule c;
      auto policy = t ? (*t)["policy"].value<std::string>() : std::nullopt;
      if (!policy)
        r.fail("incident", where + ".policy", "must name a policy");
      else
        c.policy = *policy;
      if (t) {
        c.service = (*t)["service"].value_or(std::string{"*"});
        c.region = (*t)["region"].value_or(std::string{"*"});
        for (auto* key : {"service", "region"})
          if (auto node = (*t)[key]; node && !node.is_string())
            r.fail("incident", where + "." + key, "must be a name or \"*\"");
      }
      s.correlation.push_back(std::move(c));
    }
  }
}

} // namespace

bool parse_listen(const std::string& text, console_settings& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size())
    return false;
  auto port = text.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5)
    return false;
  auto n = std::stoul(port);
  if (n > 65535)
    return false;
  out.host = text.substr(0, colon);
  out.port = static_cast<uint16_t>(n);
  return true;
}

const breaker_limits& limits_for(const node_config& cfg, const std::string& service) {
  auto i = cfg.breakers.find(service);
  return i != cfg.breakers.end() ? i->second : cfg.breaker;
}

/// The governance policy's version: SHA-256 (hex) of the `[authority]` (grants included)
/// and `[blast_radius]` tables as written in the file, keys sorted; equal tables give
/// equal versions, a change to any of their keys or values a new one.
static std::string policy_version(const toml::table& root) {
  // toml++ keeps a table's keys sorted, so equal tables print alike.
  std::ostringstream text;
  for (const char* name : {"authority", "blast_radius"}) {
    text << '[' << name << "]\n";
    if (auto* t = root[name].as_table())
      text << toml::toml_formatter{*t} << '\n';
  }
  auto s = text.str();
  return to_hex(sha256(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

caf::expected<node_config> load_config(const std::string& path) {
  auto parsed = read_toml(path);
  if (!parsed)
    return std::move(parsed.error());
  auto& root = *parsed;
  if (auto err = check_known_keys(root, config_file::node, path))
    return err;
  node_config cfg;
  reader r{path, root};
  r.get("node", "data", cfg.data_dir);
  uint64_t initial_mb = cfg.store.initial_map_size >> 20, max_mb = cfg.store.max_map_size >> 20;
  r.get("journal", "initial_map_mb", initial_mb);
  r.get("journal", "max_map_mb", max_mb);
  cfg.store.initial_map_size = initial_mb << 20;
  cfg.store.max_map_size = max_mb << 20;
  uint64_t prepare_mb = cfg.store.prepare_max >> 20;
  r.get("journal", "prepare_mb", prepare_mb);
  cfg.store.prepare_max = std::min<uint64_t>(prepare_mb, uint64_t{1} << 40) << 20;
  r.get("journal", "snapshot_interval", cfg.journal.snapshot_interval);
  read_authority(r, cfg.authority);
  cfg.console.policy_version = policy_version(root);
  r.get("blast_radius", "max_services", cfg.blast.max_services);
  r.get("blast_radius", "max_regions", cfg.blast.max_regions);
  r.get("blast_radius", "max_percent", cfg.blast.max_percent);
  r.get_ms("blast_radius", "window_ms", cfg.blast.window);
  r.get_ms("pipeline", "effector_timeout_ms", cfg.pipeline.effector_timeout);
  r.get("pipeline", "max_mutations", cfg.pipeline.limits.max_mutations);
  r.get_ms("pipeline", "max_deadline_ms", cfg.pipeline.limits.max_deadline);
  r.get("pipeline", "kept_outcomes", cfg.pipeline.kept_outcomes);
  r.get("authority", "analysis_failure_limit", cfg.pipeline.analysis_failure_limit);
  r.get("authority", "analysis_requires_data", cfg.pipeline.analysis_requires_data);
  read_breakers(r, cfg);
  read_console(r, cfg);
  // A console token's operator or admin may approve as an operator (the engine checks
  // it again where each approval is decided; the admin role comes from authority.admins).
  for (auto& t : cfg.console.tokens)
    if (t.role == console_role::operator_ || t.role == console_role::admin)
      cfg.authority.approvals.operators.insert(t.principal.value);
  read_http(r, cfg.http);
  read_incident(r, cfg.incident);
  read_health(r, cfg.health);
  r.get("admission", "max_in_flight", cfg.admission.max_in_flight);
  r.get("admission", "max_queued", cfg.admission.max_queued);
  r.get("admission", "per_principal", cfg.admission.per_principal);
  r.get("admission", "quarantine_after", cfg.admission.quarantine_after);
  r.get_ms("admission", "retry_base_ms", cfg.admission.retry_base);
  r.get("chaos", "enabled", cfg.chaos.enabled);
  r.get("chaos", "console", cfg.chaos.console);
  r.get("metrics", "listen", cfg.metrics_listen);
  if (console_settings probe; cfg.metrics_listen != "off" && !parse_listen(cfg.metrics_listen, probe))
    r.fail("metrics", "listen", "must be HOST:PORT or \"off\"");
  if (r.err)
    return r.err;
  if (auto err = read_cluster_section(path, cfg.cluster))
    return err;
  cfg.pipeline.approval_timeout = cfg.authority.policy.approval_timeout;
  cfg.pipeline.observation_window = cfg.authority.policy.observation_window;
  cfg.pipeline.limits.max_mutations = std::max<uint32_t>(1, cfg.pipeline.limits.max_mutations);
  if (auto err = check_config(cfg, path))
    return err;
  return cfg;
}

} // namespace bulwark
