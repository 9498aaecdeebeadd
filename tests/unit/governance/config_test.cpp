// Configuration files: defaults, every key, and errors that name file, key and problem.

#include <doctest/doctest.h>

#include <fstream>

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
  CHECK(node_config{}.store.prepare_max == uint64_t{32} << 20); // the same without a file
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

TEST_CASE("the [http] section loads, and its errors name the key") {
  temp_dir dir;
  auto path = dir.sub("bulwark.toml");
  auto shipped = load_config(BULWARK_SOURCE_DIR "/conf/bulwark.toml");
  REQUIRE(shipped);
  CHECK(shipped->http.listen == "off");
  CHECK(shipped->http.pool == 64);
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
