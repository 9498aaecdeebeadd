// Embedded engines with a [cluster] section, on 127.0.0.1: mutations given to a follower
// run on the leader, a follower cut off from its leader (and a leader short of followers)
// refuses mutations with UNAVAILABLE and retry_after while reads go on.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "bulwark/engine.hpp"
#include "cluster/cluster_engines.hpp"
#include "cluster/cluster_node.hpp"
#include "engine/engine_impl.hpp"
#include "around_caf/write_window.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::change_mode;
using bulwark::test::cluster_plan;
using bulwark::test::temp_dir;
using bulwark::test::start_engine;
using bulwark::test::synced;
using bulwark::test::wait_until;
using bulwark::test::write_config;

TEST_CASE("a mutation given to a follower runs on the leader and replicates back") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto leader = start_engine(dir, write_config(dir, plan, "n1"), "d1");
  REQUIRE(leader);
  std::vector<std::string> applied;
  leader->register_effector("coaster", [&](const effect_request& r) {
    applied.push_back(r.resource);
    return effect_result{};
  });
  for (int i = 0; i < 10; ++i)
    REQUIRE(leader->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
  auto follower = start_engine(dir, write_config(dir, plan, "n2"), "d2");
  REQUIRE(follower);
  CHECK(wait_until([&] { return follower->head() == leader->head(); }));
  auto r = follower->submit(change_mode("k1", "coaster-3")).get();
  CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(r.status == "succeeded");
  CHECK(applied == std::vector<std::string>{"coaster-3"}); // the leader's effector ran it
  CHECK(synced(*leader, *follower));
  CHECK(follower->attribute("coaster-3", "mode") == std::optional<std::string>{"slow"});
  CHECK(applied.size() == 1);
}

