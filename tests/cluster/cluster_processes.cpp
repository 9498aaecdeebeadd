// `bulwark node` child processes for the cluster process tests: config, fork/exec, replay reads.

#include "cluster/cluster_processes.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sys/wait.h>
#include <tuple>
#include <unistd.h>

#include "persistence/sha256.hpp"

namespace bulwark::test::processes {

uint16_t metrics_port(const std::string& first_line) {
  auto at = first_line.find("metrics ");
  REQUIRE(at != std::string::npos);
  auto where = first_line.substr(at + 8, first_line.find(',', at) - at - 8);
  return static_cast<uint16_t>(std::stoi(where.substr(where.find(':') + 1)));
}

std::string token_hash(const std::string& token) {
  return to_hex(sha256(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
}

std::string write_config(const temp_dir& dir, const cluster_plan& plan, const std::string& id) {
  auto cfg = plan.config_of(id);
  (void) plan.keys.at(id)->write_private(dir.sub(id + ".key"));
  std::ofstream f{dir.sub(id + ".toml")};
  f << "[authority]\nenforce_enabled = true\nallow_self_approval = true\nadmins = [\"root\"]\n[authority.grants]\n"
    << "\"root\" = 4\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
    << "[[console.tokens]]\nsha256 = \"" << token_hash() << "\"\nprincipal = \"root\"\n"
    << "role = \"admin\"\n";
  // More sessions for the role tests: a viewer, an operator, and an admin session of a
  // principal that is not one of the authority's admins.
  for (auto [token, principal, role] : {std::tuple{"view-token", "watcher", "viewer"},
                                        std::tuple{"ops-token", "ops", "operator"},
                                        std::tuple{"lead-token", "lead", "admin"}})
    f << "[[console.tokens]]\nsha256 = \"" << token_hash(token) << "\"\nprincipal = \""
      << principal << "\"\nrole = \"" << role << "\"\n";
  f << "[cluster]\nnode_id = \"" << id << "\"\ncluster_id = \"" << cfg.cluster_id
    << "\"\nlisten = \"127.0.0.1:" << cfg.listen_port << "\"\nleader = \"" << cfg.leader
    << "\"\nkey = \"" << id << ".key\"\nmax_batch = 100\npeers = [";
  for (size_t i = 0; i < cfg.peers.size(); ++i)
    f << (i ? ", " : "") << '"' << cfg.peers[i].node_id << "@127.0.0.1:" << cfg.peers[i].port
      << '"';
  f << "]\n[cluster.pubkeys]\n";
  for (auto& p : cfg.peers) {
    (void) ed25519_key::from_raw_public(plan.pubkeys.at(p.node_id))
      ->write_public(dir.sub(id + "-" + p.node_id + ".pub"));
    f << p.node_id << " = \"" << id << "-" << p.node_id << ".pub\"\n";
  }
  return dir.sub(id + ".toml");
}

node_process::node_process(const std::string& config, const std::string& data,
                           const std::string& fleet, const std::vector<std::string>& env) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    // Logs and errors go to DATA.log, so a closed pipe never meets a late log line.
    int log = ::open((data + ".log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDERR_FILENO);
    ::close(fds[0]);
    for (auto& e : env)
      ::putenv(const_cast<char*>(e.c_str())); // the parent's copy outlives the exec
    std::vector<const char*> argv{bulwark_bin.c_str(), "node", "--config", config.c_str(),
                                  "--data", data.c_str(), "--console", "127.0.0.1:0"};
    if (!fleet.empty()) {
      argv.push_back("--fleet");
      argv.push_back(fleet.c_str());
      argv.push_back("--simulate");
    }
    argv.push_back(nullptr);
    ::execv(bulwark_bin.c_str(), const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  ::close(fds[1]);
  // Up once it prints its ready line; a node that cannot start closes stdout instead.
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n')
    line.push_back(c);
  first_line = line;
  ::close(fds[0]);
}

node_process::~node_process() { stop(SIGTERM); }

int node_process::stop(int sig) {
  if (pid <= 0)
    return -1;
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
  return status;
}

int node_process::wait_exit() {
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

nlohmann::json replay_json(const std::string& data) {
  std::string out;
  if (run_command(bulwark_bin + " replay --json --data " + data + " 2>/dev/null", &out) != 0)
    return nlohmann::json{{"seq", -1}};
  auto j = nlohmann::json::parse(out, nullptr, false);
  return j.is_discarded() ? nlohmann::json{{"seq", -1}} : j;
}

bool same_head(const std::string& a, const std::string& b) {
  auto x = replay_json(a);
  auto y = replay_json(b);
  return x["seq"] != -1 && x["seq"] == y["seq"] && x["chain"] == y["chain"];
}

} // namespace bulwark::test::processes
