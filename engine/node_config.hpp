#pragma once

/// The node's configuration (bulwark.toml) and the fleet file (fleet.toml).

#include <map>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "actors/authority/authority.hpp"
#include "actors/blast_radius/blast_radius_policy.hpp"
#include "actors/circuit_breaker/breaker_fsm.hpp"
#include "actors/admission/admission_policy.hpp"
#include "actors/console/console.hpp"
#include "actors/incident/incident_policy.hpp"
#include "actors/health/health_policy.hpp"
#include "actors/http/http_settings.hpp"
#include "actors/journal/journal.hpp"
#include "actors/pipeline/pipeline.hpp"
#include "engine/cluster_settings.hpp"
#include "messages/commands.hpp"
#include "persistence/journal_store.hpp"
#include "supervision/chaos.hpp"

namespace bulwark {

/// Everything a node reads from bulwark.toml, with the documented defaults.
struct node_config {
  std::string data_dir;
  store_options store = [] {
    store_options s;
    s.prepare_max = default_prepare_max; // [journal] prepare_mb
    return s;
  }();
  journal_settings journal;
  authority_settings authority;
  blast_limits blast;
  pipeline_settings pipeline;
  breaker_limits breaker;                          ///< every service's default
  std::map<std::string, breaker_limits> breakers;  ///< per-service overrides
  console_settings console;                        ///< the node's operator console
  incident_settings incident;                      ///< detector, RCA and policies
  std::string metrics_listen = "127.0.0.1:9401";   ///< Prometheus endpoint ("off": none)
  http_settings http;                              ///< the HTTP API (`[http]`, off)
  health_settings health;                          ///< failure-mode thresholds (`[health]`)
  chaos_settings chaos;                            ///< fault injection (`[chaos]`, off)
  admission_limits admission;                      ///< load shedding (`[admission]`)
  caf::optional<cluster_settings> cluster;         ///< [cluster] when configured
};

/// Reads `path`; every error names the file, the key and the problem (`INVALID_INPUT`).
caf::expected<node_config> load_config(const std::string& path);

/// Returns the breaker limits of `service` (its override, else the default).
const breaker_limits& limits_for(const node_config& cfg, const std::string& service);

/// Checks cross-key rules (positive sizes, inner timeouts shorter than outer ones).
caf::error check_config(const node_config& cfg, const std::string& origin);

/// Parses "HOST:PORT" into the console settings; false if malformed.
bool parse_listen(const std::string& text, console_settings& out);

/// Reads the resources of a fleet file (`[[resource]]` tables).
caf::expected<std::vector<registration>> load_fleet(const std::string& path);

} // namespace bulwark
