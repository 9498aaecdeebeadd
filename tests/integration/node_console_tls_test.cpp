// The console over TLS: a real node with a self-signed certificate made at test time,
// a TLS client and `bulwark console --tls`, plaintext clients on the TLS port, and
// certificates that do not load.

#include <doctest/doctest.h>

#include <random>
#include <thread>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;

namespace {

/// Makes a self-signed certificate for localhost and 127.0.0.1 with the openssl tool.
void make_certificate(const std::string& cert, const std::string& key) {
  std::string out;
  auto rc = run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                        "-nodes -days 2 -subj /CN=localhost -addext "
                        "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "
                          + key + " -out " + cert,
                        &out);
  REQUIRE_MESSAGE(rc == 0, out);
}

/// A node whose console speaks TLS with a fresh certificate in its directory.
struct tls_node {
  test::temp_dir certs;
  std::string cert = certs.sub("console.crt");
  std::string key = certs.sub("console.key");
  std::unique_ptr<node_process> node;

  explicit tls_node(const std::string& extra = "") {
    make_certificate(cert, key);
    node = std::make_unique<node_process>("tls_cert = \"" + cert + "\"\ntls_key = \"" + key
                                          + "\"\n" + extra);
  }
};

/// A TLS line client that trusts exactly `ca` and checks the name "localhost".
struct tls_client {
  client raw;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::string buf;

  tls_client(uint16_t port, const std::string& ca) : raw(port) {
    std::signal(SIGPIPE, SIG_IGN); // SSL_write to a socket the node closed: EPIPE, not death
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    REQUIRE(SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) == 1);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, raw.fd);
    SSL_set1_host(ssl, "localhost");
    REQUIRE(SSL_connect(ssl) == 1);
  }
  ~tls_client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  /// Writes all of `data`; false once the connection is gone.
  bool send_raw(const std::string& data) {
    size_t written = 0;
    return SSL_write_ex(ssl, data.data(), data.size(), &written) == 1
           && written == data.size();
  }
  /// Reads one JSON line; null json on timeout or close.
  json read(std::chrono::milliseconds timeout = 5s) {
    for (;;) {
      if (auto pos = buf.find('\n'); pos != std::string::npos) {
        auto line = buf.substr(0, pos);
        buf.erase(0, pos + 1);
        return json::parse(line, nullptr, false);
      }
      pollfd p{raw.fd, POLLIN, 0};
      if (SSL_pending(ssl) == 0 && ::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
        return json();
      char tmp[65536];
      size_t got = 0;
      if (SSL_read_ex(ssl, tmp, sizeof tmp, &got) != 1)
        return json();
      buf.append(tmp, got);
    }
  }
  json call(const json& req) {
    if (!send_raw(req.dump() + "\n"))
      return json();
    for (;;) {
      auto msg = read();
      if (msg.is_null() || msg.is_discarded() || msg["id"] == req["id"])
        return msg;
    }
  }
  /// Reads until the end; true if the server ended with a TLS close_notify.
  bool closed_cleanly() {
    char tmp[65536];
    size_t got = 0;
    int rc;
    while ((rc = SSL_read_ex(ssl, tmp, sizeof tmp, &got)) == 1)
      buf.append(tmp, got);
    return SSL_get_error(ssl, rc) == SSL_ERROR_ZERO_RETURN;
  }
};

std::string console_cmd(uint16_t port, const std::string& flags) {
  return "BULWARK_TOKEN=viewer-token timeout 20 " BULWARK_BINARY " console --connect 127.0.0.1:"
         + std::to_string(port) + " " + flags;
}

} // namespace

TEST_CASE("a TLS console: the certificate is checked, clients authenticate and run commands") {
  tls_node tls;
  auto port = tls.node->port;
  tls_client c{port, tls.cert};
  CHECK(c.call({{"id", 1}, {"cmd", "status"}})["error"]["code"] == "AUTHORITY_DENIED");
  auto who = c.call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "operator-token"}}}});
  REQUIRE(who["ok"] == true);
  CHECK(who["result"]["role"] == "operator");
  CHECK(c.call({{"id", 2}, {"cmd", "status"}})["result"]["node"] == "test-node");
  REQUIRE(c.send_raw("not json\n"));
  CHECK(c.read()["error"]["code"] == "INVALID_INPUT");
  CHECK(c.call({{"id", 3}, {"cmd", "halt"}, {"args", {{"reason", "x"}}}})["error"]["code"]
        == "AUTHORITY_DENIED");
  // The command-line client: trusted with --ca, refused with another certificate.
  std::string out;
  CHECK(run_command(console_cmd(port, "--tls --ca " + tls.cert + " --json -c status"), &out) == 0);
  CHECK_MESSAGE(out.find("\"node\":\"test-node\"") != std::string::npos, out);
  test::temp_dir other;
  make_certificate(other.sub("other.crt"), other.sub("other.key"));
  out.clear();
  CHECK(run_command(console_cmd(port, "--tls --ca " + other.sub("other.crt") + " -c status"),
                    &out) == 2);
  CHECK_MESSAGE(out.find("certificate not trusted") != std::string::npos, out);
  out.clear();
  CHECK(run_command(console_cmd(port, "--ca " + tls.cert + " -c status"), &out) == 1);
  CHECK_MESSAGE(out.find("--tls") != std::string::npos, out); // --ca needs --tls
  // The access trail records the TLS session like any other (from seq 1: the first
  // session may begin while the node still journals its fleet).
  auto log = c.call({{"id", 4}, {"cmd", "log"},
                     {"args", {{"from", 1}, {"type", "console_access"}, {"limit", 1000}}}});
  REQUIRE(log["ok"] == true);
  int auths = 0;
  for (auto& e : log["result"]["events"])
    auths += e["type"] == "console_access" && e["payload"]["command"] == "auth";
  CHECK(auths >= 2);
}

