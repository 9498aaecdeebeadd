#pragma once

/// A real etcd (Debian's etcd-server) for the lease tests: one member on free loopback
/// ports with its data in a temporary directory, started and stopped by the test.

#include <string>
#include <sys/types.h>

#include "actors/cluster/etcd_gateway.hpp"

namespace bulwark::test {

struct etcd_process {
  pid_t pid = -1;
  uint16_t client_port = 0;
  uint16_t peer_port = 0;
  std::string data; ///< its data directory (and `data + ".log"`)

  /// Starts etcd with its data in `data` and waits until it answers (fails the test
  /// after 20 s).
  explicit etcd_process(const std::string& data);
  ~etcd_process();

  /// "http://127.0.0.1:PORT"
  std::string endpoint() const;

  /// Settings for a gateway to it: lease TTL 2 s, renewals every 500 ms, margin 500 ms.
  etcd_settings settings(const std::string& prefix = "/bulwark/") const;

  /// Sends `sig` and reaps the process (SIGKILL, SIGTERM).
  void stop(int sig);

  /// Sends `sig` without reaping it (SIGSTOP, SIGCONT).
  void signal(int sig) const;

  /// Starts it again on the same ports and data (after `stop`).
  void start();
};

} // namespace bulwark::test
