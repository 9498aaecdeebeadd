// The governance policy as a document: its entries, its version and the differences
// between two versions (engine/policy_document.hpp).

#include <doctest/doctest.h>

#include <algorithm>

#include "engine/node_config.hpp"
#include "engine/policy_document.hpp"
#include "persistence/sha256.hpp"

using namespace bulwark;

namespace {

std::string value_of(const std::vector<policy_entry>& xs, const std::string& key) {
  auto i = std::find_if(xs.begin(), xs.end(), [&](auto& e) { return e.key == key; });
  return i == xs.end() ? std::string{"<none>"} : i->value;
}

} // namespace

TEST_CASE("policy document: every governance setting is an entry, sorted by key") {
  node_config cfg;
  cfg.authority.admins = {"root", "alice"};
  cfg.authority.approvals.operators = {"bob"};
  cfg.authority.policy.grants = {{"agent", authority_level::enforce}, {"ci", authority_level::assist}};
  cfg.authority.policy.enforce_enabled = true;
  cfg.blast.max_percent = 7.5;
  cfg.pipeline.approval_timeout = std::chrono::seconds{90};
  incident_policy_def p;
  p.id = "payments";
  p.rules.push_back(severity_rule{0.5, severity::p0});
  cfg.incident.policies.push_back(p);
  cfg.incident.correlation.push_back(correlation_rule{"pay", "*", "payments"});
  auto xs = policy_entries(cfg);
  CHECK(std::is_sorted(xs.begin(), xs.end(),
                       [](auto& a, auto& b) { return a.key < b.key; }));
  CHECK(value_of(xs, "authority.admins") == "alice,root");
  CHECK(value_of(xs, "authority.operators") == "bob");
  CHECK(value_of(xs, "authority.grant.agent") == "4");
  CHECK(value_of(xs, "authority.grant.ci") == "1");
  CHECK(value_of(xs, "authority.enforce_enabled") == "true");
  CHECK(value_of(xs, "authority.allow_self_approval") == "false");
  CHECK(value_of(xs, "authority.approver_role.2") == "operator");
  CHECK(value_of(xs, "authority.approval_timeout_ms") == "90000");
  CHECK(value_of(xs, "blast_radius.max_percent") == "7.5");
  CHECK(value_of(xs, "blast_radius.window_ms") == "3600000");
  CHECK(value_of(xs, "pipeline.effector_timeout_ms") == "10000");
  CHECK(value_of(xs, "incident.policy.payments")
        == "verdict=PROMOTE;severity=P2;rollback_level=1;rules=0.5:P0");
  CHECK(value_of(xs, "incident.correlation.000") == "service=pay;region=*;policy=payments");
  CHECK(value_of(xs, "incident.policy.default") == "<none>"); // only the configured ones
}

TEST_CASE("policy document: equal policies have equal versions, any change a new one") {
  node_config a;
  auto v = policy_version(policy_entries(a));
  CHECK(v.size() == 64);
  CHECK(v == policy_version(policy_entries(node_config{})));
  node_config b;
  b.authority.policy.grants["agent"] = authority_level::act;
  CHECK(policy_version(policy_entries(b)) != v);
  node_config c;
  c.blast.max_services = 2;
  CHECK(policy_version(policy_entries(c)) != v);
  node_config d;
  d.authority.approvals.least[3] = approver_role::admin;
  CHECK(policy_version(policy_entries(d)) != v);
  // The version is the digest of the entries' text: recomputable from a journaled list.
  std::vector<policy_entry> two{{"a.x", "1"}, {"b.y", "two"}};
  CHECK(policy_version(two) == to_hex(sha256(reinterpret_cast<const uint8_t*>("a.x=1\nb.y=two\n"), 14)));
}

TEST_CASE("policy document: the differences name each key added, removed or changed") {
  std::vector<policy_entry> before{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  std::vector<policy_entry> after{{"b", "2"}, {"c", "4"}, {"d", "5"}};
  auto diff = policy_diff(before, after);
  REQUIRE(diff.size() == 3);
  CHECK(diff[0].key == "a");
  CHECK(diff[0].before == caf::optional<std::string>{"1"});
  CHECK(!diff[0].after);
  CHECK(diff[1].key == "c");
  CHECK(diff[1].before == caf::optional<std::string>{"3"});
  CHECK(diff[1].after == caf::optional<std::string>{"4"});
  CHECK(diff[2].key == "d");
  CHECK(!diff[2].before);
  CHECK(diff[2].after == caf::optional<std::string>{"5"});
  CHECK(policy_diff(after, after).empty());
  CHECK(policy_diff({}, after).size() == 3);
}
