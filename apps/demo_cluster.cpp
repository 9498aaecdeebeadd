// `bulwark demo --cluster N`: N embedded engines, each with its own actor system, journal
// and Ed25519 key, talking over CAF remote actors on 127.0.0.1. n1 leads. The run shows
// replication, a proposal and an approval given to a follower running on the leader, a
// follower stopped while the leader goes on, restarted cut off from its leader (it refuses
// mutations and serves reads with its stale head seq), then reconnected (it catches up),
// and ends by comparing every node's head, state digest and verified chain.

#include "apps/demo_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "apps/cli.hpp"
#include "bulwark/engine.hpp"
#include "persistence/ed25519.hpp"

namespace bulwark::cli {

namespace {

using clock_type = std::chrono::steady_clock;
using nlohmann::json;

constexpr int resources = 20;

/// A TCP port on 127.0.0.1 that was free a moment ago (0 when none could be bound).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool wait_for(const std::function<bool()>& pred, std::chrono::seconds limit) {
  auto end = clock_type::now() + limit;
  while (clock_type::now() < end) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return pred();
}

class cluster_demo {
public:
  cluster_demo(cluster_demo_args args, std::string dir)
    : args_(std::move(args)), dir_(std::move(dir)), t0_(clock_type::now()) {}

  /// Runs every act; returns the exit code.
  int run();

private:
  std::string id(size_t i) const { return "n" + std::to_string(i + 1); }
  /// A hash as the output shows it: whole in `--json`, its first 16 hex digits in text.
  std::string shown(const std::string& hex) const {
    return args_.json ? hex : hex.substr(0, 16) + "...";
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void note(const std::string& what);
  bool check(bool ok, const std::string& what, json facts = json::object());
  bool plan();
  std::string write_config(size_t i, bool cut_off);
  bool start(size_t i, bool cut_off = false);
  proposal_request change(const std::string& key, int resource, const std::string& value,
                          int level = 4) const;
  bool heads_equal(size_t upto);
  void act_replicate();
  void act_routing();
  void act_partition();
  void act_compare();
  void summary(int code);

  cluster_demo_args args_;
  std::string dir_;
  clock_type::time_point t0_;
  std::vector<uint16_t> ports_;
  std::vector<std::unique_ptr<engine>> nodes_;
  std::vector<std::shared_ptr<std::atomic<uint64_t>>> calls_; ///< effector calls per node
  json timeline_ = json::array();
  json checks_ = json::array();
  bool all_ok_ = true;
};

void cluster_demo::note(const std::string& what) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0_);
  timeline_.push_back({{"at_ms", ms.count()}, {"what", what}});
  if (!args_.json)
    std::cout << "[" << ms.count() / 1000.0 << " s] " << what << std::endl;
}

bool cluster_demo::check(bool ok, const std::string& what, json facts) {
  facts["check"] = what;
  facts["ok"] = ok;
  checks_.push_back(std::move(facts));
  all_ok_ = all_ok_ && ok;
  if (!args_.json)
    std::cout << "  " << (ok ? "PASS " : "FAIL ") << what << std::endl;
  return ok;
}

bool cluster_demo::plan() {
  for (size_t i = 0; i < args_.nodes; ++i) {
    auto port = free_port();
    auto key = ed25519_key::generate();
    if (port == 0 || !key)
      return false;
    if (key->write_private(path(id(i) + ".key")) || key->write_public(path(id(i) + ".pub")))
      return false;
    ports_.push_back(port);
    calls_.push_back(std::make_shared<std::atomic<uint64_t>>(0));
  }
  nodes_.resize(args_.nodes);
  return true;
}

std::string cluster_demo::write_config(size_t i, bool cut_off) {
  auto file = path(id(i) + (cut_off ? "-cut-off.toml" : ".toml"));
  std::ofstream f{file};
  // Every change of the demo touches one of 20 resources: no blast-radius refusals.
  f << "[blast_radius]\nmax_percent = 100.0\n\n[cluster]\nnode_id = \"" << id(i)
    << "\"\ncluster_id = \"demo\"\nlisten = \"127.0.0.1:" << ports_[i]
    << "\"\nleader = \"n1\"\nkey = \"" << path(id(i) + ".key") << "\"\npeers = [";
  bool first = true;
  for (size_t p = 0; p < ports_.size(); ++p) {
    if (p == i)
      continue;
    // Cut off: the leader's address leads nowhere, as behind a partition.
    auto port = cut_off && p == 0 ? free_port() : ports_[p];
    f << (first ? "" : ", ") << "\"" << id(p) << "@127.0.0.1:" << port << "\"";
    first = false;
  }
  f << "]\n\n[cluster.pubkeys]\n";
  for (size_t p = 0; p < ports_.size(); ++p)
    if (p != i)
      f << id(p) << " = \"" << path(id(p) + ".pub") << "\"\n";
  return file;
}

