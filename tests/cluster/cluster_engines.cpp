#include "cluster/cluster_engines.hpp"

#include <fstream>

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
  opts.grants = {{"agent", 4}, {"ops", 4}};
  opts.enforce_enabled = true;
  std::string err;
  auto eng = engine::start(opts, &err);
  if (error != nullptr)
    *error = err;
  return eng;
}

} // namespace bulwark::test
