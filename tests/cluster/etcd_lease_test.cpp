// The leader's lease in a real etcd: the gateway client, the lease policy, and the checks
// a node runs at start (unreachable etcd, wrong credentials, a prefix or leader key of
// another cluster).

#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "caf/scoped_actor.hpp"

#include "actors/cluster/lease_keeper.hpp"
#include "actors/cluster/lease_policy.hpp"
#include "cluster/cluster_node.hpp"
#include "cluster/etcd_process.hpp"
#include "messages/commands.hpp"
#include "messages/error.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::etcd_process;
using bulwark::test::temp_dir;

namespace {

std::string message_of(const caf::error& err) {
  return err ? describe(err).message : std::string{};
}

} // namespace

TEST_CASE("base64 for the gateway is the standard alphabet with padding, and round-trips") {
  CHECK(to_base64("") == "");
  CHECK(to_base64("f") == "Zg==");
  CHECK(to_base64("fo") == "Zm8=");
  CHECK(to_base64("foo") == "Zm9v");
  CHECK(to_base64("\xfb\xff") == "+/8=");
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "/bulwark/leader", std::string(1000, '\x01')})
    CHECK(from_base64(to_base64(s)) == s);
  CHECK(!from_base64("abc"));   // not a multiple of 4
  CHECK(!from_base64("a$c="));  // not the alphabet
}

TEST_CASE("the leader key's value names the cluster and the node, and anything else is not ours") {
  auto v = encode_holder({"prod", "n2"});
  auto h = decode_holder(v);
  REQUIRE(h);
  CHECK(h->cluster_id == "prod");
  CHECK(h->node_id == "n2");
  CHECK(!decode_holder("n2"));
  CHECK(!decode_holder("{\"node_id\":\"n2\"}"));
  CHECK(!decode_holder("{\"cluster_id\":1,\"node_id\":\"n2\"}"));
}

TEST_CASE("a holder writes until the renewal's send time plus the granted TTL less the margin") {
  using tp = std::chrono::steady_clock::time_point;
  auto sent = tp{std::chrono::seconds{100}};
  CHECK(lease_deadline(sent, 2, std::chrono::milliseconds{500})
        == tp{std::chrono::milliseconds{101500}});
}

TEST_CASE("[cluster.etcd] settings are checked, each refusal naming its key") {
  etcd_settings ok;
  ok.endpoints = {"http://127.0.0.1:2379"};
  CHECK(!check_etcd_settings(ok));
  auto refused = [&](auto change) {
    auto s = ok;
    change(s);
    return message_of(check_etcd_settings(s));
  };
  CHECK(refused([](etcd_settings& s) { s.endpoints.clear(); }).rfind("cluster.etcd.endpoints:", 0) == 0);
  CHECK(refused([](etcd_settings& s) { s.endpoints = {"127.0.0.1:2379"}; })
          .rfind("cluster.etcd.endpoints:", 0) == 0);
  CHECK(refused([](etcd_settings& s) { s.endpoints = {"http://127.0.0.1:2379/v3"}; })
          .rfind("cluster.etcd.endpoints:", 0) == 0);
  CHECK(refused([](etcd_settings& s) { s.prefix = "/bulwark"; }).rfind("cluster.etcd.prefix:", 0) == 0);
  // A lease TTL below the renewal interval could never be renewed in time.
  CHECK(refused([](etcd_settings& s) {
          s.lease_ttl_s = 1;
          s.renew = std::chrono::milliseconds{1500};
        }).rfind("cluster.etcd.lease_ttl: is below the renewal interval", 0) == 0);
  CHECK(refused([](etcd_settings& s) { s.margin = std::chrono::milliseconds{4000}; })
          .rfind("cluster.etcd.margin_ms:", 0) == 0);
  CHECK(refused([](etcd_settings& s) { s.request_timeout = std::chrono::milliseconds{1000}; })
          .rfind("cluster.etcd.request_timeout_ms:", 0) == 0);
  CHECK(refused([](etcd_settings& s) { s.tls_cert = "/etc/hostname"; })
          .rfind("cluster.etcd.tls_key:", 0) == 0);
  CHECK(refused([](etcd_settings& s) { s.user = "root"; }).rfind("cluster.etcd.password_file:", 0) == 0);
}

TEST_CASE("the gateway grants, renews and revokes leases and runs the election transaction") {
  temp_dir dir;
  etcd_process etcd{dir.sub("etcd")};
  etcd_gateway gw{etcd.settings()};
  REQUIRE(gw.cluster_id());
  CHECK(*gw.cluster_id() != 0);
  test::check_lease_cycle(gw);
}

TEST_CASE("the gateway moves to the next endpoint when one refuses connections") {
  temp_dir dir;
  etcd_process etcd{dir.sub("etcd")};
  auto s = etcd.settings();
  s.endpoints = {"http://127.0.0.1:" + std::to_string(test::free_port()), etcd.endpoint()};
  etcd_gateway gw{s};
  REQUIRE(gw.cluster_id());
  CHECK(gw.endpoint() == etcd.endpoint());
  // No endpoint answers: an error naming the last one tried, within the request timeouts.
  etcd.stop(SIGKILL);
  auto t0 = std::chrono::steady_clock::now();
  auto id = gw.cluster_id();
  CHECK(!id);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{3});
  CHECK(message_of(id.error()).find("etcd http://127.0.0.1:") != std::string::npos);
}

