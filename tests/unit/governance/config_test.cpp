// Configuration files: defaults, every key, and errors that name file, key and problem.

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <set>

#include "engine/config_keys.hpp"
#include "engine/node_config.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::temp_dir;

namespace {

std::string write(const temp_dir& dir, const std::string& text) {
  auto path = dir.sub("bulwark.toml");
  std::ofstream{path} << text;
  return path;
}

std::string error_of(const temp_dir& dir, const std::string& text) {
  auto cfg = load_config(write(dir, text));
  REQUIRE(!cfg);
  return describe(cfg.error()).message;
}

} // namespace

TEST_CASE("the shipped bulwark.toml loads with its documented values") {
  auto cfg = load_config(BULWARK_SOURCE_DIR "/conf/bulwark.toml");
  REQUIRE_MESSAGE(cfg, (cfg ? "" : describe(cfg.error()).message));
  CHECK(!cfg->authority.policy.enforce_enabled);
  CHECK(cfg->authority.policy.grants.at("ops-alice") == authority_level::enforce);
  CHECK(cfg->authority.admins.count("admin") == 1);
  CHECK(cfg->blast.max_percent == doctest::Approx(5.0));
  CHECK(cfg->journal.snapshot_interval == 10000);
  CHECK(cfg->store.prepare_max == uint64_t{32} << 20);
  static const node_config defaults;
  CHECK(defaults.store.prepare_max == uint64_t{32} << 20); // the same without a file
  CHECK(cfg->pipeline.observation_window == caf::timespan{std::chrono::seconds{5}});
}

TEST_CASE("the shipped fleet.toml holds hundreds of resources in several services and regions") {
  auto fleet = load_fleet(BULWARK_SOURCE_DIR "/conf/fleet.toml");
  REQUIRE(fleet);
  CHECK(fleet->size() == 400);
  std::set<std::string> services, regions;
  for (auto& r : *fleet) {
    services.insert(r.service);
    regions.insert(r.region);
  }
  CHECK(services.size() == 5);
  CHECK(regions.size() == 2);
}

TEST_CASE("configuration errors name the file, the key and the problem") {
  temp_dir dir;
  auto path = dir.sub("bulwark.toml");
  CHECK(error_of(dir, "[authority]\nenforce_enabled = \"yes\"\n")
        == path + ": authority.enforce_enabled: must be true or false");
  CHECK(error_of(dir, "[blast_radius]\nmax_percent = 150.0\n")
        == path + ": blast_radius.max_percent: must be within (0, 100]");
  CHECK(error_of(dir, "[blast_radius]\nmax_services = -1\n")
        == path + ": blast_radius.max_services: must not be negative");
  CHECK(error_of(dir, "[authority]\nmax_batch = 0\n")
        == path + ": authority.max_batch: must be at least 1");
  CHECK(error_of(dir, "[authority]\naudit_backlog = 0\n")
        == path + ": authority.audit_backlog: must be at least 1");
  CHECK(error_of(dir, "[authority.grants]\nbob = 7\n")
        == path + ": authority.grants.bob: must be a level from 0 to 4");
  CHECK(error_of(dir, "[pipeline]\neffector_timeout_ms = 0\n")
        == path + ": pipeline.effector_timeout_ms: must be greater than zero");
  CHECK(error_of(dir, "[journal]\ninitial_map_mb = 10\nmax_map_mb = 5\n").find("journal.max_map_mb")
        != std::string::npos);
  CHECK(error_of(dir, "[journal]\nmax_map_mb = 64\nprepare_mb = 65\n")
        == path + ": journal.prepare_mb: must not exceed journal.max_map_mb");
  CHECK(error_of(dir, "[journal]\nprepare_mb = -1\n")
        == path + ": journal.prepare_mb: must not be negative");
  auto syntax = error_of(dir, "[node\n");
  CHECK(syntax.find(path + ":1:") == 0);
  auto missing = load_config(dir.sub("absent.toml"));
  CHECK(!missing);
}

