// The cross-key checks of a node's configuration (sizes, limits, the timeout hierarchy).

#include "engine/node_config.hpp"

namespace bulwark {

caf::error check_config(const node_config& cfg, const std::string& origin) {
  auto bad = [&](const char* key, const std::string& problem) {
    return refuse(ec::invalid_input, origin + ": " + key + ": " + problem);
  };
  if (cfg.store.initial_map_size == 0 || cfg.store.max_map_size < cfg.store.initial_map_size)
    return bad("journal.max_map_mb", "must be at least journal.initial_map_mb and above 0");
  if (cfg.store.prepare_max > cfg.store.max_map_size)
    return bad("journal.prepare_mb", "must not exceed journal.max_map_mb");
  if (cfg.blast.max_percent <= 0 || cfg.blast.max_percent > 100)
    return bad("blast_radius.max_percent", "must be within (0, 100]");
  if (cfg.blast.max_services == 0)
    return bad("blast_radius.max_services", "must be at least 1");
  if (cfg.blast.max_regions == 0)
    return bad("blast_radius.max_regions", "must be at least 1");
  if (cfg.authority.policy.rate_per_second <= 0 || cfg.authority.policy.burst < 1)
    return bad("authority.rate_per_second", "rate must be > 0 and burst >= 1");
  if (cfg.authority.policy.max_batch == 0)
    return bad("authority.max_batch", "must be at least 1");
  if (cfg.authority.policy.audit_backlog == 0)
    return bad("authority.audit_backlog", "must be at least 1");
  if (cfg.pipeline.kept_outcomes == 0)
    return bad("pipeline.kept_outcomes", "must be at least 1");
  // The timeout hierarchy: attempt < effector call < proposal deadline.
  if (cfg.pipeline.effector_timeout >= cfg.pipeline.limits.max_deadline)
    return bad("pipeline.effector_timeout_ms", "must be shorter than pipeline.max_deadline_ms");
  if (auto err = check_incident_settings(cfg.incident, origin))
    return err;
  if (auto err = check_limits(cfg.breaker, origin + ": breaker"))
    return err;
  if (cfg.breaker.attempt_timeout >= cfg.pipeline.effector_timeout)
    return bad("breaker.attempt_timeout_ms", "must be shorter than pipeline.effector_timeout_ms");
  if (auto err = check_health(cfg.health, origin))
    return err;
  if (cfg.admission.max_in_flight == 0)
    return bad("admission.max_in_flight", "must be at least 1");
  if (cfg.admission.max_queued == 0)
    return bad("admission.max_queued", "must be at least 1");
  if (cfg.admission.per_principal == 0)
    return bad("admission.per_principal", "must be at least 1");
  if (cfg.admission.quarantine_after == 0)
    return bad("admission.quarantine_after", "must be at least 1");
  for (auto& [service, b] : cfg.breakers) {
    if (auto err = check_limits(b, origin + ": breaker." + service))
      return err;
    if (b.attempt_timeout >= cfg.pipeline.effector_timeout)
      return bad(("breaker." + service + ".attempt_timeout_ms").c_str(),
                 "must be shorter than pipeline.effector_timeout_ms");
  }
  return {};
}

} // namespace bulwark
