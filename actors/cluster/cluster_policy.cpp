#include "actors/cluster/cluster_policy.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "messages/error.hpp"

namespace bulwark {

namespace {

caf::error bad_key(const std::string& key, const std::string& why) {
  return refuse(ec::invalid_input, "cluster." + key + ": " + why);
}

} // namespace

caf::optional<integrity_alert> set_aside_alert(const std::string& node_id,
                                               const std::string& marker) {
  auto j = nlohmann::json::parse(marker, nullptr, false);
  if (!j.is_object() || !j["first"].is_number_unsigned() || !j["last"].is_number_unsigned()
      || !j["records"].is_number_unsigned() || !j["head_chain"].is_string()
      || !j["aside"].is_string() || !j["kept"].is_string())
    return caf::none;
  integrity_alert a;
  a.local_node = node_id;
  a.seq = seq_no{j["first"].get<uint64_t>()};
  if (!parse_digest(j["head_chain"].get<std::string>(), a.local_chain))
    return caf::none;
  a.reason = "cluster-rejoin set aside records " + std::to_string(a.seq.value) + ".."
             + std::to_string(j["last"].get<uint64_t>()) + " ("
             + std::to_string(j["records"].get<uint64_t>()) + ") of " + node_id
             + "'s divergent tail, never acknowledged by the cluster: in "
             + j["aside"].get<std::string>() + " (the whole journal as it was in "
             + j["kept"].get<std::string>() + ")";
  return a;
}

caf::error check_config(const cluster_config& cfg) {
  if (!is_valid_id(cfg.node_id))
    return bad_key("node_id", "must be 1-128 printable characters without spaces");
  if (!is_valid_id(cfg.cluster_id))
    return bad_key("cluster_id", "must be 1-128 printable characters without spaces");
  std::set<std::string> ids{cfg.node_id};
  for (auto& p : cfg.peers) {
    if (!is_valid_id(p.node_id))
      return bad_key("peers", "peer id \"" + p.node_id + "\" is not a valid id");
    if (!ids.insert(p.node_id).second)
      return bad_key("peers", "node id \"" + p.node_id + "\" appears twice");
    if (p.host.empty() || p.port == 0)
      return bad_key("peers", "peer " + p.node_id + " needs HOST:PORT");
  }
  if (cfg.elected && !cfg.leader.empty())
    return bad_key("leader", "the leader is elected through etcd's lease ([cluster.etcd]): "
                             "remove this key");
  if (!cfg.elected && ids.count(cfg.leader) == 0)
    return bad_key("leader", "\"" + cfg.leader + "\" is neither this node nor a peer");
  if (cfg.term == 0)
    return bad_key("term", "terms start at 1");
  if (cfg.min_followers > cfg.peers.size())
    return bad_key("min_followers", "is more than the " + std::to_string(cfg.peers.size())
                                      + " peers configured");
  if (cfg.sync_followers > cfg.peers.size())
    return bad_key("sync_followers", "is more than the " + std::to_string(cfg.peers.size())
                                       + " peers configured");
  if (cfg.max_batch == 0 || cfg.max_batch_bytes == 0)
    return bad_key("max_batch", "must be positive");
  return {};
}

bool answered_cover_acknowledged(const cluster_config& cfg, const std::string& old_leader,
                                 const std::set<std::string>& answered) {
  if (cfg.sync_followers == 0)
    return false;
  size_t followers = cfg.node_id == old_leader ? 0 : 1;
  size_t heard = followers;
  for (auto& p : cfg.peers) {
    if (p.node_id == old_leader)
      continue;
    ++followers;
    heard += answered.count(p.node_id);
  }
  if (followers < cfg.sync_followers) // cannot happen with a checked configuration
    return false;
  return heard >= followers - cfg.sync_followers + 1;
}

const peer_address* find_peer(const cluster_config& cfg, const std::string& node_id) {
  auto i = std::find_if(cfg.peers.begin(), cfg.peers.end(),
                        [&](const peer_address& p) { return p.node_id == node_id; });
  return i == cfg.peers.end() ? nullptr : &*i;
}

cluster_hello make_hello(const cluster_config& cfg, uint64_t term) {
  return cluster_hello{cluster_protocol_version, cfg.cluster_id, cfg.node_id, term, cfg.leader};
}

caf::error check_hello(const cluster_config& cfg, const cluster_hello& hello,
                       const std::string* expected) {
  if (hello.protocol != cluster_protocol_version)
    return refuse(ec::invalid_input, "peer " + hello.node_id + " speaks cluster protocol "
                                       + std::to_string(hello.protocol) + ", this node "
                                       + std::to_string(cluster_protocol_version));
  if (hello.cluster_id != cfg.cluster_id)
    return refuse(ec::invalid_input, "peer " + hello.node_id + " belongs to cluster \""
                                       + hello.cluster_id + "\", not \"" + cfg.cluster_id
                                       + "\"");
  if (find_peer(cfg, hello.node_id) == nullptr)
    return refuse(ec::invalid_input, "unknown node id \"" + hello.node_id
                                       + "\" (not in cluster.peers)");
  if (expected != nullptr && hello.node_id != *expected)
    return refuse(ec::invalid_input, "the peer configured as " + *expected
                                       + " says it is " + hello.node_id);
  return {};
}

caf::timespan reconnect_backoff(const cluster_config& cfg, uint32_t failures) {
  auto wait = cfg.backoff_base;
  for (uint32_t i = 1; i < failures && wait < cfg.backoff_cap; ++i)
    wait *= 2;
  return std::min(wait, cfg.backoff_cap);
}

head_verdict compare_head(const signed_head& peer, const caf::optional<digest>& local_at_seq) {
  if (!local_at_seq)
    return head_verdict::ahead;
  return *local_at_seq == peer.chain ? head_verdict::agrees : head_verdict::fork;
}

} // namespace bulwark