TEST_CASE("fleet file errors name the entry and the field") {
  temp_dir dir;
  auto path = dir.sub("fleet.toml");
  std::ofstream{path} << "[[resource]]\nid = \"a\"\nservice = \"s\"\n";
  auto fleet = load_fleet(path);
  REQUIRE(!fleet);
  CHECK(describe(fleet.error()).message == path + ": resource[0].region: missing or not a valid name");
}

TEST_CASE("the [incident] section loads, and its errors name the key") {
  auto cfg = load_config(BULWARK_SOURCE_DIR "/conf/bulwark.toml");
  REQUIRE(cfg);
  auto& inc = cfg->incident;
  CHECK(inc.detector.confirmation == caf::timespan{std::chrono::seconds{30}});
  CHECK(inc.detector.factor == doctest::Approx(2.0));
  REQUIRE(inc.policies.size() == 1);
  CHECK(inc.policies[0].id == "default");
  CHECK(inc.policies[0].rules.size() == 2);
  CHECK(inc.policies[0].rules[0].level == severity::p0);
  temp_dir dir;
  CHECK(error_of(dir, "[incident]\nfactor = 0.5\n").find("incident.factor") != std::string::npos);
  CHECK(error_of(dir, "[incident]\nconfirmation_ms = 0\n").find("incident.confirmation_ms")
        != std::string::npos);
  CHECK(error_of(dir, "[incident]\nverification_ms = 60000\nverification_timeout_ms = 1000\n")
          .find("incident.verification_timeout_ms") != std::string::npos);
  CHECK(error_of(dir, "[[incident.policy]]\nid = \"default\"\nverdict = \"MAYBE\"\n")
          .find("policy[0].verdict") != std::string::npos);
  CHECK(error_of(dir, "[[incident.policy]]\nid = \"default\"\nrollback_level = 0\n")
          .find("policy[0].rollback_level") != std::string::npos);
  CHECK(error_of(dir, "[[incident.policy]]\nid = \"only\"\n").find("\"default\"")
        != std::string::npos);
  CHECK(error_of(dir, "[[incident.correlation]]\nservice = \"pos\"\npolicy = \"ghost\"\n")
          .find("unknown policy 'ghost'") != std::string::npos);
}

