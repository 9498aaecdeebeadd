#include "cluster/cluster_engines.hpp"

#include <fstream>

#include <doctest/doctest.h>

#include "engine/engine_impl.hpp"
#include "persistence/journal_store.hpp"

namespace bulwark::test {

std::string write_config(const temp_dir& dir, const cluster_plan& plan, const std::string& id,
                         uint32_t min_followers, const std::string& tls,
                         const std::string& extra) {
  auto cfg = plan.config_of(id);
  auto key = dir.sub(id + ".key");
  (void) plan.keys.at(id)->write_private(key);
  std::ofstream f{dir.sub(id + ".toml")};
  f << extra << "\n[cluster]\nnode_id = \"" << id << "\"\ncluster_id = \"" << cfg.cluster_id
    << "\"\nlisten = \"127.0.0.1:" << cfg.listen_port << "\"\nleader = \"" << cfg.leader
    << "\"\nmin_followers = " << min_followers << "\nkey = \"" << id << ".key\"\n" << tls
    << "peers = [";
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
                                     const std::string& data, std::string* error) {
  engine_options opts;
  opts.config_file = config;
  opts.data_dir = dir.sub(data);
  opts.admins = {"admin"};
  opts.operators = {"ops"};
  opts.grants = {{"agent", 4}, {"ops", 4}};
  opts.enforce_enabled = true;
  std::string err;
  auto eng = engine::start(opts, &err);
  if (error != nullptr)
    *error = err;
  return eng;
}

size_t count(engine& eng, const std::string& type) {
  size_t n = 0;
  auto err = eng.internals().store->read(seq_no{1}, seq_no{UINT64_MAX}, [&](journal_entry&& e) {
    n += to_string(e.ev.type) == type ? 1 : 0;
    return true;
  });
  REQUIRE(!err);
  return n;
}

std::vector<uint64_t> seqs_of(engine& eng, const std::string& type) {
  std::vector<uint64_t> out;
  auto err = eng.internals().store->read(seq_no{1}, seq_no{UINT64_MAX}, [&](journal_entry&& e) {
    if (to_string(e.ev.type) == type)
      out.push_back(e.seq.value);
    return true;
  });
  REQUIRE(!err);
  return out;
}

pair_fixture::pair_fixture(const std::string& extra) {
  leader = start_engine(dir, write_config(dir, plan, "n1", 0, "", extra), "d1");
  REQUIRE(leader);
  follower = start_engine(dir, write_config(dir, plan, "n2", 0, "", extra), "d2");
  REQUIRE(follower);
  REQUIRE(wait_until([&] {
    auto s = follower->cluster_status();
    return s && s->peers.at(0).connected;
  }));
}

bool synced(engine& leader, engine& follower) {
  return wait_until([&] {
    auto head = leader.head();
    auto digest = leader.state_digest();
    return follower.head() == head && leader.head() == head && follower.state_digest() == digest;
  });
}

proposal_request change_mode(const std::string& key, const std::string& resource, int level) {
  proposal_request p;
  p.idempotency_key = key;
  p.principal = "agent";
  p.level = level;
  p.services = {"coaster"};
  p.regions = {"north"};
  p.changes = {{resource, "mode", "slow"}};
  p.justification = "cluster test";
  return p;
}

void pair_fixture::synced() {
  CHECK(test::synced(*leader, *follower));
}

} // namespace bulwark::test
