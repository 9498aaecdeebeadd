#include "cluster/cluster_node.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/journal/journal.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"

namespace bulwark::test {

uint16_t free_port() {
  // Below the kernel's ephemeral range (32768 and up by default), so no outgoing
  // connection of another test can take the port between this check and the node's bind;
  // each process walks its own sequence (from its pid), so parallel tests rarely meet.
  static uint32_t next = static_cast<uint32_t>(::getpid()) * 7919u;
  for (int tries = 0; tries < 1000; ++tries) {
    auto port = static_cast<uint16_t>(20000 + (next++ * 97u) % 12000);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok)
      return port;
  }
  FAIL("no free port in 20000-31999");
  return 0;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return pred();
}

cluster_plan cluster_plan::make(size_t n) {
  cluster_plan plan;
  for (size_t i = 1; i <= n; ++i) {
    auto id = "n" + std::to_string(i);
    plan.nodes.push_back(peer_address{id, "127.0.0.1", free_port()});
    auto key = ed25519_key::generate();
    REQUIRE(key);
    plan.pubkeys[id] = key->raw_public();
    plan.keys[id] = std::make_shared<ed25519_key>(std::move(*key));
  }
  plan.leader = "n1";
  return plan;
}

cluster_config cluster_plan::config_of(const std::string& id) const {
  cluster_config cfg;
  cfg.node_id = id;
  cfg.cluster_id = cluster_id;
  cfg.leader = leader;
  cfg.max_batch = 500;
  cfg.tick = std::chrono::milliseconds{20};
  cfg.backoff_base = std::chrono::milliseconds{20};
  cfg.backoff_cap = std::chrono::milliseconds{200};
  for (auto& p : nodes) {
    if (p.node_id == id)
      cfg.listen_port = p.port;
    else
      cfg.peers.push_back(p);
  }
  return cfg;
}

cluster_node::cluster_node(const std::string& dir, cluster_config cfg,
                           std::shared_ptr<const ed25519_key> key,
                           std::map<std::string, std::vector<uint8_t>> peer_keys,
                           caf::optional<etcd_settings> etcd) {
  register_types(cfg_);
  cfg_.load<caf::io::middleman>();
  sys_ = std::make_unique<caf::actor_system>(cfg_);
  store_options opts;
  opts.dir = dir;
  opts.create = true;
  auto opened = journal_store::open(opts);
  REQUIRE_MESSAGE(opened, describe(opened.error()).message);
  store_ = std::move(*opened);
  journal_settings js;
  js.acks = std::make_shared<held_acks>(js.meter);
  js.tail = tail_;
  auto j = spawn_journal(*sys_, store_, js);
  REQUIRE(j);
  journal_ = *j;
  cluster_deps deps;
  deps.acks = js.acks;
  deps.tail = js.tail;
  deps.cfg = std::move(cfg);
  deps.journal = journal_;
  deps.store = store_;
  deps.key = std::move(key);
  deps.peer_keys = std::move(peer_keys);
  deps.etcd = std::move(etcd);
  auto c = spawn_cluster(*sys_, std::move(deps));
  REQUIRE_MESSAGE(c, describe(c.error()).message);
  cluster_ = *c;
}

cluster_node::~cluster_node() {
  caf::anon_send_exit(cluster_.actor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(journal_, caf::exit_reason::user_shutdown);
  // The detached journal's thread ends only when its last handle is gone.
  journal_ = nullptr;
  cluster_.actor = nullptr;
  // ~actor_system waits for the actors and closes the middleman's sockets.
  sys_.reset();
}

caf::error cluster_node::append(std::vector<event> events) {
  caf::scoped_actor self{*sys_};
  caf::error out;
  self->request(journal_, std::chrono::seconds{30}, atom::append_v, std::move(events))
    .receive([](appended&) {}, [&](caf::error& err) { out = std::move(err); });
  return out;
}

caf::expected<appended> cluster_node::append_acked(std::vector<event> events,
                                                  std::chrono::milliseconds limit) {
  caf::scoped_actor self{*sys_};
  caf::expected<appended> out{appended{}};
  self->request(journal_, limit, atom::append_v, std::move(events))
    .receive([&](appended& a) { out = a; }, [&](caf::error& err) { out = std::move(err); });
  return out;
}

cluster_status cluster_node::status() {
  caf::scoped_actor self{*sys_};
  cluster_status out;
  self->request(cluster_.actor, std::chrono::seconds{30}, atom::state_v)
    .receive([&](cluster_status& s) { out = std::move(s); },
             [&](caf::error& err) { FAIL("status: " << describe(err).message); });
  return out;
}

caf::expected<uint64_t> cluster_node::promote(uint64_t term) {
  caf::scoped_actor self{*sys_};
  caf::expected<uint64_t> out{uint64_t{0}};
  self->request(cluster_.actor, std::chrono::seconds{30}, atom::promote_v, std::string{"admin"},
                term)
    .receive([&](uint64_t t) { out = t; }, [&](caf::error& err) { out = std::move(err); });
  return out;
}

caf::expected<appended> cluster_node::import(replica_batch batch) {
  caf::scoped_actor self{*sys_};
  caf::expected<appended> out{appended{}};
  self->request(journal_, std::chrono::seconds{30}, atom::import_v, std::move(batch))
    .receive([&](appended& a) { out = a; }, [&](caf::error& err) { out = std::move(err); });
  return out;
}

void cluster_node::deliver_gossip(const signed_head& head) {
  caf::anon_send(cluster_.actor, atom::gossip_v, head);
}

std::unique_ptr<cluster_node> start(const cluster_plan& plan, const temp_dir& dir,
                                    const std::string& id,
                                    const std::function<void(cluster_config&)>& tweak) {
  auto cfg = plan.config_of(id);
  if (tweak)
    tweak(cfg);
  return std::make_unique<cluster_node>(dir.sub(id), std::move(cfg), plan.keys.at(id),
                                        plan.pubkeys);
}

} // namespace bulwark::test