TEST_CASE("an unknown key or section is refused, naming the file, the key and the nearest name") {
  temp_dir dir;
  auto path = dir.sub("bulwark.toml");
  CHECK(error_of(dir, "[authority]\naproval_timeout_ms = 1000\n")
        == path + ": authority.aproval_timeout_ms: unknown key "
                  "(did you mean authority.approval_timeout_ms?)");
  CHECK(error_of(dir, "[authority]\nenforce_enable = true\n")
        == path + ": authority.enforce_enable: unknown key "
                  "(did you mean authority.enforce_enabled?)");
  CHECK(error_of(dir, "[authorty]\nenforce_enabled = true\n")
        == path + ": [authorty]: unknown section (did you mean [authority]?)");
  // A key in the wrong section points to where it belongs.
  CHECK(error_of(dir, "[node]\nenforce_enabled = true\n")
        == path + ": node.enforce_enabled: unknown key (did you mean authority.enforce_enabled?)");
  // Per-service breaker tables take the keys of [breaker]; a misspelled one is named.
  CHECK(error_of(dir, "[breaker]\nwindw_ms = 5\n")
        == path + ": breaker.windw_ms: unknown key (did you mean breaker.window_ms?)");
  CHECK(error_of(dir, "[breaker.pos]\ncooldown = 5\n")
        == path + ": breaker.pos.cooldown: unknown key (did you mean breaker.pos.cooldown_ms?)");
  CHECK(error_of(dir, "[breaker.pos.extra]\ncooldown_ms = 5\n")
          .find(path + ": [breaker.pos.extra]: unknown section") == 0);
  CHECK(error_of(dir, "[health]\nbacklg_warning = 5\n")
        == path + ": health.backlg_warning: unknown key (did you mean health.backlog_warning?)");
  CHECK(error_of(dir, "[[console.tokens]]\nsha265 = \"x\"\nprincipal = \"p\"\nrole = \"viewer\"\n")
        == path + ": console.tokens.sha265: unknown key (did you mean console.tokens.sha256?)");
  CHECK(error_of(dir, "[[incident.policy]]\nid = \"default\"\nrules = [ { min_rate = 0.5 } ]\n")
        == path + ": incident.policy.rules.min_rate: unknown key "
                  "(did you mean incident.policy.rules.min_error_rate?)");
  CHECK(error_of(dir, "[cluster]\nnode_idd = \"n1\"\n")
        == path + ": cluster.node_idd: unknown key (did you mean cluster.node_id?)");
  CHECK(error_of(dir, "verbose = true\n").find(path + ": verbose: unknown key") == 0);
  // Every unknown key is named at once, one line each, and nothing else is read.
  auto both = error_of(dir, "[journal]\nmax_map = 5\n[pipeline]\nmax_mutation = 3\n");
  CHECK(both == path + ": journal.max_map: unknown key (did you mean journal.max_map_mb?)\n"
                + path + ": pipeline.max_mutation: unknown key "
                         "(did you mean pipeline.max_mutations?)");
  // Names the user chooses stay free: grants, per-service breakers, public keys.
  temp_dir ok_dir;
  auto ok = load_config(write(ok_dir, "[authority.grants]\n\"any-body\" = 2\n[breaker.rides]\n"
                                      "cooldown_ms = 1000\nattempt_timeout_ms = 900\n"));
  REQUIRE_MESSAGE(ok, (ok ? "" : describe(ok.error()).message));
  CHECK(ok->authority.policy.grants.at("any-body") == authority_level::recommend);
  CHECK(ok->breakers.at("rides").cooldown == caf::timespan{std::chrono::seconds{1}});
}

TEST_CASE("a fleet file with an unknown key is refused, naming the nearest name") {
  temp_dir dir;
  auto path = dir.sub("fleet.toml");
  std::ofstream{path} << "[[resource]]\nid = \"a\"\nservice = \"s\"\nregoin = \"r\"\n";
  auto fleet = load_fleet(path);
  REQUIRE(!fleet);
  CHECK(describe(fleet.error()).message
        == path + ": resource.regoin: unknown key (did you mean resource.region?)");
}

namespace {

/// The keys docs/configuration.md documents, per file: table rows whose first cell is a
/// key in backquotes, and headings that name a table (`[a.b]` or `[[a.b]]`). The file is
/// the one the nearest "## " heading names (bulwark.toml or fleet.toml).
std::set<std::string> documented(config_file which, key_kind kind) {
  std::ifstream in{BULWARK_SOURCE_DIR "/docs/configuration.md"};
  REQUIRE(in.good());
  std::set<std::string> out;
  std::string line;
  bool in_file = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0)
      in_file = line.find(which == config_file::node ? "bulwark.toml" : "fleet.toml")
                != std::string::npos;
    if (!in_file)
      continue;
    if (kind == key_kind::value && line.rfind("| `", 0) == 0) {
      auto end = line.find('`', 3);
      out.insert(line.substr(3, end - 3));
    } else if (kind != key_kind::value && line.rfind("### `[", 0) == 0) {
      auto name = line.substr(5, line.find('`', 5) - 5); // [a.b] or [[a.b]]
      bool is_list = name.rfind("[[", 0) == 0;
      auto bare = name.substr(is_list ? 2 : 1, name.size() - (is_list ? 4 : 2));
      if ((kind == key_kind::table_list) == is_list)
        out.insert(bare);
    }
  }
  return out;
}

