#pragma once

/// Embedded engines with a [cluster] section for tests: the configuration files of a
/// planned cluster and engines started from them.

#include <memory>
#include <string>
#include <vector>

#include "bulwark/engine.hpp"
#include "cluster/cluster_node.hpp"
#include "support/temp_dir.hpp"

namespace bulwark::test {

/// Writes <id>.toml (with `extra` TOML appended) and the key files of `plan` into `dir`.
std::string write_config(const temp_dir& dir, const cluster_plan& plan, const std::string& id,
                         uint32_t min_followers = 0, const std::string& tls = "",
                         const std::string& extra = "");

/// Starts an engine from `config` with its journal in dir/<data>; admins {"admin"},
/// grants agent and ops at level 4, enforce enabled.
std::unique_ptr<engine> start_engine(const temp_dir& dir, const std::string& config,
                                     const std::string& data, std::string* error = nullptr);

/// Events of `type` in `eng`'s journal.
size_t count(engine& eng, const std::string& type);

/// Seqs of the events of `type` in `eng`'s journal.
std::vector<uint64_t> seqs_of(engine& eng, const std::string& type);

/// Waits until the follower holds every record of the leader, with the same state digest
/// (the leader may journal more meanwhile, e.g. a proposal's last events or its health:
/// compared again then); false if that never happens.
bool synced(engine& leader, engine& follower);

/// A level-`level` proposal of "agent" setting `resource`'s mode to "slow" (service
/// coaster, region north).
proposal_request change_mode(const std::string& key, const std::string& resource,
                             int level = 4);

/// Two engines: n1 leads with `extra` configuration, n2 follows and is connected.
struct pair_fixture {
  temp_dir dir;
  cluster_plan plan = cluster_plan::make(2);
  std::unique_ptr<engine> leader;
  std::unique_ptr<engine> follower;

  explicit pair_fixture(const std::string& extra = "");

  /// Waits until the follower holds every record of the leader, with the same state (the
  /// leader may journal more meanwhile, e.g. its health: compared again then).
  void synced();
};

} // namespace bulwark::test