bool cluster_demo::start(size_t i, bool cut_off) {
  engine_options opts;
  opts.config_file = write_config(i, cut_off);
  opts.data_dir = path(id(i) + "-journal");
  opts.admins = {"admin"};
  opts.operators = {"ops"};
  opts.grants = {{"agent", 4}, {"ops", 4}};
  opts.enforce_enabled = true;
  std::string err;
  nodes_[i] = engine::start(opts, &err);
  if (!nodes_[i])
    return check(false, id(i) + " starts: " + err);
  auto calls = calls_[i];
  nodes_[i]->register_effector("coaster", [calls](const effect_request&) {
    ++*calls;
    return effect_result{};
  });
  return true;
}

proposal_request cluster_demo::change(const std::string& key, int resource,
                                      const std::string& value, int level) const {
  proposal_request p;
  p.idempotency_key = key;
  p.principal = "agent";
  p.level = level;
  p.services = {"coaster"};
  p.regions = {"north"};
  p.changes = {{"coaster-" + std::to_string(resource % resources), "mode", value}};
  p.justification = "cluster demo";
  return p;
}

bool cluster_demo::heads_equal(size_t upto) {
  auto head = nodes_[0]->head();
  for (size_t i = 1; i < upto; ++i)
    if (!nodes_[i] || nodes_[i]->head() != head)
      return false;
  return true;
}

void cluster_demo::act_replicate() {
  auto& leader = *nodes_[0];
  bool registered = true;
  for (int r = 0; r < resources; ++r)
    registered &= leader.register_resource("coaster-" + std::to_string(r), "coaster", "north",
                                           {{"mode", "normal"}}).ok;
  check(registered, "the leader n1 registers " + std::to_string(resources) + " resources");
  uint32_t ok = 0;
  for (uint32_t k = 0; k < args_.proposals; ++k)
    ok += leader.submit(change("lead-" + std::to_string(k), static_cast<int>(k), "slow")).get().ok;
  check(ok == args_.proposals, std::to_string(ok) + " of " + std::to_string(args_.proposals)
                                 + " proposals given to the leader succeeded");
  bool caught_up = wait_for([&] { return heads_equal(nodes_.size()); }, std::chrono::seconds{30});
  check(caught_up, "every follower holds the leader's head (seq "
                     + std::to_string(leader.head().first) + ")");
}

void cluster_demo::act_routing() {
  auto& follower = *nodes_[1];
  auto before = calls_[0]->load();
  auto r = follower.submit(change("via-n2", 3, "fast")).get();
  check(r.ok && r.status == "succeeded", "a proposal given to follower n2 ran on the leader: "
                                            + (r.ok ? r.status : r.code + " " + r.message));
  uint64_t follower_calls = 0;
  for (size_t i = 1; i < calls_.size(); ++i)
    follower_calls += calls_[i]->load();
  check(calls_[0]->load() == before + 1 && follower_calls == 0,
        "the leader's effector made the change, no follower's did");
  auto waiting = follower.submit(change("approve-via-n2", 4, "fast", 1));
  bool pending = wait_for([&] { return nodes_[0]->pending().size() == 1; },
                          std::chrono::seconds{10});
  check(pending, "a level-1 proposal given to n2 waits for approval on the leader");
  if (!pending)
    return;
  auto a = follower.approve("ops", nodes_[0]->pending().at(0).proposal);
  check(a.ok, "its approval, given to n2, was recorded by the leader at seq "
                + std::to_string(a.seq));
  auto done = waiting.wait_for(std::chrono::seconds{30}) == std::future_status::ready;
  check(done && waiting.get().status == "succeeded", "the approved proposal succeeded");
}

