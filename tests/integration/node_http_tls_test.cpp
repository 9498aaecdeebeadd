// The HTTP API over TLS with the console's certificate options: a client that trusts the
// certificate gets answers, a plaintext client gets none, and a key that does not load is
// refused at start.

#include <doctest/doctest.h>

#include <httplib.h>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;

TEST_CASE("http over TLS: verified clients are served, plaintext is not") {
  test::temp_dir certs;
  auto cert = certs.sub("http.crt"), key = certs.sub("http.key");
  std::string out;
  REQUIRE_MESSAGE(run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                              "-nodes -days 2 -subj /CN=localhost -addext "
                              "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "
                                + key + " -out " + cert,
                              &out)
                    == 0,
                  out);
  node_process node{"[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"" + cert + "\"\ntls_key = \""
                    + key + "\"\n"};
  REQUIRE(node.http_port != 0);
  httplib::SSLClient tls{"127.0.0.1", node.http_port};
  tls.set_ca_cert_path(cert.c_str());
  tls.enable_server_certificate_verification(true);
  auto r = tls.Get("/v1/status", {{"Authorization", "Bearer viewer-token"}});
  REQUIRE_MESSAGE(r, httplib::to_string(r.error()));
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["node"] == "test-node");
  CHECK(tls.Get("/readyz")->status == 200);
  // A client that does not trust the certificate fails the handshake.
  httplib::SSLClient untrusting{"127.0.0.1", node.http_port};
  untrusting.enable_server_certificate_verification(true);
  untrusting.set_ca_cert_path(BULWARK_SOURCE_DIR "/tests/support/no-such-ca.pem");
  CHECK(!untrusting.Get("/healthz"));
  // Plain HTTP on the TLS port: no answer, and the node goes on serving TLS clients.
  httplib::Client plain{"127.0.0.1", node.http_port};
  plain.set_read_timeout(2, 0);
  auto p = plain.Get("/healthz");
  CHECK((!p || p->status != 200));
  CHECK(tls.Get("/healthz")->status == 200);
}

TEST_CASE("http over TLS: a key that does not load is refused at start, naming the key") {
  test::temp_dir d;
  auto cfg = d.sub("bulwark.toml");
  std::ofstream{cfg} << "[console]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"off\"\n"
                        "[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"" << d.sub("none.crt")
                     << "\"\ntls_key = \"" << d.sub("none.key") << "\"\n";
  std::string out;
  auto rc = run_command(std::string{BULWARK_BINARY} + " node --config " + cfg + " --data "
                          + d.sub("journal") + " 2>&1",
                        &out);
  CHECK(rc != 0);
  CHECK_MESSAGE(out.find("none.crt") != std::string::npos, out);
  // And a bad [http] key is refused naming it.
  std::ofstream{cfg} << "[http]\nlisten = \"nowhere\"\n";
  rc = run_command(std::string{BULWARK_BINARY} + " node --config " + cfg + " --data "
                     + d.sub("journal") + " 2>&1",
                   &out);
  CHECK(rc != 0);
  CHECK_MESSAGE(out.find("http.listen") != std::string::npos, out);
}