TEST_CASE("approvals and interrupts given to a follower run on the leader") {
  using namespace std::chrono_literals;
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto leader = start_engine(dir, write_config(dir, plan, "n1"), "d1");
  REQUIRE(leader);
  std::mutex m;
  std::vector<std::string> applied;
  leader->register_effector("coaster", [&](const effect_request& r) {
    std::lock_guard<std::mutex> lock{m};
    applied.push_back(r.resource + "=" + r.value);
    return effect_result{};
  });
  for (int i = 0; i < 100; ++i) // the blast radius (5 %) allows a few changes among 100
    REQUIRE(leader->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
  auto follower = start_engine(dir, write_config(dir, plan, "n2"), "d2");
  REQUIRE(follower);
  REQUIRE(wait_until([&] { return follower->head() == leader->head(); }));
  // Level 1 waits for an approval; the proposal waits in the leader's pipeline.
  auto f1 = follower->submit(change_mode("k1", "coaster-1", 1));
  REQUIRE(wait_until([&] { return leader->pending().size() == 1; }));
  CHECK(f1.wait_for(0s) != std::future_status::ready);
  CHECK(follower->pending().empty()); // nothing runs on the follower
  auto id = leader->pending().at(0).proposal;
  auto wrong = id;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  auto refused = follower->approve("ops", wrong); // the leader's own answer
  CHECK(refused.code == "INVALID_INPUT");
  CHECK(refused.message.find("no proposal awaits approval") != std::string::npos);
  auto ok = follower->approve("ops", id);
  CHECK_MESSAGE(ok.ok, ok.code << ": " << ok.message);
  CHECK(ok.seq > 0); // the seq of the leader's approval_granted event
  REQUIRE(f1.wait_for(30s) == std::future_status::ready);
  auto r1 = f1.get();
  CHECK(r1.status == "succeeded");
  CHECK(r1.proposal == id);
  // A denial through the follower.
  auto f2 = follower->submit(change_mode("k2", "coaster-2", 1));
  REQUIRE(wait_until([&] { return leader->pending().size() == 1; }));
  CHECK(follower->approve("ops", leader->pending().at(0).proposal, false).ok);
  REQUIRE(f2.wait_for(30s) == std::future_status::ready);
  CHECK(f2.get().status == "denied");
  // Level 3 observes between steps; an interrupt given to the follower rolls it back.
  auto f3 = follower->submit([] {
    auto p = change_mode("k3", "coaster-0", 3);
    p.changes.push_back({"coaster-2", "mode", "fast"});
    return p;
  }());
  REQUIRE(wait_until([&] { return leader->running().size() == 1; }));
  REQUIRE(wait_until([&] {
    std::lock_guard<std::mutex> lock{m};
    return std::find(applied.begin(), applied.end(), "coaster-0=slow") != applied.end();
  }));
  auto running = leader->running().at(0).proposal;
  auto stop = follower->interrupt("ops", running);
  CHECK_MESSAGE(stop.ok, stop.code << ": " << stop.message);
  REQUIRE(f3.wait_for(30s) == std::future_status::ready);
  auto r3 = f3.get();
  CHECK(r3.status == "interrupted");
  CHECK(r3.applied == 1);
  CHECK(r3.compensated == 1);
  CHECK(follower->interrupt("ops", running).code == "INVALID_INPUT"); // as on the leader
  CHECK(follower->approve("ops", "not-a-digest").code == "INVALID_INPUT");
  // Everything the leader journaled reaches the follower, state digests equal.
  CHECK(synced(*leader, *follower));
  std::lock_guard<std::mutex> lock{m};
  CHECK(std::count(applied.begin(), applied.end(), "coaster-1=slow") == 1);
  CHECK(std::count(applied.begin(), applied.end(), "coaster-2=fast") == 0); // interrupted first
}

TEST_CASE("reads on a follower carry its head seq and role") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto leader = start_engine(dir, write_config(dir, plan, "n1"), "d1");
  REQUIRE(leader);
  for (int i = 0; i < 5; ++i)
    REQUIRE(leader->register_resource("coaster-" + std::to_string(i), "coaster", "north",
                                      {{"mode", "normal"}}).ok);
  auto follower = start_engine(dir, write_config(dir, plan, "n2"), "d2");
  REQUIRE(follower);
  REQUIRE(wait_until([&] { return follower->head() == leader->head(); }));
  auto head = follower->head().first; // the leader journals nothing more unless asked
  auto read = follower->read_attribute("coaster-3", "mode");
  CHECK(read.value == std::optional<std::string>{"normal"});
  CHECK(read.head_seq == head);
  auto missing = follower->read_attribute("coaster-9", "mode");
  CHECK(!missing.value);
  CHECK(missing.head_seq == head);
  std::optional<cluster_info> info;
  CHECK(wait_until([&] {
    info = follower->cluster_status();
    return info && info->leader_head == head;
  }));
  REQUIRE(info);
  CHECK(info->node_id == "n2");
  CHECK(info->role == "follower");
  CHECK(info->leader == "n1");
  CHECK(info->head_seq == head);
  CHECK(info->lag == 0);
  CHECK(!info->writable);
  CHECK(!info->replication_stopped);
  REQUIRE(info->peers.size() == 1);
  CHECK(info->peers[0].node_id == "n1");
  CHECK(info->peers[0].connected);
  auto lead = leader->cluster_status();
  REQUIRE(lead);
  CHECK(lead->role == "leader");
  CHECK(lead->writable);
  CHECK(lead->head_seq == head);
  // The leader moves on: its reads carry its newer head; the follower's catch up.
  uint64_t last = 0;
  for (int i = 5; i < 8; ++i) {
    auto r = leader->register_resource("coaster-" + std::to_string(i), "coaster", "north");
    REQUIRE(r.ok);
    last = r.seq;
  }
  CHECK(last > head);
  CHECK(leader->read_attribute("coaster-7", "service").head_seq >= last);
  CHECK(wait_until([&] { return follower->read_attribute("coaster-7", "service").head_seq >= last; }));
  // The leader gone: the follower still serves reads, saying which seq they reflect.
  leader.reset();
  CHECK(wait_until([&] {
    info = follower->cluster_status();
    return info && !info->peers.at(0).connected;
  }));
  auto stale = follower->read_attribute("coaster-3", "mode");
  CHECK(stale.value == std::optional<std::string>{"normal"});
  CHECK(stale.head_seq >= last);
  CHECK(stale.head_seq == follower->head().first);
  CHECK(info->head_seq == follower->head().first);
  CHECK(!follower->register_resource("coaster-9", "coaster", "north").ok); // no leader
}