void cluster_demo::act_partition() {
  auto last = nodes_.size() - 1;
  auto name = id(last);
  nodes_[last]->stop();
  nodes_[last].reset();
  note(name + " stopped (its engine shut down); the leader goes on without it");
  uint32_t ok = 0;
  for (int k = 0; k < 10; ++k)
    ok += nodes_[0]->submit(change("while-down-" + std::to_string(k), k, "closed")).get().ok;
  check(ok == 10, "10 more proposals succeeded on the leader while " + name + " was down");
  if (!start(last, true))
    return;
  note(name + " restarted cut off from its leader (the leader's address unreachable)");
  auto& cut = *nodes_[last];
  auto refused = cut.submit(change("refused", 5, "open")).get();
  check(refused.code == "UNAVAILABLE" && refused.retry_after.has_value(),
        name + " refuses a mutation: " + refused.code + " (" + refused.message + ")");
  auto approval = cut.approve("ops", std::string(64, 'a'));
  check(approval.code == "UNAVAILABLE", name + " refuses an approval: " + approval.code);
  auto read = cut.read_attribute("coaster-0", "mode");
  check(read.value.has_value() && read.head_seq < nodes_[0]->head().first,
        name + " serves reads from its copy: coaster-0 mode=" + read.value.value_or("?")
          + " as of seq " + std::to_string(read.head_seq) + " (leader at "
          + std::to_string(nodes_[0]->head().first) + ")");
  std::optional<cluster_info> info;
  bool behind = wait_for([&] {
    info = cut.cluster_status();
    return info && info->lag > 0;
  }, std::chrono::seconds{10});
  check(behind, name + " knows how stale it is from the leader's signed heads: "
                  + std::to_string(info ? info->lag : 0) + " records behind");
  nodes_[last]->stop();
  nodes_[last].reset();
  if (!start(last))
    return;
  note(name + " reconnected to its leader");
  bool caught_up = wait_for([&] { return heads_equal(nodes_.size()); }, std::chrono::seconds{30});
  check(caught_up, name + " caught up to the leader's head (seq "
                     + std::to_string(nodes_[0]->head().first) + ")");
}

void cluster_demo::act_compare() {
  // Quiet the cluster: every peer_changed the leader journals reaches every follower.
  wait_for([&] { return heads_equal(nodes_.size()); }, std::chrono::seconds{10});
  auto head = nodes_[0]->head();
  auto digest = nodes_[0]->state_digest();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = *nodes_[i];
    auto v = n.verify();
    check(v.ok && n.head() == head && n.state_digest() == digest,
          id(i) + ": head seq " + std::to_string(n.head().first) + " chain "
            + shown(n.head().second) + ", state digest " + shown(n.state_digest())
            + ", chain verified: " + (v.ok ? "yes" : v.message),
          {{"node", id(i)}, {"head_seq", n.head().first}, {"chain", n.head().second},
           {"state_digest", n.state_digest()}, {"chain_verified", v.ok}});
  }
}

void cluster_demo::summary(int code) {
  uint64_t passed = 0;
  for (auto& c : checks_)
    passed += c["ok"].get<bool>() ? 1 : 0;
  if (args_.json) {
    std::cout << json{{"nodes", args_.nodes}, {"data", dir_}, {"timeline", timeline_},
                      {"checks", checks_}, {"passed", passed}, {"failed", checks_.size() - passed},
                      {"all_passed", all_ok_}, {"exit", code}}
                   .dump(2)
              << '\n';
    return;
  }
  std::cout << "\nSummary: " << args_.nodes << " nodes, " << passed << " of " << checks_.size()
            << " checks passed; journals in " << dir_ << "\n"
            << (all_ok_ ? "Every check passed." : "Some checks FAILED.") << std::endl;
}

int cluster_demo::run() {
  // The nodes' own warnings (peers not yet up, the cut-off node's failed connects) are
  // expected here; the demo reports what matters.
  spdlog::set_level(spdlog::level::err);
  if (!plan()) {
    std::cerr << "bulwark: cannot prepare keys or ports in " << dir_ << '\n';
    return exit_runtime;
  }
  note("starting " + std::to_string(args_.nodes) + " nodes on 127.0.0.1 (n1 leads)");
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (!start(i)) {
      summary(exit_runtime);
      return exit_runtime;
    }
  check(true, "every node started");
  act_replicate();
  act_routing();
  act_partition();
  if (!nodes_.back()) {
    summary(exit_runtime);
    return exit_runtime;
  }
  act_compare();
  for (auto& n : nodes_)
    n->stop();
  int code = all_ok_ ? exit_ok : exit_integrity;
  summary(code);
  return code;
}

} // namespace

int run_cluster_demo(const cluster_demo_args& args) {
  if (args.nodes < 2 || args.nodes > 7) {
    std::cerr << "bulwark: --cluster needs 2 to 7 nodes (got " << args.nodes << ")\n";
    return exit_usage;
  }
  std::string dir = args.data;
  if (dir.empty()) {
    auto tmpl = (std::filesystem::temp_directory_path() / "bulwark-cluster-demo-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::cerr << "bulwark: cannot create a temporary directory\n";
      return exit_runtime;
    }
    dir = tmpl;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_empty(dir, ec)) {
      std::cerr << "bulwark: " << dir << ": the cluster demo needs a new or empty directory\n";
      return exit_usage;
    }
  }
  cluster_demo demo{args, dir};
  return demo.run();
}

} // namespace bulwark::cli
