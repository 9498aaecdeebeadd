#include "cluster/etcd_process.hpp"

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "cluster/cluster_node.hpp"

namespace bulwark::test {

etcd_process::etcd_process(const std::string& dir) : data(dir) {
  client_port = free_port();
  do
    peer_port = free_port();
  while (peer_port == client_port);
  start();
}

etcd_process::~etcd_process() {
  if (pid > 0) {
    ::kill(pid, SIGCONT);
    stop(SIGKILL);
  }
}

std::string etcd_process::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(client_port);
}

etcd_settings etcd_process::settings(const std::string& prefix) const {
  etcd_settings s;
  s.endpoints = {endpoint()};
  s.prefix = prefix;
  s.lease_ttl_s = 2;
  s.renew = std::chrono::milliseconds{500};
  s.margin = std::chrono::milliseconds{500};
  s.request_timeout = std::chrono::milliseconds{400};
  return s;
}

void etcd_process::start() {
  auto client = endpoint();
  auto peer = "http://127.0.0.1:" + std::to_string(peer_port);
  auto cluster = "m0=" + peer;
  pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int log = ::open((data + ".log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    std::vector<const char*> argv{
      "etcd", "--name", "m0", "--data-dir", data.c_str(), "--listen-client-urls",
      client.c_str(), "--advertise-client-urls", client.c_str(), "--listen-peer-urls",
      peer.c_str(), "--initial-advertise-peer-urls", peer.c_str(), "--initial-cluster",
      cluster.c_str(), "--initial-cluster-state", "new", "--heartbeat-interval", "50",
      "--election-timeout", "500", "--pre-vote=true", "--logger", "zap", "--log-level",
      "warn", nullptr};
    ::execvp("etcd", const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  etcd_gateway gw{settings()};
  auto ready = wait_until([&] { return static_cast<bool>(gw.cluster_id()); },
                          std::chrono::seconds{20});
  INFO("etcd (Debian's etcd-server, scripts/install-deps.sh) did not answer on " << client
                                                                                  << "; see "
                                                                                  << data
                                                                                  << ".log");
  REQUIRE(ready);
}

void etcd_process::stop(int sig) {
  if (pid <= 0)
    return;
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
}

void etcd_process::signal(int sig) const {
  if (pid > 0)
    ::kill(pid, sig);
}

} // namespace bulwark::test
