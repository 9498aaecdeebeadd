// Forwarded commands: the latency of a journaled operator command (a grant) given to
// the leader, and the same command given to a follower, which forwards it to the leader
// over loopback and returns the leader's answer. Two embedded engines on 127.0.0.1.
// Usage: forward_bench [--quick]   (figures go to docs/performance.md, "Cluster")

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "bench/bench_util.hpp"
#include "bulwark/engine.hpp"
#include "persistence/ed25519.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

/// Writes <id>.toml for a two-node cluster (n1 leads) with its key files; returns the path.
std::string write_node(const temp_root& dir, const std::string& id, const std::string& peer,
                       uint16_t port, uint16_t peer_port) {
  std::ofstream f{dir.sub(id + ".toml")};
  f << "[cluster]\nnode_id = \"" << id << "\"\ncluster_id = \"bench\"\nlisten = \"127.0.0.1:"
    << port << "\"\nleader = \"n1\"\nkey = \"" << id << ".key\"\npeers = [\"" << peer
    << "@127.0.0.1:" << peer_port << "\"]\n[cluster.pubkeys]\n" << peer << " = \"" << peer
    << ".pub\"\n";
  return dir.sub(id + ".toml");
}

std::unique_ptr<engine> start(const temp_root& dir, const std::string& config,
                              const std::string& data) {
  engine_options opts;
  opts.config_file = config;
  opts.data_dir = dir.sub(data);
  opts.admins = {"admin"};
  opts.grants = {{"agent", 4}};
  opts.rate_per_second = 1e9; // the authority's rate limit is not what is measured
  opts.burst = 1e9;
  std::string err;
  auto eng = engine::start(opts, &err);
  if (!eng)
    std::fprintf(stderr, "forward_bench: %s\n", err.c_str());
  return eng;
}

/// `n` grants given to `eng`, one after the other; returns each one's latency (us).
std::vector<double> grants(engine& eng, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    auto t0 = clock_type::now();
    auto r = eng.grant("admin", "agent", 3 + (i % 2));
    out.push_back(us_since(t0));
    if (!r.ok) {
      std::fprintf(stderr, "forward_bench: grant refused: %s %s\n", r.code.c_str(),
                   r.message.c_str());
      std::exit(2);
    }
  }
  return out;
}

void report(const char* what, std::vector<double> us) {
  double total = 0;
  for (auto x : us)
    total += x;
  std::printf("%-34s n=%zu  p50 %.0f us  p99 %.0f us  mean %.0f us  (%.0f commands/s)\n", what,
              us.size(), percentile(us, 50), percentile(us, 99),
              total / static_cast<double>(us.size()), 1e6 * static_cast<double>(us.size()) / total);
}

} // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int n = quick ? 200 : 2000;
  spdlog::set_level(spdlog::level::warn);
  print_machine();
  temp_root dir{"forward-bench"};
  auto p1 = free_loopback_port(), p2 = free_loopback_port();
  for (auto id : {"n1", "n2"}) {
    auto key = ed25519_key::generate();
    if (!key || key->write_private(dir.sub(std::string{id} + ".key"))
        || key->write_public(dir.sub(std::string{id} + ".pub")))
      return 2;
  }
  auto leader = start(dir, write_node(dir, "n1", "n2", p1, p2), "d1");
  auto follower = start(dir, write_node(dir, "n2", "n1", p2, p1), "d2");
  if (!leader || !follower)
    return 2;
  for (int i = 0; i < 5000; ++i) {
    auto s = follower->cluster_status();
    if (s && !s->peers.empty() && s->peers[0].connected)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
  grants(*follower, 50); // warm-up: connections, allocations
  report("grant given to the leader", grants(*leader, n));
  report("grant given to a follower", grants(*follower, n));
  return 0;
}
