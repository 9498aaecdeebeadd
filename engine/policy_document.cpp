#include "engine/policy_document.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/node_config.hpp"
#include "persistence/sha256.hpp"

namespace bulwark {

namespace {

std::string text_of(bool x) {
  return x ? "true" : "false";
}

std::string text_of(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::string ms_text(caf::timespan x) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(x).count());
}

std::string joined(const std::set<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

std::string policy_text(const incident_policy_def& p) {
  std::string out = std::string{"verdict="} + to_string(p.verdict) + ";severity="
                    + to_string(p.level) + ";rollback_level="
                    + std::to_string(static_cast<int>(p.rollback_level)) + ";rules=";
  for (size_t i = 0; i < p.rules.size(); ++i)
    out += (i == 0 ? "" : ",") + text_of(p.rules[i].min_error_rate) + ":"
           + to_string(p.rules[i].level);
  return out;
}

} // namespace

std::vector<policy_entry> policy_entries(const node_config& cfg) {
  std::vector<policy_entry> out;
  auto add = [&](std::string key, std::string value) {
    out.push_back(policy_entry{std::move(key), std::move(value)});
  };
  auto& a = cfg.authority;
  add("authority.admins", joined(a.admins));
  add("authority.operators", joined(a.approvals.operators));
  add("authority.allow_self_approval", text_of(a.approvals.allow_self_approval));
  for (size_t level = 1; level < a.approvals.least.size(); ++level)
    add("authority.approver_role." + std::to_string(level), to_string(a.approvals.least[level]));
  add("authority.enforce_enabled", text_of(a.policy.enforce_enabled));
  for (auto& [principal, level] : a.policy.grants)
    add("authority.grant." + principal, std::to_string(static_cast<int>(level)));
  add("authority.rate_per_second", text_of(a.policy.rate_per_second));
  add("authority.burst", text_of(a.policy.burst));
  add("authority.approval_timeout_ms", ms_text(cfg.pipeline.approval_timeout));
  add("authority.observation_window_ms", ms_text(cfg.pipeline.observation_window));
  add("authority.max_batch", std::to_string(a.policy.max_batch));
  add("authority.audit_backlog", std::to_string(a.policy.audit_backlog));
  add("authority.analysis_failure_limit", std::to_string(cfg.pipeline.analysis_failure_limit));
  add("authority.analysis_requires_data", text_of(cfg.pipeline.analysis_requires_data));
  add("blast_radius.max_services", std::to_string(cfg.blast.max_services));
  add("blast_radius.max_regions", std::to_string(cfg.blast.max_regions));
  add("blast_radius.max_percent", text_of(cfg.blast.max_percent));
  add("blast_radius.window_ms", ms_text(cfg.blast.window));
  add("pipeline.effector_timeout_ms", ms_text(cfg.pipeline.effector_timeout));
  add("pipeline.max_deadline_ms", ms_text(cfg.pipeline.limits.max_deadline));
  add("pipeline.max_mutations", std::to_string(cfg.pipeline.limits.max_mutations));
  auto policies = cfg.incident.policies;
  if (policies.empty())
    policies.push_back(default_policy());
  for (auto& p : policies)
    add("incident.policy." + p.id, policy_text(p));
  for (size_t i = 0; i < cfg.incident.correlation.size(); ++i) {
    auto& c = cfg.incident.correlation[i];
    auto index = std::to_string(i);
    index.insert(0, index.size() < 3 ? 3 - index.size() : 0, '0');
    add("incident.correlation." + index,
        "service=" + c.service + ";region=" + c.region + ";policy=" + c.policy);
  }
  std::sort(out.begin(), out.end(),
            [](const policy_entry& x, const policy_entry& y) { return x.key < y.key; });
  return out;
}

std::string policy_version(const std::vector<policy_entry>& entries) {
  std::string text;
  for (auto& e : entries)
    text.append(e.key).append(1, '=').append(e.value).append(1, '\n');
  return to_hex(sha256(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::vector<policy_change> policy_diff(const std::vector<policy_entry>& before,
                                       const std::vector<policy_entry>& after) {
  std::vector<policy_change> out;
  auto i = before.begin();
  auto j = after.begin();
  while (i != before.end() || j != after.end()) {
    if (j == after.end() || (i != before.end() && i->key < j->key)) {
      out.push_back(policy_change{i->key, i->value, caf::none});
      ++i;
    } else if (i == before.end() || j->key < i->key) {
      out.push_back(policy_change{j->key, caf::none, j->value});
      ++j;
    } else {
      if (i->value != j->value)
        out.push_back(policy_change{i->key, i->value, j->value});
      ++i;
      ++j;
    }
  }
  return out;
}

} // namespace bulwark