TEST_CASE("plaintext and hostile clients on a TLS listener are closed, TLS clients go on") {
  tls_node tls{"idle_timeout_ms = 1500\nmax_line_bytes = 4096\n"};
  auto port = tls.node->port;
  tls_client good{port, tls.cert};
  REQUIRE(good.call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "viewer-token"}}}})["ok"]
          == true);
  auto still_served = [&](int id) {
    return good.call({{"id", id}, {"cmd", "status"}})["result"]["node"] == "test-node";
  };
  {
    client plain{port};
    plain.send_raw(json{{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "viewer-token"}}}}.dump()
                   + "\n");
    CHECK(plain.read().is_null()); // no JSON answer in clear
    CHECK(plain.closed());
  }
  CHECK(still_served(1));
  {
    client garbage{port};
    std::mt19937 rng{7};
    std::string bytes;
    for (int i = 0; i < 8192; ++i)
      bytes.push_back(static_cast<char>(rng()));
    garbage.send_raw(bytes);
    CHECK(garbage.closed());
  }
  CHECK(still_served(2));
  {
    tls_client big{port, tls.cert};
    big.send_raw(std::string(64 * 1024, 'a')); // may fail part way: the node closes
    CHECK(big.closed_cleanly()); // the line limit holds over TLS, ended with close_notify
    CHECK(big.buf.find("line longer than 4096 bytes") != std::string::npos);
  }
  CHECK(still_served(3));
  {
    client silent{port}; // connects, never says hello: the idle timeout closes it
    CHECK(silent.closed(4s));
  }
  tls_client after{port, tls.cert};
  REQUIRE(after.call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "viewer-token"}}}})["ok"]
          == true);
  CHECK(after.call({{"id", 1}, {"cmd", "status"}})["result"]["node"] == "test-node");
  CHECK(tls.node->alive());
}

TEST_CASE("a TLS certificate or key that does not load is refused at start, naming the key") {
  test::temp_dir dir;
  auto cert = dir.sub("c.crt"), key = dir.sub("c.key");
  make_certificate(cert, key);
  test::temp_dir other;
  make_certificate(other.sub("o.crt"), other.sub("o.key"));
  auto start = [&](const std::string& tls_lines) {
    auto cfg = dir.sub("bulwark.toml");
    std::ofstream{cfg} << "[console]\nlisten = \"127.0.0.1:0\"\n" << tls_lines
                       << "[metrics]\nlisten = \"off\"\n";
    std::string out;
    int rc = run_command("timeout -k 5 20 " BULWARK_BINARY " node --config " + cfg + " --data "
                           + dir.sub("journal"),
                         &out);
    return std::make_pair(rc, out);
  };
  auto [rc1, out1] = start("tls_cert = \"" + dir.sub("missing.crt") + "\"\ntls_key = \"" + key
                           + "\"\n");
  CHECK(rc1 == 2);
  CHECK_MESSAGE(out1.find("console.tls_cert: " + dir.sub("missing.crt") + ": cannot be read")
                  != std::string::npos,
                out1);
  auto [rc2, out2] = start("tls_cert = \"" + cert + "\"\n");
  CHECK(rc2 != 0);
  CHECK_MESSAGE(out2.find("console.tls_key: must be set with tls_cert") != std::string::npos,
                out2);
  auto [rc3, out3] = start("tls_cert = \"" + key + "\"\ntls_key = \"" + key + "\"\n");
  CHECK(rc3 == 2);
  CHECK_MESSAGE(out3.find("console.tls_cert: " + key + ": not a PEM certificate")
                  != std::string::npos,
                out3);
  auto [rc4, out4] = start("tls_cert = \"" + cert + "\"\ntls_key = \"" + other.sub("o.key")
                           + "\"\n");
  CHECK(rc4 == 2);
  CHECK_MESSAGE(out4.find("console.tls_key: " + other.sub("o.key") + ": does not match")
                  != std::string::npos,
                out4);
}
