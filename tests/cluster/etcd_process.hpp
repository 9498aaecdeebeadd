#pragma once

/// A real etcd (Debian's etcd-server) for the lease tests: one member on free loopback
/// ports with its data in a temporary directory, started and stopped by the test; over
/// plain http, or over TLS with client certificates required.

#include <string>
#include <sys/types.h>

#include "caf/optional.hpp"

#include "actors/cluster/etcd_gateway.hpp"

namespace bulwark::test {

/// PEM files for an etcd that speaks only TLS and requires client certificates: a CA,
/// etcd's certificate (SAN IP:127.0.0.1) and two client certificates, all signed by the CA.
struct etcd_tls {
  std::string ca;
  std::string server_cert;
  std::string server_key;
  std::string client_cert; ///< with no CommonName, as etcd's gateway wants with auth on
  std::string client_key;
  std::string named_cert;  ///< with CommonName "bulwark-node"
  std::string named_key;

  /// Makes a new CA and its three certificates in `dir` (created if absent) with the
  /// `openssl` command line; fails the test if openssl fails.
  static etcd_tls make(const std::string& dir);
};

struct etcd_process {
  pid_t pid = -1;
  uint16_t client_port = 0;
  uint16_t peer_port = 0;
  std::string data; ///< its data directory (and `data + ".log"`)
  caf::optional<etcd_tls> tls; ///< when set: https only, `--client-cert-auth`

  /// Starts etcd with its data in `data` and waits until it answers (fails the test
  /// after 20 s).
  explicit etcd_process(const std::string& data, caf::optional<etcd_tls> tls = caf::none);
  ~etcd_process();

  /// "http://127.0.0.1:PORT", or "https://..." with TLS.
  std::string endpoint() const;

  /// Settings for a gateway to it: lease TTL 2 s, renewals every 500 ms, margin 500 ms;
  /// with TLS, the CA and the client certificate.
  etcd_settings settings(const std::string& prefix = "/bulwark/") const;

  /// Runs `etcdctl ARGS` against it (with the TLS files when set); returns the exit status.
  int etcdctl(const std::string& args) const;

  /// Sends `sig` and reaps the process (SIGKILL, SIGTERM).
  void stop(int sig);

  /// Sends `sig` without reaping it (SIGSTOP, SIGCONT).
  void signal(int sig) const;

  /// Starts it again on the same ports and data (after `stop`).
  void start();
};

/// Runs `gw` through what the lease keeper needs of etcd, checking each answer: a lease
/// granted and renewed, the election transaction won and lost, revocation, expiry and
/// `remove_if`. Uses keys under "/t/".
void check_lease_cycle(etcd_gateway& gw);

} // namespace bulwark::test