std::set<std::string> in_code(config_file which, key_kind kind) {
  std::set<std::string> out;
  for (auto& k : expanded_config_keys())
    if (k.file == which && k.kind == kind)
      out.insert(k.path);
  return out;
}

} // namespace

TEST_CASE("docs/configuration.md documents exactly the keys the parsers accept") {
  for (auto which : {config_file::node, config_file::fleet})
    for (auto kind : {key_kind::value, key_kind::table, key_kind::table_list}) {
      auto doc = documented(which, kind);
      auto code = in_code(which, kind);
      CHECK(!code.empty());
      for (auto& k : code)
        CHECK_MESSAGE(doc.count(k) == 1, "accepted but not documented: " << k);
      for (auto& k : doc)
        CHECK_MESSAGE(code.count(k) == 1, "documented but not accepted: " << k);
    }
}

TEST_CASE("every key of the table is read: a wrong type for it is refused naming it") {
  // A key in the table that no parser reads would be accepted and ignored; a value of
  // the wrong type (a table) shows that the parser looks at it. The other keys of its
  // table get valid values, so that the error can only be about this key.
  std::map<std::string, std::map<std::string, std::string>> valid = {
    {"console.tokens",
     {{"sha256", "\"" + std::string(64, 'a') + "\""},
      {"principal", "\"p\""},
      {"role", "\"viewer\""}}},
    {"incident.policy", {{"id", "\"default\""}}},
    {"incident.policy.rules", {{"min_error_rate", "0.5"}, {"severity", "\"P0\""}}},
    {"incident.correlation", {{"policy", "\"default\""}}},
    {"cluster",
     {{"node_id", "\"n1\""}, {"cluster_id", "\"c\""}, {"listen", "\"127.0.0.1:7101\""},
      {"leader", "\"n1\""}, {"key", "\"n1.key\""}}},
  };
  auto render = [](const std::map<std::string, std::string>& keys, const char* sep) {
    std::string out;
    for (auto& [k, v] : keys)
      out += (out.empty() ? "" : sep) + k + " = " + v;
    return out;
  };
  temp_dir dir;
  size_t checked = 0;
  for (auto& k : expanded_config_keys()) {
    if (k.file != config_file::node || k.kind != key_kind::value)
      continue;
    std::string path = k.path;
    for (auto [from, to] : {std::pair{"<principal>", "bob"}, {"<node>", "n2"}, {"<level>", "2"}})
      if (auto at = path.find(from); at != std::string::npos)
        path.replace(at, std::string{from}.size(), to);
    if (path.rfind("effectors", 0) == 0)
      continue; // read by load_effectors: tests/unit/effectors/effector_config_test.cpp
    if (path.rfind("notif", 0) == 0)
      continue; // read by load_notifications: tests/unit/notify/notify_config_test.cpp
    if (path.rfind("prometheus", 0) == 0)
      continue; // read by load_prometheus: tests/unit/signals/prometheus_config_test.cpp
    auto dot = path.rfind('.');
    auto table = path.substr(0, dot), key = path.substr(dot + 1);
    std::string text;
    if (table == "incident.policy.rules") {
      auto rule = valid[table];
      rule[key] = "{ wrong = 1 }";
      text = "[[incident.policy]]\nid = \"default\"\nrules = [ { " + render(rule, ", ") + " } ]\n";
    } else if (table == "cluster.pubkeys") {
      text = "[cluster]\n" + render(valid["cluster"], "\n") + "\n[cluster.pubkeys]\n" + key
             + " = { wrong = 1 }\n";
    } else {
      auto keys = valid[table];
      keys[key] = "{ wrong = 1 }";
      bool list = table == "console.tokens" || table == "incident.policy"
                  || table == "incident.correlation";
      text = (list ? "[[" + table + "]]\n" : "[" + table + "]\n") + render(keys, "\n") + "\n";
    }
    auto cfg = load_config(write(dir, text));
    CHECK_MESSAGE(!cfg, "a table as the value of " << k.path << " was accepted");
    if (!cfg)
      CHECK_MESSAGE(describe(cfg.error()).message.find(key) != std::string::npos,
                    k.path << ": " << describe(cfg.error()).message);
    ++checked;
  }
  CHECK(checked > 100);
}