TEST_CASE("a follower cut off from its leader refuses mutations and serves reads") {
  temp_dir dir;
  auto plan = cluster_plan::make(2); // n1 never starts
  auto follower = start_engine(dir, write_config(dir, plan, "n2"), "d2");
  REQUIRE(follower);
  auto r = follower->submit(change_mode("k1", "coaster-1")).get();
  CHECK(!r.ok);
  CHECK(r.code == "UNAVAILABLE");
  CHECK(r.message.find("cannot reach the leader n1") != std::string::npos);
  CHECK(r.retry_after);
  // Reads: head, digest, verify and attributes are served from the local copy.
  CHECK(follower->head().first == 0);
  CHECK(!follower->state_digest().empty());
  CHECK(follower->verify().ok);
  CHECK(!follower->register_resource("x", "coaster", "north").ok); // a write: refused
  // Approvals and interrupts are mutations too: refused the same way.
  auto a = follower->approve("ops", std::string(64, 'a'));
  CHECK(a.code == "UNAVAILABLE");
  CHECK(a.message.find("cannot reach the leader n1") != std::string::npos);
  CHECK(a.retry_after);
  auto i = follower->interrupt("ops", std::string(64, 'b'));
  CHECK(i.code == "UNAVAILABLE");
  CHECK(i.retry_after);
  auto info = follower->cluster_status();
  REQUIRE(info);
  CHECK(info->role == "follower");
  CHECK(info->head_seq == 0);
  CHECK(!info->writable);
}

TEST_CASE("a leader with fewer than min_followers refuses mutations until one connects") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto leader = start_engine(dir, write_config(dir, plan, "n1", 1), "d1");
  REQUIRE(leader);
  leader->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  auto r = leader->submit(change_mode("k1", "coaster-0")).get();
  CHECK(r.code == "UNAVAILABLE");
  CHECK(r.message.find("fewer than 1 followers") != std::string::npos);
  CHECK(r.retry_after);
  // Operator commands are mutations too: refused the same way. Registrations are not held
  // back (a node registers its fleet at start, before followers connect).
  auto halt = leader->halt("admin", "drill");
  CHECK(halt.code == "UNAVAILABLE");
  CHECK(halt.message.find("fewer than 1 followers") != std::string::npos);
  CHECK(halt.retry_after);
  CHECK(leader->grant("admin", "agent", 1).code == "UNAVAILABLE");
  REQUIRE(leader->register_resource("coaster-0", "coaster", "north").ok);
  auto follower = start_engine(dir, write_config(dir, plan, "n2"), "d2");
  REQUIRE(follower);
  result ok;
  CHECK(wait_until([&] {
    ok = leader->submit(change_mode("k2", "coaster-0")).get();
    return ok.ok;
  }));
  CHECK(ok.status == "succeeded");
}

TEST_CASE("a leader's write window is open only while it may write, and closes when its "
          "follower goes") {
  using namespace std::chrono_literals;
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto leader = start_engine(dir, write_config(dir, plan, "n1", 1), "d1");
  REQUIRE(leader);
  leader->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  REQUIRE(leader->register_resource("coaster-0", "coaster", "north").ok);
  auto& window = *leader->internals().local_writes;
  // Short of followers: closed, and the cluster actor refuses as before.
  CHECK(!window.open());
  auto r = leader->submit(change_mode("k1", "coaster-0")).get();
  CHECK(r.code == "UNAVAILABLE");
  CHECK(r.message.find("fewer than 1 followers") != std::string::npos);
  auto follower = start_engine(dir, write_config(dir, plan, "n2"), "d2");
  REQUIRE(follower);
  CHECK(wait_until([&] { return window.open(); }));
  // Open: the leader's own admission takes its proposals.
  r = leader->submit(change_mode("k2", "coaster-0")).get();
  CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(r.status == "succeeded");
  // A follower's window never opens: its proposals ask its cluster actor, which forwards.
  CHECK(!follower->internals().local_writes->open());
  r = follower->submit(change_mode("k3", "coaster-0")).get();
  CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
  // The follower gone: its connection's failure closes the window long before the 5 s
  // of silence would, and the leader refuses again.
  follower.reset();
  auto gone = std::chrono::steady_clock::now();
  CHECK(wait_until([&] { return !window.open(); }));
  CHECK(std::chrono::steady_clock::now() - gone < 3s);
  r = leader->submit(change_mode("k4", "coaster-0")).get();
  CHECK(r.code == "UNAVAILABLE");
  CHECK(r.message.find("fewer than 1 followers") != std::string::npos);
}

