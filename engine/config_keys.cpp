// The table of known configuration keys, and the check that refuses any other key.

#include "engine/config_check.hpp"

#include <algorithm>

#include "actors/health/failure_modes.hpp"

namespace bulwark {

namespace {

constexpr auto node = config_file::node;
constexpr auto fleet = config_file::fleet;
constexpr auto value = key_kind::value;
constexpr auto table = key_kind::table;
constexpr auto list = key_kind::table_list;

} // namespace

const std::vector<config_key>& known_config_keys() {
  // One entry per key: a new section adds its table and its keys here and in
  // docs/configuration.md (a test compares the two).
  static const std::vector<config_key> keys = {
    {node, "node", table},
    {node, "node.id", value},
    {node, "node.data", value},
    {node, "journal", table},
    {node, "journal.initial_map_mb", value},
    {node, "journal.max_map_mb", value},
    {node, "journal.prepare_mb", value},
    {node, "journal.snapshot_interval", value},
    {node, "authority", table},
    {node, "authority.enforce_enabled", value},
    {node, "authority.rate_per_second", value},
    {node, "authority.burst", value},
    {node, "authority.approval_timeout_ms", value},
    {node, "authority.observation_window_ms", value},
    {node, "authority.analysis_failure_limit", value},
    {node, "authority.analysis_requires_data", value},
    {node, "authority.admins", value},
    {node, "authority.operators", value},
    {node, "authority.allow_self_approval", value},
    {node, "authority.max_batch", value},
    {node, "authority.audit_backlog", value},
    {node, "authority.approver_role", table},
    {node, "authority.approver_role.<level>", value},
    {node, "authority.grants", table},
    {node, "authority.grants.<principal>", value},
    {node, "blast_radius", table},
    {node, "blast_radius.max_services", value},
    {node, "blast_radius.max_regions", value},
    {node, "blast_radius.max_percent", value},
    {node, "blast_radius.window_ms", value},
    {node, "pipeline", table},
    {node, "pipeline.effector_timeout_ms", value},
    {node, "pipeline.max_mutations", value},
    {node, "pipeline.max_deadline_ms", value},
    {node, "pipeline.kept_outcomes", value},
    {node, "breaker", table},
    {node, "breaker.consecutive_failures", value},
    {node, "breaker.failure_rate", value},
    {node, "breaker.window_calls", value},
    {node, "breaker.window_ms", value},
    {node, "breaker.minimum_calls", value},
    {node, "breaker.slow_call_rate", value},
    {node, "breaker.slow_call_ms", value},
    {node, "breaker.cooldown_ms", value},
    {node, "breaker.half_open_probes", value},
    {node, "breaker.max_in_flight", value},
    {node, "breaker.max_queue", value},
    {node, "breaker.attempts", value},
    {node, "breaker.attempt_timeout_ms", value},
    {node, "breaker.backoff_base_ms", value},
    {node, "breaker.backoff_cap_ms", value},
    {node, "breaker.<service>", table, "breaker"},
    {node, "console", table},
    {node, "console.listen", value},
    {node, "console.max_connections", value},
    {node, "console.max_line_bytes", value},
    {node, "console.idle_timeout_ms", value},
    {node, "console.rate_per_second", value},
    {node, "console.burst", value},
    {node, "console.tls_cert", value},
    {node, "console.tls_key", value},
    {node, "console.history_threads", value},
    {node, "console.history_queue", value},
    {node, "console.history_timeout_ms", value},
    {node, "console.tokens", list},
    {node, "console.tokens.sha256", value},
    {node, "console.tokens.principal", value},
    {node, "console.tokens.role", value},
    {node, "metrics", table},
    {node, "metrics.listen", value},
    {node, "http", table},
    {node, "http.listen", value},
    {node, "http.tls_cert", value},
    {node, "http.tls_key", value},
    {node, "http.pool", value},
    {node, "http.max_body_bytes", value},
    {node, "http.max_streams", value},
    {node, "http.read_timeout_ms", value},
    {node, "http.write_timeout_ms", value},
    {node, "http.idle_timeout_ms", value},
    {node, "http.request_timeout_ms", value},
    {node, "http.heartbeat_ms", value},
    {node, "incident", table},
    {node, "incident.factor", value},
    {node, "incident.floor", value},
    {node, "incident.confirmation_ms", value},
    {node, "incident.warmup_samples", value},
    {node, "incident.ewma_alpha", value},
    {node, "incident.max_skew_ms", value},
    {node, "incident.latency_factor", value},
    {node, "incident.latency_floor_ms", value},
    {node, "incident.verification_ms", value},
    {node, "incident.verification_timeout_ms", value},
    {node, "incident.lookback_ms", value},
    {node, "incident.max_culprits", value},
    {node, "incident.attempt_retention_days", value},
    {node, "incident.policy", list},
    {node, "incident.policy.id", value},
    {node, "incident.policy.verdict", value},
    {node, "incident.policy.severity", value},
    {node, "incident.policy.rollback_level", value},
    {node, "incident.policy.rules", list},
    {node, "incident.policy.rules.min_error_rate", value},
    {node, "incident.policy.rules.severity", value},
    {node, "incident.correlation", list},
    {node, "incident.correlation.service", value},
    {node, "incident.correlation.region", value},
    {node, "incident.correlation.policy", value},
    {node, "health", table},
    {node, "health.period_ms", value},
    {node, "health.verify_interval_ms", value},
    {node, "health.rate_window_ms", value},
    {node, "health.history", value},
    {node, "health.sustain_rounds", value},
    {node, "health.<indicator>_warning", value},
    {node, "health.<indicator>_critical", value},
    {node, "chaos", table},
    {node, "chaos.enabled", value},
    {node, "chaos.console", value},
    {node, "admission", table},
    {node, "admission.max_in_flight", value},
    {node, "admission.max_queued", value},
    {node, "admission.per_principal", value},
    {node, "admission.quarantine_after", value},
    {node, "admission.retry_base_ms", value},
    {node, "effectors", list},
    {node, "effectors.service", value},
    {node, "effectors.kind", value},
    {node, "effectors.timeout_ms", value},
    {node, "effectors.max_output_bytes", value},
    {node, "effectors.command", value},
    {node, "effectors.workdir", value},
    {node, "effectors.env", table},
    {node, "effectors.env.<name>", value},
    {node, "effectors.env_pass", value},
    {node, "effectors.url", value},
    {node, "effectors.ca_file", value},
    {node, "effectors.token_file", value},
    {node, "effectors.connect_timeout_ms", value},
    {node, "effectors.probe", table},
    {node, "effectors.probe.kind", value},
    {node, "effectors.probe.timeout_ms", value},
    {node, "effectors.probe.max_output_bytes", value},
    {node, "effectors.probe.command", value},
    {node, "effectors.probe.workdir", value},
    {node, "effectors.probe.env", table},
    {node, "effectors.probe.env.<name>", value},
    {node, "effectors.probe.env_pass", value},
    {node, "effectors.probe.url", value},
    {node, "effectors.probe.ca_file", value},
    {node, "effectors.probe.token_file", value},
    {node, "effectors.probe.connect_timeout_ms", value},
    {node, "notify", table},
    {node, "notify.queue", value},
    {node, "notifications", list},
    {node, "notifications.name", value},
    {node, "notifications.url", value},
    {node, "notifications.format", value},
    {node, "notifications.events", value},
    {node, "notifications.timeout_ms", value},
    {node, "notifications.max_attempts", value},
    {node, "notifications.backoff_ms", value},
    {node, "notifications.ca_file", value},
    {node, "notifications.token_file", value},
    {node, "prometheus", table},
    {node, "prometheus.address", value},
    {node, "prometheus.interval_ms", value},
    {node, "prometheus.timeout_ms", value},
    {node, "prometheus.error_rate", value},
    {node, "prometheus.latency_ms", value},
    {node, "prometheus.series", list},
    {node, "prometheus.series.service", value},
    {node, "prometheus.series.region", value},
    {node, "cluster", table},
    {node, "cluster.node_id", value},
    {node, "cluster.cluster_id", value},
    {node, "cluster.listen", value},
    {node, "cluster.leader", value},
    {node, "cluster.term", value},
    {node, "cluster.min_followers", value},
    {node, "cluster.sync_followers", value},
    {node, "cluster.max_batch", value},
    {node, "cluster.key", value},
    {node, "cluster.peers", value},
    {node, "cluster.tls_cert", value},
    {node, "cluster.tls_key", value},
    {node, "cluster.tls_ca", value},
    {node, "cluster.pubkeys", table},
    {node, "cluster.pubkeys.<node>", value},
    {node, "cluster.etcd", table},
    {node, "cluster.etcd.endpoints", value},
    {node, "cluster.etcd.prefix", value},
    {node, "cluster.etcd.lease_ttl", value},
    {node, "cluster.etcd.renew_ms", value},
    {node, "cluster.etcd.margin_ms", value},
    {node, "cluster.etcd.request_timeout_ms", value},
    {node, "cluster.etcd.tls_ca", value},
    {node, "cluster.etcd.tls_cert", value},
    {node, "cluster.etcd.tls_key", value},
    {node, "cluster.etcd.user", value},
    {node, "cluster.etcd.password_file", value},
    {fleet, "resource", list},
    {fleet, "resource.id", value},
    {fleet, "resource.service", value},
    {fleet, "resource.region", value},
    {fleet, "resource.attributes", table},
    {fleet, "resource.attributes.<name>", value},
  };
  return keys;
}

std::vector<config_name> expanded_config_keys() {
  static const std::string placeholder = "<indicator>";
  std::vector<config_name> out;
  for (auto& k : known_config_keys()) {
    std::string path = k.path;
    auto at = path.find(placeholder);
    if (at == std::string::npos) {
      out.push_back({k.file, k.kind, path});
      continue;
    }
    for (auto& def : indicator_defs())
      out.push_back({k.file, k.kind, std::string{path}.replace(at, placeholder.size(), def.id)});
  }
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {

/// The parent of a dotted pattern ("" for a top-level name) and its last segment.
std::pair<std::string, std::string> split_last(const std::string& path) {
  auto dot = path.rfind('.');
  if (dot == std::string::npos)
    return {"", path};
  return {path.substr(0, dot), path.substr(dot + 1)};
}

bool chosen_name(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '<' && segment.back() == '>';
}

/// Walks one file's tree against the table, collecting a line per unknown key.
class key_walker {
public:
  key_walker(config_file file, const std::string& path) : path_(path) {
    for (auto& k : expanded_config_keys())
      if (k.file == file) {
        auto [parent, last] = split_last(k.path);
        entries_.push_back({parent, last, k.kind, ""});
      }
    for (auto& k : known_config_keys())
      if (k.file == file && k.same_as != nullptr)
        for (auto& e : entries_)
          if (split_last(k.path) == std::pair{e.parent, e.last})
            e.same_as = k.same_as;
  }

  /// `shown` is the path as written (with the user's names), `pattern` the table's.
  /// `aliased`: the table takes another table's keys (`breaker.<service>`).
  void walk(const toml::table& t, const std::string& shown, const std::string& pattern,
            bool aliased = false) {
    for (auto& [name, node] : t) {
      std::string key{name.str()};
      auto where = shown.empty() ? key : shown + "." + key;
      bool is_table = node.is_table() || node.is_array_of_tables();
      const entry* e = find(pattern, key, is_table, aliased);
      if (e == nullptr) {
        unknown(where, pattern, key, is_table);
        continue;
      }
      auto inner = e->same_as.empty() ? (pattern.empty() ? e->last : pattern + "." + e->last)
                                      : e->same_as;
      if (e->kind == key_kind::table && node.is_table())
        walk(*node.as_table(), where, inner, !e->same_as.empty());
      else if (e->kind == key_kind::table_list && node.is_array())
        for (auto& item : *node.as_array())
          if (auto sub = item.as_table())
            walk(*sub, where, inner, !e->same_as.empty());
    }
  }

  std::string problems;

private:
  struct entry {
    std::string parent;
    std::string last;
    key_kind kind;
    std::string same_as;
  };

  /// The entry of `key` in the table `pattern`: its own name, else a name the user
  /// chooses, of the same kind (a value or a table); within a table that takes another's
  /// keys, not that table again (`[breaker.pos.x]` is no breaker).
  const entry* find(const std::string& pattern, const std::string& key, bool is_table,
                    bool aliased) const {
    const entry* chosen = nullptr;
    for (auto& e : entries_) {
      if (e.parent != pattern)
        continue;
      if (e.last == key)
        return &e;
      if (chosen_name(e.last) && (e.kind != key_kind::value) == is_table
          && !(aliased && !e.same_as.empty()))
        chosen = &e;
    }
    return chosen;
  }

  void unknown(const std::string& where, const std::string& pattern, const std::string& key,
               bool is_table) {
    // The nearest name in the same table; a closer one elsewhere wins (a key in the
    // wrong section).
    std::string best;
    size_t best_distance = SIZE_MAX;
    for (auto& e : entries_)
      if (e.parent == pattern && !chosen_name(e.last))
        if (auto d = edit_distance(key, e.last); d < best_distance) {
          best_distance = d;
          best = shown_prefix(where, key) + e.last;
        }
    for (auto& e : entries_)
      if (e.parent != pattern && !chosen_name(e.last) && e.parent.find('<') == std::string::npos)
        if (auto d = edit_distance(key, e.last); d < best_distance && d <= 1) {
          best_distance = d;
          best = e.parent.empty() ? e.last : e.parent + "." + e.last;
        }
    std::string line = path_ + ": " + (is_table ? "[" + where + "]" : where) + ": unknown "
                       + (is_table ? "section" : "key");
    if (!best.empty())
      line += " (did you mean " + (is_table ? "[" + best + "]" : best) + "?)";
    if (!problems.empty())
      problems += "\n";
    problems += line;
  }

  static std::string shown_prefix(const std::string& where, const std::string& key) {
    return where.substr(0, where.size() - key.size());
  }

  std::string path_;
  std::vector<entry> entries_;
};

} // namespace

caf::expected<toml::table> read_toml(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    auto& src = e.source();
    return refuse(ec::invalid_input, path + ":" + std::to_string(src.begin.line) + ":"
                                       + std::to_string(src.begin.column) + ": "
                                       + std::string{e.description()});
  }
}

caf::error check_known_keys(const toml::table& root, config_file file, const std::string& path) {
  key_walker walker{file, path};
  walker.walk(root, "", "");
  if (walker.problems.empty())
    return {};
  return refuse(ec::invalid_input, walker.problems);
}

} // namespace bulwark
