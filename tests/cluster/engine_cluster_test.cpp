// Embedded engines with a [cluster] section, on 127.0.0.1: mutations given to a follower
// run on the leader, a follower cut off from its leader (and a leader short of followers)
// refuses mutations with UNAVAILABLE and retry_after while reads go on.

#include <doctest/doctest.h>

#include <fstream>

#include "bulwark/engine.hpp"
#include "cluster/cluster_node.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_plan;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;

namespace {

/// Writes n<i>.toml and the key files of `plan` into `dir`.
std::string write_config(const temp_dir& dir, const cluster_plan& plan, const std::string& id,
                         uint32_t min_followers = 0) {
  auto cfg = plan.config_of(id);
  auto key = dir.sub(id + ".key");
  (void) plan.keys.at(id)->write_private(key);
  std::ofstream f{dir.sub(id + ".toml")};
  f << "[cluster]\nnode_id = \"" << id << "\"\ncluster_id = \"" << cfg.cluster_id
    << "\"\nlisten = \"127.0.0.1:" << cfg.listen_port << "\"\nleader = \"" << cfg.leader
    << "\"\nmin_followers = " << min_followers << "\nkey = \"" << id << ".key\"\npeers = [";
  for (size_t i = 0; i < cfg.peers.size(); ++i)
    f << (i ? ", " : "") << '"' << cfg.peers[i].node_id << "@127.0.0.1:" << cfg.peers[i].port
      << '"';
  f << "]\n[cluster.pubkeys]\n";
  for (auto& p : cfg.peers) {
    auto pub = dir.sub(p.node_id + ".pub");
    (void) ed25519_key::from_raw_public(plan.pubkeys.at(p.node_id))->write_public(pub);
    f << p.node_id << " = \"" << p.node_id << ".pub\"\n";
  }
  return dir.sub(id + ".toml");
}

std::unique_ptr<engine> start_engine(const temp_dir& dir, const std::string& config,
                                     const std::string& data, std::string* error = nullptr) {
  engine_options opts;
  opts.config_file = config;
  opts.data_dir = dir.sub(data);
  opts.admins = {"admin"};
  opts.grants = {{"agent", 4}};
  opts.enforce_enabled = true;
  std::string err;
  auto eng = engine::start(opts, &err);
  if (error != nullptr)
    *error = err;
  return eng;
}

proposal_request change_mode(const std::string& key, const std::string& resource) {
  proposal_request p;
  p.idempotency_key = key;
  p.principal = "agent";
  p.level = 4;
  p.services = {"coaster"};
  p.regions = {"north"};
  p.changes = {{resource, "mode", "slow"}};
  p.justification = "cluster test";
  return p;
}

} // namespace

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
  CHECK(wait_until([&] { return follower->head() == leader->head(); }));
  CHECK(follower->state_digest() == leader->state_digest());
  CHECK(follower->attribute("coaster-3", "mode") == std::optional<std::string>{"slow"});
  CHECK(applied.size() == 1);
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
}

TEST_CASE("a leader with fewer than min_followers refuses mutations until one connects") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto leader = start_engine(dir, write_config(dir, plan, "n1", 1), "d1");
  REQUIRE(leader);
  leader->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  REQUIRE(leader->register_resource("coaster-0", "coaster", "north").ok);
  auto r = leader->submit(change_mode("k1", "coaster-0")).get();
  CHECK(r.code == "UNAVAILABLE");
  CHECK(r.message.find("fewer than 1 followers") != std::string::npos);
  CHECK(r.retry_after);
  auto follower = start_engine(dir, write_config(dir, plan, "n2"), "d2");
  REQUIRE(follower);
  result ok;
  CHECK(wait_until([&] {
    ok = leader->submit(change_mode("k2", "coaster-0")).get();
    return ok.ok;
  }));
  CHECK(ok.status == "succeeded");
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
