// etcd over TLS with client certificates required (`--client-cert-auth`): the gateway and a
// node reach it with the CA and a client certificate; a CA etcd's certificate does not
// chain to, a missing or foreign client certificate, and a wrong password are refused at
// start with an error that names the endpoint and what failed.

#include <doctest/doctest.h>

#include <fstream>

#include "actors/cluster/lease_keeper.hpp"
#include "cluster/cluster_node.hpp"
#include "cluster/etcd_process.hpp"
#include "messages/error.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::etcd_process;
using bulwark::test::etcd_tls;
using bulwark::test::temp_dir;

namespace {

std::string message_of(const caf::error& err) {
  return err ? describe(err).message : std::string{};
}

/// `text` cut to the length of `expected`, so that a failed check prints both.
std::string head(const std::string& text, const std::string& expected) {
  return text.substr(0, expected.size());
}

} // namespace

TEST_CASE("over TLS with a client certificate the gateway grants, renews and revokes leases "
          "and runs the election transaction") {
  temp_dir dir;
  etcd_process etcd{dir.sub("etcd"), etcd_tls::make(dir.sub("pki"))};
  REQUIRE(head(etcd.endpoint(), "https://") == "https://");
  etcd_gateway gw{etcd.settings()};
  REQUIRE(gw.cluster_id());
  CHECK(*gw.cluster_id() != 0);
  test::check_lease_cycle(gw);
}

TEST_CASE("over TLS a node passes the start checks, takes the lease and renews it") {
  temp_dir dir;
  etcd_process etcd{dir.sub("etcd"), etcd_tls::make(dir.sub("pki"))};
  auto plan = test::cluster_plan::make(1);
  CHECK(message_of(check_etcd_at_start(etcd.settings(), plan.cluster_id)) == "");
  auto cfg = plan.config_of("n1");
  cfg.elected = true;
  cfg.leader.clear();
  test::cluster_node n1{dir.sub("n1"), cfg, plan.keys.at("n1"), plan.pubkeys, etcd.settings()};
  REQUIRE(test::wait_until([&] { return n1.status().writable; }));
  auto st = n1.status();
  CHECK(st.role == "leader");
  CHECK(st.lease_holder == "n1");
  CHECK(st.term == st.lease_term);
  CHECK(st.lease_problem == "");
  CHECK(test::wait_until([&] { return n1.status().lease_renewals >= 2; },
                         std::chrono::seconds{5}));
  CHECK(n1.status().writable);
}

TEST_CASE("over TLS a node refuses to start when etcd's certificate does not chain to tls_ca, "
          "naming the endpoint and the CA") {
  temp_dir dir;
  etcd_process etcd{dir.sub("etcd"), etcd_tls::make(dir.sub("pki"))};
  auto unrelated = etcd_tls::make(dir.sub("other-pki"));
  auto s = etcd.settings();
  s.tls_ca = unrelated.ca;
  auto refused = "cluster.etcd.endpoints: cannot use etcd: etcd " + etcd.endpoint()
                 + ": TLS failed: etcd's certificate does not verify against ";
  auto expected = refused + "tls_ca " + unrelated.ca + " (";
  CHECK(head(message_of(check_etcd_at_start(s, "prod")), expected) == expected);
  // Without tls_ca the system's CAs are used, and they do not know the test CA either.
  s.tls_ca.clear();
  expected = refused + "the system's CAs (tls_ca is not set) (";
  CHECK(head(message_of(check_etcd_at_start(s, "prod")), expected) == expected);
}

TEST_CASE("over TLS a node refuses to start without a client certificate, or with one etcd "
          "does not trust, when etcd requires client certificates") {
  temp_dir dir;
  etcd_process etcd{dir.sub("etcd"), etcd_tls::make(dir.sub("pki"))};
  auto refused = "cluster.etcd.endpoints: cannot use etcd: etcd " + etcd.endpoint()
                 + ": TLS failed: etcd ended the handshake: ";
  auto s = etcd.settings();
  s.tls_cert.clear();
  s.tls_key.clear();
  // Several times: over TLS 1.3 etcd's refusal meets the client's first write or read.
  auto expected = refused + "no client certificate is set (tls_cert, tls_key) and etcd may "
                            "require one (--client-cert-auth) (";
  for (int i = 0; i < 5; ++i)
    CHECK(head(message_of(check_etcd_at_start(s, "prod")), expected) == expected);
  auto unrelated = etcd_tls::make(dir.sub("other-pki"));
  s.tls_cert = unrelated.client_cert;
  s.tls_key = unrelated.client_key;
  expected = refused + "it may not accept the client certificate tls_cert "
             + unrelated.client_cert + " (";
  CHECK(head(message_of(check_etcd_at_start(s, "prod")), expected) == expected);
}

TEST_CASE("over TLS with etcd's authentication on, the user's password is accepted and a "
          "wrong one refused") {
  temp_dir dir;
  etcd_process etcd{dir.sub("etcd"), etcd_tls::make(dir.sub("pki"))};
  REQUIRE(etcd.etcdctl("user add root:rootpw") == 0);
  REQUIRE(etcd.etcdctl("role add root") == 0);
  REQUIRE(etcd.etcdctl("user grant-role root root") == 0);
  REQUIRE(etcd.etcdctl("auth enable") == 0);
  std::ofstream{dir.sub("good.pw")} << "rootpw\n";
  std::ofstream{dir.sub("bad.pw")} << "wrong\n";
  auto s = etcd.settings("/auth/");
  s.user = "root";
  s.password_file = dir.sub("bad.pw");
  std::string expected = "cluster.etcd.user: etcd refused the credentials of user root";
  CHECK(head(message_of(check_etcd_at_start(s, "prod")), expected) == expected);
  s.password_file = dir.sub("good.pw");
  CHECK(message_of(check_etcd_at_start(s, "prod")) == "");
  // etcd takes no client certificate that has a CommonName at its JSON gateway once
  // authentication is on, whatever the password.
  auto named = s;
  named.tls_cert = etcd.tls->named_cert;
  named.tls_key = etcd.tls->named_key;
  expected = "cluster.etcd.endpoints: cannot use etcd: etcd " + etcd.endpoint()
             + " auth/authenticate: HTTP 400: with its authentication on, etcd refuses a "
               "client certificate that has a CommonName at its JSON gateway: tls_cert "
             + named.tls_cert + " needs a subject without CN (etcd: CommonName of client";
  CHECK(head(message_of(check_etcd_at_start(named, "prod")), expected) == expected);
  etcd_gateway gw{s};
  auto lease = gw.grant(2);
  REQUIRE(lease);
  auto ttl = gw.keepalive(lease->id);
  REQUIRE(ttl);
  CHECK(*ttl == 2);
  // Without a user, etcd refuses.
  CHECK(message_of(check_etcd_at_start(etcd.settings("/auth/"), "prod")).find("user name is empty")
        != std::string::npos);
}