TEST_CASE("the [http] section loads, and its errors name the key") {
  temp_dir dir;
  auto path = dir.sub("bulwark.toml");
  auto shipped = load_config(BULWARK_SOURCE_DIR "/conf/bulwark.toml");
  REQUIRE(shipped);
  CHECK(shipped->http.listen == "off");
  CHECK(shipped->http.pool == 128);
  CHECK(shipped->http.max_streams == 8);
  CHECK(shipped->http.request_timeout == std::chrono::milliseconds{60000});
  auto cfg = load_config(write(dir, "[http]\nlisten = \"127.0.0.1:0\"\npool = 8\nmax_streams = 2\n"
                                    "max_body_bytes = 4096\nread_timeout_ms = 250\n"
                                    "heartbeat_ms = 100\n"));
  REQUIRE_MESSAGE(cfg, (cfg ? "" : describe(cfg.error()).message));
  CHECK(cfg->http.listen == "127.0.0.1:0");
  CHECK(cfg->http.pool == 8);
  CHECK(cfg->http.max_body == 4096);
  CHECK(cfg->http.read_timeout == std::chrono::milliseconds{250});
  CHECK(cfg->http.heartbeat == std::chrono::milliseconds{100});
  CHECK(error_of(dir, "[http]\nlisten = \"here\"\n")
        == path + ": http.listen: must be HOST:PORT or \"off\"");
  CHECK(error_of(dir, "[http]\npool = 1\n") == path + ": http.pool: must be from 2 to 4096 threads");
  CHECK(error_of(dir, "[http]\npool = 8\nmax_streams = 8\n")
        == path + ": http.max_streams: must be below pool (each stream holds a thread)");
  CHECK(error_of(dir, "[http]\nmax_body_bytes = 10\n")
        == path + ": http.max_body_bytes: must be from 1024 to 67108864");
  CHECK(error_of(dir, "[http]\ntls_cert = \"a.pem\"\n").find("http.tls_key") != std::string::npos);
  CHECK(error_of(dir, "[http]\nidle_timeout_ms = 0\n")
        == path + ": http.idle_timeout_ms: must be greater than zero");
}

TEST_CASE("the policy version changes with the governance tables and only with them") {
  temp_dir dir;
  auto version = [&](const std::string& text) {
    auto cfg = load_config(write(dir, text));
    REQUIRE(cfg);
    return cfg->console.policy_version;
  };
  auto base = version("[authority]\napproval_timeout_ms = 60000\n[authority.grants]\n"
                      "\"ops\" = 3\n[blast_radius]\nmax_percent = 10.0\n");
  CHECK(base.size() == 64);
  // The same tables written in another order: the same version.
  CHECK(version("[blast_radius]\nmax_percent = 10.0\n[authority.grants]\n\"ops\" = 3\n"
                "[authority]\napproval_timeout_ms = 60000\n") == base);
  // Another section changed: the same version.
  CHECK(version("[authority]\napproval_timeout_ms = 60000\n[authority.grants]\n\"ops\" = 3\n"
                "[blast_radius]\nmax_percent = 10.0\n[console]\nmax_connections = 9\n") == base);
  // A grant, a limit or a timeout changed: a new version each.
  CHECK(version("[authority]\napproval_timeout_ms = 60000\n[authority.grants]\n\"ops\" = 4\n"
                "[blast_radius]\nmax_percent = 10.0\n") != base);
  CHECK(version("[authority]\napproval_timeout_ms = 60000\n[authority.grants]\n\"ops\" = 3\n"
                "[blast_radius]\nmax_percent = 20.0\n") != base);
  CHECK(version("[authority]\napproval_timeout_ms = 61000\n[authority.grants]\n\"ops\" = 3\n"
                "[blast_radius]\nmax_percent = 10.0\n") != base);
}

