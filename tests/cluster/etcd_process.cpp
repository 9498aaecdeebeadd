#include "cluster/etcd_process.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "actors/cluster/lease_policy.hpp"
#include "cluster/cluster_node.hpp"

namespace bulwark::test {

namespace {

void openssl(const std::string& args) {
  std::string out;
  auto rc = run_command("openssl " + args, &out);
  INFO("openssl " << args << ": " << out);
  REQUIRE(rc == 0);
}

/// Makes `dir`/NAME.key and a certificate `dir`/NAME.pem for `subject`, signed by the CA
/// in `dir`.
void make_certificate(const std::string& dir, const std::string& name, const std::string& subject,
                      int serial, const std::string& extensions) {
  auto base = dir + "/" + name;
  openssl("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + base
          + ".key -out " + base + ".csr -subj " + subject);
  std::ofstream{base + ".ext"} << extensions << "\n";
  openssl("x509 -req -in " + base + ".csr -CA " + dir + "/ca.pem -CAkey " + dir
          + "/ca.key -set_serial " + std::to_string(serial) + " -days 2 -extfile " + base
          + ".ext -out " + base + ".pem");
}

} // namespace

etcd_tls etcd_tls::make(const std::string& dir) {
  ::mkdir(dir.c_str(), 0700);
  openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + dir
          + "/ca.key -out " + dir + "/ca.pem -days 2 -subj /CN=test-ca");
  // etcd's gateway presents the server certificate as a client to its own gRPC port, so
  // that certificate serves both ways.
  make_certificate(dir, "etcd", "/CN=etcd", 2,
                   "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth");
  make_certificate(dir, "client", "/O=bulwark-test", 3, "extendedKeyUsage=clientAuth");
  make_certificate(dir, "named", "/CN=bulwark-node", 4, "extendedKeyUsage=clientAuth");
  return {dir + "/ca.pem",     dir + "/etcd.pem",  dir + "/etcd.key", dir + "/client.pem",
          dir + "/client.key", dir + "/named.pem", dir + "/named.key"};
}

etcd_process::etcd_process(const std::string& dir, caf::optional<etcd_tls> tls_files)
  : data(dir), tls(std::move(tls_files)) {
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
  return (tls ? "https" : "http") + std::string{"://127.0.0.1:"} + std::to_string(client_port);
}

etcd_settings etcd_process::settings(const std::string& prefix) const {
  etcd_settings s;
  s.endpoints = {endpoint()};
  s.prefix = prefix;
  s.lease_ttl_s = 2;
  s.renew = std::chrono::milliseconds{500};
  s.margin = std::chrono::milliseconds{500};
  s.request_timeout = std::chrono::milliseconds{400};
  if (tls) {
    s.tls_ca = tls->ca;
    s.tls_cert = tls->client_cert;
    s.tls_key = tls->client_key;
  }
  return s;
}

int etcd_process::etcdctl(const std::string& args) const {
  auto cmd = "etcdctl --endpoints " + endpoint();
  if (tls)
    cmd += " --cacert " + tls->ca + " --cert " + tls->client_cert + " --key " + tls->client_key;
  return run_command(cmd + " " + args);
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
      "warn"};
    if (tls)
      argv.insert(argv.end(), {"--cert-file", tls->server_cert.c_str(), "--key-file",
                               tls->server_key.c_str(), "--trusted-ca-file", tls->ca.c_str(),
                               "--client-cert-auth"});
    argv.push_back(nullptr);
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

void check_lease_cycle(etcd_gateway& gw) {
  auto lease = gw.grant(2);
  REQUIRE(lease);
  CHECK(lease->ttl_s == 2);
  auto ttl = gw.keepalive(lease->id);
  REQUIRE(ttl);
  CHECK(*ttl == 2);
  auto won = gw.campaign("/t/leader", encode_holder({"c", "n1"}), lease->id);
  REQUIRE(won);
  CHECK(won->won);
  auto key = gw.get("/t/leader");
  REQUIRE(key);
  REQUIRE(*key);
  // The term is the transaction's revision, which is the key's create revision.
  CHECK((*key)->create_revision == won->revision);
  CHECK((*key)->lease == lease->id);
  CHECK(decode_holder((*key)->value)->node_id == "n1");
  // A second candidate loses and learns the holder.
  auto other = gw.grant(2);
  REQUIRE(other);
  auto lost = gw.campaign("/t/leader", encode_holder({"c", "n2"}), other->id);
  REQUIRE(lost);
  CHECK(!lost->won);
  REQUIRE(lost->holder);
  CHECK(decode_holder(lost->holder->value)->node_id == "n1");
  CHECK(lost->holder->create_revision == won->revision);
  // Revoking deletes the key at once; a renewal of the revoked lease answers no TTL.
  CHECK(!gw.revoke(lease->id));
  auto gone = gw.get("/t/leader");
  REQUIRE(gone);
  CHECK(!*gone);
  auto after = gw.keepalive(lease->id);
  REQUIRE(after);
  CHECK(*after == 0);
  // The next holder's term is higher.
  auto again = gw.campaign("/t/leader", encode_holder({"c", "n2"}), other->id);
  REQUIRE(again);
  CHECK(again->won);
  CHECK(again->revision > won->revision);
  // A key left to expire goes with its lease.
  CHECK(wait_until([&] {
    auto k = gw.get("/t/leader");
    return k && !*k;
  }, std::chrono::seconds{6}));
  // remove_if deletes only the key of that revision.
  auto l3 = gw.grant(5);
  REQUIRE(l3);
  auto third = gw.campaign("/t/leader", "x", l3->id);
  REQUIRE(third);
  CHECK(!gw.remove_if("/t/leader", third->revision - 1));
  CHECK(*gw.get("/t/leader"));
  CHECK(!gw.remove_if("/t/leader", third->revision));
  CHECK(!*gw.get("/t/leader"));
}

} // namespace bulwark::test
