#include "actors/incident/incident_policy.hpp"

#include <cmath>

#include "persistence/codec.hpp"
#include "persistence/sha256.hpp"

namespace bulwark {

namespace {

/// SHA-256 of a tag and the canonical encodings of `xs`.
template <class... Ts>
digest hash_of(const char* tag, const Ts&... xs) {
  std::vector<uint8_t> bytes(tag, tag + std::char_traits<char>::length(tag));
  auto add = [&](const auto& x) {
    auto b = encode(x);
    bytes.insert(bytes.end(), b.begin(), b.end());
  };
  (add(xs), ...);
  return sha256(bytes.data(), bytes.size());
}

bool matches(const std::string& pattern, const std::string& value) {
  return pattern == "*" || pattern == value;
}

} // namespace

incident_policy_def default_policy() {
  incident_policy_def p;
  p.rules = {{0.5, severity::p0}, {0.25, severity::p1}};
  return p;
}

std::string policy_for(const incident_settings& s, const std::string& service,
                       const std::string& region) {
  for (auto& r : s.correlation)
    if (matches(r.service, service) && matches(r.region, region))
      return r.policy;
  return "default";
}

caf::expected<policy_outcome> decide(const incident_settings& s, const candidate_raised& c) {
  const incident_policy_def* p = nullptr;
  static const auto builtin = default_policy();
  for (auto& x : s.policies)
    if (x.id == c.policy)
      p = &x;
  if (p == nullptr && c.policy == "default" && s.policies.empty())
    p = &builtin;
  if (p == nullptr)
    return refuse(ec::invalid_input, "candidate names unknown incident policy '" + c.policy + "'");
  policy_outcome out{p->verdict, p->level, p->rollback_level};
  auto rate = static_cast<double>(c.error_ppm) / 1e6;
  for (auto& r : p->rules)
    if (rate >= r.min_error_rate) {
      out.level = r.level;
      break;
    }
  return out;
}

caf::error check_incident_settings(const incident_settings& s, const std::string& origin) {
  auto bad = [&](const std::string& key, const std::string& problem) {
    return refuse(ec::invalid_input, origin + ": " + key + ": " + problem);
  };
  auto& d = s.detector;
  if (!(d.factor > 1.0))
    return bad("incident.factor", "must be greater than 1");
  if (!(d.floor > 0 && d.floor < 1))
    return bad("incident.floor", "must be within (0, 1)");
  if (!(d.latency_factor > 1.0))
    return bad("incident.latency_factor", "must be greater than 1");
  if (!(d.latency_floor_ms > 0 && d.latency_floor_ms <= d.max_latency_ms))
    return bad("incident.latency_floor_ms", "must be within (0, 3600000]");
  if (!(d.alpha > 0 && d.alpha <= 1))
    return bad("incident.ewma_alpha", "must be within (0, 1]");
  if (d.warmup == 0)
    return bad("incident.warmup_samples", "must be at least 1");
  if (d.verification_timeout <= d.verification)
    return bad("incident.verification_timeout_ms", "must be longer than incident.verification_ms");
  if (s.rca.max_culprits == 0)
    return bad("incident.max_culprits", "must be at least 1");
  if (s.attempt_retention_days < 1 || s.attempt_retention_days > 3650)
    return bad("incident.attempt_retention_days", "must be from 1 to 3650");
  bool has_default = s.policies.empty();
  for (auto& p : s.policies) {
    has_default |= p.id == "default";
    for (size_t i = 1; i < p.rules.size(); ++i)
      if (p.rules[i].min_error_rate > p.rules[i - 1].min_error_rate)
        return bad("incident.policy." + p.id + ".severity",
                   "rules must be ordered by descending min_error_rate");
  }
  for (auto& r : s.correlation) {
    bool known = s.policies.empty() ? r.policy == "default" : false;
    for (auto& p : s.policies)
      known |= p.id == r.policy;
    if (!known)
      return bad("incident.correlation", "names unknown policy '" + r.policy + "'");
  }
  if (!has_default)
    return bad("incident.policy", "needs a policy with id \"default\" for unmatched series");
  return {};
}

uint32_t to_ppm(double rate) noexcept {
  if (!(rate > 0))
    return 0;
  if (rate >= 1)
    return 1'000'000;
  return static_cast<uint32_t>(std::lround(rate * 1e6));
}

candidate_raised make_candidate(const anomaly& a, const rca_result& r, std::string policy) {
  candidate_raised c;
  c.service = a.service;
  c.region = a.region;
  c.onset = a.onset;
  c.confirmed = a.confirmed;
  c.error_ppm = to_ppm(a.error_rate);
  c.baseline_ppm = to_ppm(a.baseline);
  c.threshold_ppm = to_ppm(a.threshold);
  c.culprits = r.ranked;
  c.policy = std::move(policy);
  c.raised_by = "detector";
  if (a.by_latency)
    c.raised_by = "detector: p99 latency " + std::to_string(std::lround(a.latency_ms))
                  + " ms over threshold " + std::to_string(std::lround(a.latency_threshold))
                  + " ms";
  c.candidate = candidate_id(c.service, c.region, c.onset, r.culprit_seqs);
  return c;
}

std::string candidate_reason(const candidate_raised& c) {
  auto where = " in " + c.service + "/" + c.region;
  if (c.raised_by != "detector") // latency, or a source that says why itself
    return c.raised_by + where;
  return c.raised_by + ": error rate " + std::to_string(c.error_ppm) + " ppm over threshold "
         + std::to_string(c.threshold_ppm) + " ppm" + where;
}

digest candidate_id(const std::string& service, const std::string& region,
                    caf::timestamp onset, const std::vector<seq_no>& culprits) {
  return hash_of("bulwark.candidate", service, region, onset, culprits);
}

digest decision_id(const digest& candidate, const std::string& policy, policy_verdict v,
                   const principal_id& by, bool manual) {
  return hash_of("bulwark.decision", candidate, policy, static_cast<uint8_t>(v), by, manual);
}

digest incident_id(const digest& decision) {
  return hash_of("bulwark.incident", decision);
}

digest rollback_id(const digest& incident, const std::vector<seq_no>& reverts) {
  return hash_of("bulwark.rollback", incident, reverts);
}

} // namespace bulwark