TEST_CASE("[cluster.etcd] loads into an elected cluster, and its errors name the key") {
  temp_dir dir;
  auto path = dir.sub("bulwark.toml");
  const std::string cluster = "[cluster]\nnode_id = \"n1\"\ncluster_id = \"c\"\n"
                              "listen = \"127.0.0.1:7101\"\nkey = \"n1.key\"\n"
                              "peers = [\"n2@127.0.0.1:7102\"]\n";
  std::ofstream{dir.sub("pw")} << "secret\n";
  auto cfg = load_config(write(dir, cluster + "[cluster.etcd]\nendpoints = "
                                              "[\"http://127.0.0.1:2379\", \"http://10.0.0.2:2379\"]\n"
                                              "prefix = \"/park\"\nlease_ttl = 3\nrenew_ms = 700\n"
                                              "margin_ms = 600\nrequest_timeout_ms = 300\n"
                                              "user = \"bulwark\"\npassword_file = \"pw\"\n"));
  REQUIRE_MESSAGE(cfg, (cfg ? "" : describe(cfg.error()).message));
  REQUIRE(cfg->cluster);
  REQUIRE(cfg->cluster->etcd);
  auto& e = *cfg->cluster->etcd;
  CHECK(cfg->cluster->cfg.elected);
  CHECK(cfg->cluster->cfg.leader.empty());
  CHECK(e.endpoints.size() == 2);
  CHECK(e.prefix == "/park/"); // the separator is added
  CHECK(e.lease_ttl_s == 3);
  CHECK(e.renew == std::chrono::milliseconds{700});
  CHECK(e.margin == std::chrono::milliseconds{600});
  CHECK(e.request_timeout == std::chrono::milliseconds{300});
  CHECK(e.password_file == dir.sub("pw")); // beside the configuration file
  auto etcd = [&](const std::string& keys) {
    return error_of(dir, cluster + "[cluster.etcd]\n" + keys);
  };
  // A lease TTL below the renewal interval is refused, naming the key.
  CHECK(etcd("endpoints = [\"http://e:2379\"]\nlease_ttl = 1\nrenew_ms = 1500\n")
        == path + ": cluster.etcd.lease_ttl: is below the renewal interval: the lease (1000 ms) "
                  "must outlast renew_ms (1500)");
  CHECK(etcd("lease_ttl = 5\n").find(path + ": cluster.etcd.endpoints: needs at least one") == 0);
  CHECK(etcd("endpoints = \"http://e:2379\"\n")
        == path + ": cluster.etcd.endpoints: must be an array of \"http://HOST:PORT\" strings");
  CHECK(etcd("endpoints = [\"e:2379\"]\n").find(path + ": cluster.etcd.endpoints: \"e:2379\"") == 0);
  CHECK(etcd("endpoints = [\"http://e:2379\"]\nlease_ttl = 0\n")
        == path + ": cluster.etcd.lease_ttl: must be an integer from 1 to 3600");
  CHECK(etcd("endpoints = [\"http://e:2379\"]\ntls_ca = \"missing.pem\"\n")
        == path + ": cluster.etcd.tls_ca: cannot read " + dir.sub("missing.pem"));
  CHECK(etcd("endpoints = [\"http://e:2379\"]\nuser = \"u\"\n").find("cluster.etcd.password_file:")
        != std::string::npos);
  // With an elected leader, a configured one is refused.
  CHECK(error_of(dir, cluster + "leader = \"n1\"\n[cluster.etcd]\nendpoints = [\"http://e:2379\"]\n")
          .find("cluster.leader: the leader is elected through etcd's lease") != std::string::npos);
}