TEST_CASE("a bad [cluster] section stops the engine from starting, naming the key") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto path = write_config(dir, plan, "n1");
  std::ofstream{path, std::ios::app} << "";
  auto edit = [&](const std::string& from, const std::string& to) {
    std::ifstream in{path};
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    text.replace(text.find(from), from.size(), to);
    std::ofstream{dir.sub("bad.toml")} << text;
  };
  std::string err;
  edit("leader = \"n1\"", "leader = \"n7\"");
  CHECK(!start_engine(dir, dir.sub("bad.toml"), "d1", &err));
  CHECK(err.find("cluster.leader") != std::string::npos);
  edit("peers = [\"n2@", "peers = [\"n2#");
  CHECK(!start_engine(dir, dir.sub("bad.toml"), "d2", &err));
  CHECK(err.find("cluster.peers") != std::string::npos);
  edit("key = \"n1.key\"", "key = \"missing.key\"");
  CHECK(!start_engine(dir, dir.sub("bad.toml"), "d3", &err));
  CHECK(err.find("cluster.key") != std::string::npos);
  // The listen port taken by another node: refused after the journal started, cleanly.
  auto n1 = start_engine(dir, path, "d4");
  REQUIRE(n1);
  edit("listen = \"127.0.0.1:" + std::to_string(plan.nodes[0].port),
       "listen = \"127.0.0.1:" + std::to_string(plan.nodes[0].port));
  CHECK(!start_engine(dir, dir.sub("bad.toml"), "d5", &err));
  CHECK(err.find("cluster.listen") != std::string::npos);
}

namespace {

/// Writes a self-signed certificate and its key as NAME.pem and NAME.key in `dir`.
void make_certificate(const temp_dir& dir, const std::string& name) {
  auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + name
             + " -keyout " + dir.sub(name + ".key") + " -out " + dir.sub(name + ".pem")
             + " 2>/dev/null";
  REQUIRE(bulwark::test::run_command(cmd) == 0);
}

std::string tls_keys(const std::string& cert, const std::string& ca) {
  return "tls_cert = \"" + cert + ".pem\"\ntls_key = \"" + cert + ".key\"\ntls_ca = \"" + ca
         + "\"\n";
}

} // namespace

