#pragma once

/// `bulwark node` child processes for the cluster tests: config, process, replay reads.

#include <string>
#include <vector>
#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "cluster/cluster_node.hpp"
#include "support/temp_dir.hpp"

namespace bulwark::test::processes {

inline const std::string bulwark_bin = BULWARK_BINARY;
inline const std::string fleet_file = BULWARK_SOURCE_DIR "/conf/fleet.toml";

/// The SHA-256 of a console token, e.g. "root-token" (role admin, principal root).
std::string token_hash(const std::string& token = "root-token");

/// Writes the node's bulwark.toml (with [cluster]) and its keys into `dir`.
std::string write_config(const temp_dir& dir, const cluster_plan& plan, const std::string& id);

/// One `bulwark node` child process.
struct node_process {
  pid_t pid = -1;
  std::string first_line;

  /// `env`: "NAME=value" settings added to the child's environment.
  node_process(const std::string& config, const std::string& data,
               const std::string& fleet = "", const std::vector<std::string>& env = {});

  ~node_process();

  /// Sends `sig` and reaps the process; returns its exit status.
  int stop(int sig);

  /// Waits for the process to exit by itself; returns its exit code.
  int wait_exit();
};

/// The metrics port in a node's ready line.
uint16_t metrics_port(const std::string& first_line);

/// `bulwark replay --json` of a journal (read-only; fine beside a running node).
nlohmann::json replay_json(const std::string& data);

bool same_head(const std::string& a, const std::string& b);

} // namespace bulwark::test::processes