TEST_CASE("a node refuses to start on an unreachable etcd, wrong credentials, or another "
          "cluster's prefix or leader key, naming the key") {
  temp_dir dir;
  // Unreachable.
  etcd_settings nowhere;
  nowhere.endpoints = {"http://127.0.0.1:" + std::to_string(test::free_port())};
  nowhere.request_timeout = std::chrono::milliseconds{300};
  auto err = message_of(check_etcd_at_start(nowhere, "prod"));
  CHECK(err.rfind("cluster.etcd.endpoints: cannot use etcd: ", 0) == 0);

  etcd_process etcd{dir.sub("etcd")};
  // The first cluster claims the prefix; the same cluster may start again.
  CHECK(message_of(check_etcd_at_start(etcd.settings("/shared/"), "prod")) == "");
  CHECK(message_of(check_etcd_at_start(etcd.settings("/shared/"), "prod")) == "");
  // Another cluster id on that prefix is refused.
  err = message_of(check_etcd_at_start(etcd.settings("/shared/"), "staging"));
  CHECK(err == "cluster.etcd.prefix: \"/shared/\" belongs to cluster \"prod\", not "
               "\"staging\": choose another prefix");
  // A leader key naming another cluster (its prefix claimed by ours) is refused.
  etcd_gateway gw{etcd.settings()};
  REQUIRE(gw.campaign("/odd/leader", encode_holder({"other", "x1"}), 0));
  err = message_of(check_etcd_at_start(etcd.settings("/odd/"), "prod"));
  CHECK(err.find("cluster.etcd.prefix: /odd/leader names cluster \"other\"") == 0);

  // With authentication on, a wrong password is refused naming the user key.
  REQUIRE(etcd.etcdctl("user add root:rootpw") == 0);
  REQUIRE(etcd.etcdctl("role add root") == 0);
  REQUIRE(etcd.etcdctl("user grant-role root root") == 0);
  REQUIRE(etcd.etcdctl("auth enable") == 0);
  std::ofstream{dir.sub("good.pw")} << "rootpw\n";
  std::ofstream{dir.sub("bad.pw")} << "wrong\n";
  auto s = etcd.settings("/auth/");
  s.user = "root";
  s.password_file = dir.sub("bad.pw");
  err = message_of(check_etcd_at_start(s, "prod"));
  CHECK(err.rfind("cluster.etcd.user: etcd refused the credentials of user root", 0) == 0);
  s.password_file = dir.sub("good.pw");
  CHECK(message_of(check_etcd_at_start(s, "prod")) == "");
  // Without credentials, etcd with authentication refuses.
  CHECK(message_of(check_etcd_at_start(etcd.settings("/auth/"), "prod")) != "");
}

TEST_CASE("only a node's own lease keeper speaks for the lease: a forged report and a manual promotion change nothing, and without etcd the leader stops writing") {
  temp_dir dir;
  etcd_process etcd{dir.sub("etcd")};
  auto plan = test::cluster_plan::make(1);
  auto cfg = plan.config_of("n1");
  cfg.elected = true;
  cfg.leader.clear();
  test::cluster_node n1{dir.sub("n1"), cfg, plan.keys.at("n1"), plan.pubkeys, etcd.settings()};
  // Alone, it takes the key and leads under the key's revision.
  REQUIRE(test::wait_until([&] { return n1.status().writable; }));
  auto before = n1.status();
  CHECK(before.role == "leader");
  CHECK(before.lease_holder == "n1");
  CHECK(before.term == before.lease_term);
  CHECK(before.term > 1);
  // A lease report from anyone but its keeper (a peer, a forger) is ignored.
  caf::scoped_actor self{n1.system()};
  self->send(n1.actor(), atom::lease_v, std::string{"n9"}, uint64_t{1000000}, int64_t{0},
             std::string{});
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  auto after = n1.status();
  CHECK(after.writable);
  CHECK(after.term == before.term);
  CHECK(after.lease_holder == "n1");
  // cluster-promote is off.
  auto promoted = n1.promote(before.term + 1000);
  REQUIRE(!promoted);
  CHECK(message_of(promoted.error()).find("cluster-promote is off") != std::string::npos);
  CHECK(n1.append(test::random_events(71, 3)) == caf::error{});
  // etcd stops answering: the leader stops writing within its lease, and an append is
  // refused; etcd back, it leads again.
  etcd.signal(SIGSTOP);
  CHECK(test::wait_until([&] { return !n1.status().writable; }, std::chrono::seconds{5}));
  auto refused = n1.append(test::random_events(72, 1));
  CHECK(is(refused, ec::unavailable));
  CHECK(!n1.status().lease_problem.empty());
  // A mutation routed to it meanwhile is refused: it stopped leading (on its next tick
  // after its journal's fence), and knows no leader.
  CHECK(test::wait_until([&] { return n1.status().role != "leader"; }, std::chrono::seconds{5}));
  std::string why;
  self->request(n1.actor(), std::chrono::seconds{5}, atom::interrupt_v, interrupt{})
    .receive([&](seq_no) { why = "it ran"; }, [&](caf::error& err) { why = message_of(err); });
  CHECK(why == "n1 stopped leading term " + std::to_string(before.term)
                 + " and knows of no leader since");
  etcd.signal(SIGCONT);
  CHECK(test::wait_until([&] { return n1.status().writable; }, std::chrono::seconds{15}));
  CHECK(n1.append(test::random_events(73, 1)) == caf::error{});
  CHECK(test::wait_until([&] { return n1.status().lease_renewals > 0; }, std::chrono::seconds{5}));
}