TEST_CASE("TLS between nodes: the cluster's certificate connects, any other cannot") {
  temp_dir dir;
  make_certificate(dir, "cluster");
  make_certificate(dir, "rogue");
  {
    // The rogue trusts the cluster's certificate, but the cluster does not trust the rogue's.
    std::ifstream a{dir.sub("cluster.pem")}, b{dir.sub("rogue.pem")};
    std::ofstream{dir.sub("both.pem")} << a.rdbuf() << b.rdbuf();
  }
  auto plan = cluster_plan::make(3);
  auto tls = tls_keys("cluster", "cluster.pem");
  auto leader = start_engine(dir, write_config(dir, plan, "n1", 0, tls), "d1");
  REQUIRE(leader);
  leader->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  for (int i = 0; i < 100; ++i)
    REQUIRE(leader->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
  auto follower = start_engine(dir, write_config(dir, plan, "n2", 0, tls), "d2");
  REQUIRE(follower);
  CHECK(wait_until([&] { return follower->head() == leader->head(); }));
  auto r = follower->submit(change_mode("k1", "coaster-1")).get(); // routed over TLS
  CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(synced(*leader, *follower));
  // n3 with a certificate the cluster's CA did not sign: never connected, nothing copied.
  auto rogue = start_engine(dir, write_config(dir, plan, "n3", 0, tls_keys("rogue", "both.pem")),
                            "d3");
  REQUIRE(rogue);
  CHECK(!wait_until([&] { return rogue->head().first > 0; }, std::chrono::seconds{3}));
  auto info = rogue->cluster_status();
  REQUIRE(info);
  for (auto& p : info->peers)
    CHECK(!p.connected);
  // The nodes dialing it (smaller ids dial over TLS) name the failed TLS handshake.
  auto lead = leader->cluster_status();
  REQUIRE(lead);
  for (auto& p : lead->peers)
    if (p.node_id == "n3") {
      CHECK(!p.connected);
      CHECK(p.problem.find("handshake") != std::string::npos);
    }
  CHECK(rogue->submit(change_mode("k2", "coaster-2")).get().code == "UNAVAILABLE");
  // n3 without TLS at all: a plain connection to a TLS node is no connection either.
  rogue.reset();
  auto plain = start_engine(dir, write_config(dir, plan, "n3"), "d4");
  REQUIRE(plain);
  CHECK(!wait_until([&] { return plain->head().first > 0; }, std::chrono::seconds{3}));
  CHECK(plain->head().first == 0);
  // The cluster itself keeps working (caf_openssl drops a node's other TLS connections
  // when a handshake fails; they reconnect within the backoff base, so retry briefly).
  result r3;
  CHECK(wait_until([&] {
    r3 = follower->submit(change_mode("k3", "coaster-3")).get();
    return r3.ok || r3.code != "UNAVAILABLE";
  }));
  CHECK_MESSAGE(r3.ok, r3.code << ": " << r3.message);
  CHECK(wait_until([&] { return follower->head() == leader->head(); }));
}

TEST_CASE("a partial TLS configuration is refused, naming the missing key") {
  temp_dir dir;
  make_certificate(dir, "cluster");
  auto plan = cluster_plan::make(2);
  std::string err;
  auto only_cert = "tls_cert = \"cluster.pem\"\n";
  CHECK(!start_engine(dir, write_config(dir, plan, "n1", 0, only_cert), "d1", &err));
  CHECK(err.find("cluster.tls_key") != std::string::npos);
  CHECK(err.find("all three or none") != std::string::npos);
  auto no_ca = "tls_cert = \"cluster.pem\"\ntls_key = \"cluster.key\"\n";
  CHECK(!start_engine(dir, write_config(dir, plan, "n1", 0, no_ca), "d2", &err));
  CHECK(err.find("cluster.tls_ca") != std::string::npos);
  CHECK(!start_engine(dir, write_config(dir, plan, "n1", 0, tls_keys("cluster", "missing.pem")),
                      "d3", &err));
  CHECK(err.find("cluster.tls_ca: cannot read") != std::string::npos);
  auto only_ca = "tls_ca = \"cluster.pem\"\n";
  CHECK(!start_engine(dir, write_config(dir, plan, "n1", 0, only_ca), "d4", &err));
  CHECK(err.find("cluster.tls_cert") != std::string::npos);
  // (All three start: the test above.)
}

TEST_CASE("a restarted follower rebuilds no flight of its leader's, the leader runs it once") {
  using namespace std::chrono_literals;
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto leader = start_engine(dir, write_config(dir, plan, "n1"), "d1");
  REQUIRE(leader);
  std::atomic<int> leader_calls{0}, follower_calls{0};
  leader->register_effector("coaster", [&](const effect_request&) {
    ++leader_calls;
    return effect_result{};
  });
  for (int i = 0; i < 100; ++i)
    REQUIRE(leader->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
  auto f1 = leader->submit(change_mode("k1", "coaster-1", 1));
  REQUIRE(wait_until([&] { return leader->pending().size() == 1; }));
  auto id = leader->pending().at(0).proposal;
  auto start_follower = [&] {
    auto f = start_engine(dir, write_config(dir, plan, "n2"), "d2");
    REQUIRE(f);
    f->register_effector("coaster", [&](const effect_request&) {
      ++follower_calls;
      return effect_result{};
    });
    return f;
  };
  auto follower = start_follower();
  REQUIRE(wait_until([&] { return follower->head() == leader->head(); }));
  // The waiting flight is in the follower's journal: its restart (process, then pipeline)
  // rebuilds nothing and journals nothing; the leader's pipeline holds it.
  follower->stop();
  follower.reset();
  follower = start_follower();
  CHECK(follower->pending().empty());
  REQUIRE(follower->chaos_enable(true).ok);
  REQUIRE(follower->chaos_kill("pipeline").ok);
  REQUIRE(wait_until([&] { return follower->head() == leader->head(); }));
  CHECK(follower->pending().empty());
  CHECK(leader->pending().size() == 1);
  // Runs on the leader; until the restarted follower has reached it again, the follower
  // answers UNAVAILABLE (nothing sent), so the approval is given again.
  auto ok = follower->approve("ops", id);
  for (int i = 0; i < 200 && ok.code == "UNAVAILABLE"; ++i) {
    std::this_thread::sleep_for(50ms);
    ok = follower->approve("ops", id);
  }
  CHECK_MESSAGE(ok.ok, ok.code << ": " << ok.message);
  REQUIRE(f1.wait_for(30s) == std::future_status::ready);
  CHECK(f1.get().status == "succeeded");
  CHECK(synced(*leader, *follower));
  CHECK(leader_calls == 1);
  CHECK(follower_calls == 0);
  CHECK(test::count(*leader, "proposal_finished") == 1);
}
