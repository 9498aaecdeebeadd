#pragma once

/// A cluster node for tests: its own actor system (with the middleman), journal and
/// cluster actor on 127.0.0.1, so nodes in one process talk over real TCP.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"

#include "actors/cluster/cluster.hpp"
#include "actors/journal/replica_tail.hpp"
#include "messages/cluster.hpp"
#include "persistence/ed25519.hpp"
#include "support/temp_dir.hpp"

namespace bulwark::test {

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

/// Waits until `pred` holds, polling, for at most `limit`; returns whether it held.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds limit = std::chrono::seconds{30});

/// The addresses and keys of a test cluster.
struct cluster_plan {
  std::string cluster_id = "test-cluster";
  std::vector<peer_address> nodes;                    ///< every node, with its port
  std::map<std::string, std::vector<uint8_t>> pubkeys; ///< raw public keys by node id
  std::map<std::string, std::shared_ptr<ed25519_key>> keys;
  std::string leader;

  /// Plans `n` nodes n1..nN with fresh ports and keys; n1 leads.
  static cluster_plan make(size_t n);

  /// The configuration of node `id` (everyone else as peers).
  cluster_config config_of(const std::string& id) const;
};

/// One running node.
class cluster_node {
public:
  /// Opens (creating) the journal in `dir` and starts journal and cluster actors.
  cluster_node(const std::string& dir, cluster_config cfg,
               std::shared_ptr<const ed25519_key> key,
               std::map<std::string, std::vector<uint8_t>> peer_keys,
               caf::optional<etcd_settings> etcd = caf::none);
  ~cluster_node();

  /// Appends events through the journal actor; returns the error, if any.
  caf::error append(std::vector<event> events);

  /// Appends events through the journal actor; returns its acknowledgement or the error
  /// (a timeout when none came within `limit`).
  caf::expected<appended> append_acked(std::vector<event> events,
                                       std::chrono::milliseconds limit = std::chrono::seconds{30});

  /// Asks the cluster actor for its status.
  cluster_status status();

  /// Sends a request to the cluster actor and returns the error or none.
  caf::expected<uint64_t> promote(uint64_t term);

  /// Imports a batch straight into the journal actor (bypassing the network).
  caf::expected<appended> import(replica_batch batch);

  /// Sends a head to this node as a peer would.
  void deliver_gossip(const signed_head& head);

  seq_no head() const { return store_->head(); }
  digest chain() const { return store_->head_chain(); }
  journal_store& store() { return *store_; }
  /// The journal's newest records, shared with the cluster actor.
  replica_tail& tail() { return *tail_; }
  caf::actor_system& system() { return *sys_; }
  const cluster_actor& actor() const { return cluster_.actor; }

private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::shared_ptr<journal_store> store_;
  std::shared_ptr<replica_tail> tail_ = std::make_shared<replica_tail>();
  journal_actor journal_;
  cluster_handle cluster_;
};

/// Starts node `id` of `plan` with its journal in dir/<id>, its configuration changed by
/// `tweak` when given.
std::unique_ptr<cluster_node> start(const cluster_plan& plan, const temp_dir& dir,
                                    const std::string& id,
                                    const std::function<void(cluster_config&)>& tweak = {});

} // namespace bulwark::test
