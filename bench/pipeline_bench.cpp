// Pipeline benchmark: decision latency (authority + blast radius, in-process, pure cores),
// the breaker's core (admission and refusals; the real effector path is in breaker_bench),
// and end-to-end level-4 proposals through the engine with the durable journal (1 and 64
// concurrent submitters, or --submitters N).
//
// The end-to-end rows also print the process's CPU time per proposal (user + system, all
// threads: the submitters, CAF's workers, the journal's and the effector pool's threads)
// the journal's append requests and durable commits per proposal, from its meter, and the
// mailbox deliveries per proposal (every message into an actor's mailbox in the process,
// counted by bench/delivery_count.cpp), the journal's acknowledgement latency (arrival at
// the journal to its answer, the newest 1024 appends) and how many proposals failed, by code.
//
// Usage: pipeline_bench [--quick] [--e2e] [--callbacks] [--changes N] [--submitters N]
//                       [--effector blocking|nonblocking|both] [--snapshot-interval N]
//                       [--prepare-mb N] [--replicated [--pinned]]
//   --e2e: only the end-to-end rows; --submitters: the second end-to-end row's (default 64;
//   beyond the intake's backlog bound some are refused OVERLOADED, and the row says how
//   many); --effector: the end-to-end rows with the no-op effector registered blocking (its
//   calls on the service's pool threads), non-blocking (on the thread that admits the
//   call), or both, blocking first (the default); --changes: changes per proposal (1 to 4;
//   a level-4 flight journals N changes in N+1 commits); --snapshot-interval: the journal's (default:
//   the engine's default; 0: none); --replicated: the end-to-end rows of a lone node, then
//   of a leader with one follower engine (in this process, over loopback TCP) replicating
//   asynchronously, then with sync_followers = 1; --pinned: each node on a core of its own,
//   as on machines of their own (the lone node, and the leader with the submitters, on CPU 0;
//   the follower on CPU 1: every thread inherits the core of the thread that made it), and
//   each replicated row adds the CPU per proposal of each node

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <sched.h>
#include <sstream>
#include <unistd.h>
#include <sys/resource.h>

#include <spdlog/spdlog.h>

#include "actors/authority/authority_policy.hpp"
#include "actors/blast_radius/blast_radius_policy.hpp"
#include "actors/circuit_breaker/breaker.hpp"
#include "actors/circuit_breaker/breaker_fsm.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "messages/register.hpp"
#include "bench/bench_util.hpp"
#include "bench/delivery_count.hpp"
#include "bulwark/engine.hpp"
#include "engine/engine_impl.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

std::string temp_dir() {
  auto t = (std::filesystem::temp_directory_path() / "bulwark-bench-pipeline-XXXXXX").string();
  if (::mkdtemp(t.data()) == nullptr)
    std::exit(2);
  return t;
}

bool pinned = false; ///< --pinned

/// With --pinned, binds the calling thread (and the threads it makes from now on) to `cpu`.
void pin_to(int cpu) {
  if (!pinned)
    return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    std::printf("--pinned: cannot bind to CPU %d\n", cpu);
    std::exit(2);
  }
}

/// Process CPU time (user + system) so far, in seconds.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

/// With --pinned: the CPU time (user + system, in seconds) of this process's threads bound
/// to `cpu` alone, the follower's on CPU 1 (its engine's threads are made while the bench
/// is bound there). Read from /proc/self/task/*/stat, in clock ticks; a thread that ends
/// during the measurement leaves it, so its time counts as the leader's.
double pinned_cpu_seconds(int cpu) {
  double ticks = 0;
  for (auto& task : std::filesystem::directory_iterator{"/proc/self/task"}) {
    auto tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(tid, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1
        || !CPU_ISSET(cpu, &set))
      continue;
    std::ifstream in{task.path() / "stat"};
    std::string line;
    std::getline(in, line);
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    auto rest = line.substr(line.rfind(')') + 2);
    std::istringstream fields{rest};
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14)
        utime = std::stoull(field);
      if (i == 15)
        stime = std::stoull(field);
    }
    ticks += static_cast<double>(utime + stime);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void bench_decisions(size_t n) {
  authority_config cfg;
  cfg.enforce_enabled = true;
  for (int p = 0; p < 64; ++p)
    cfg.grants["agent-" + std::to_string(p)] = authority_level::enforce;
  cfg.rate_per_second = 1e9;
  std::map<std::string, grant_state> journaled;
  // The fleet the gates read: 2,000 resources in each of 8 services, and two approvers.
  fleet_state fleet;
  for (int s = 0; s < 8; ++s)
    for (int r = 0; r < 2000; ++r) {
      resource_state x;
      x.service = "svc-" + std::to_string(s);
      x.region = "north";
      x.attributes["mode"] = "y";
      fleet.resources["r-" + std::to_string(r) + "-" + std::to_string(s)] = x;
    }
  approval_policy approvals;
  approvals.operators = {"ops-alice", "ops-bob"};
  gate_inputs gin;
  gin.config = &cfg;
  gin.approvals = &approvals;
  gin.fleet = &fleet;
  gin.observation_window = std::chrono::seconds{5};
  size_t gated = 0;
  blast_limits limits;
  limits.max_percent = 5.0;
  blast_radius_policy blast{limits};
  std::map<std::string, token_bucket> buckets;
  std::mt19937_64 rng{1};
  std::vector<double> lat;
  lat.reserve(n);
  caf::timestamp now{std::chrono::seconds{1'700'000'000}};
  size_t allowed = 0;
  for (size_t i = 0; i < n; ++i) {
    scope_request req;
    auto& p = req.subject;
    p.principal = principal_id{"agent-" + std::to_string(rng() % 64)};
    p.level = static_cast<authority_level>(1 + rng() % 4);
    p.services = {"svc-" + std::to_string(rng() % 8)};
    p.regions = {"north"};
    auto k = p.level == authority_level::assist ? 1 : 1 + rng() % 3;
    for (size_t m = 0; m < k; ++m) {
      p.mutations.push_back(mutation{resource_id{"r-" + std::to_string(rng() % 2000) + "-"
                                                 + p.services[0].substr(4)},
                                     "mode", "x"});
      req.touched_services.push_back(p.services[0]);
      req.touched_regions.push_back("north");
    }
    req.sizes[p.services[0]] = 2000;
    req.region_sizes[p.services[0] + "/north"] = 2000;
    req.id.bytes[0] = static_cast<uint8_t>(i);
    req.id.bytes[1] = static_cast<uint8_t>(i >> 8);
    req.id.bytes[2] = static_cast<uint8_t>(i >> 16);
    now += std::chrono::milliseconds{1};
    p.deadline = now + std::chrono::minutes{1};
    gin.now = now;
    auto t0 = clock_type::now();
    auto v = evaluate(p, cfg, journaled, false, now);
    if (v.allowed && !buckets[p.principal.value].take(now, cfg.rate_per_second, cfg.burst)) {
      auto s = blast.check(req, now);
      if (s.allowed) { // the flight machine then evaluates the level's gates
        auto gates = evaluate_gates(p, gin);
        bool pass = std::all_of(gates.begin(), gates.end(), [](auto& g) { return g.passed; });
        gated += pass;
        allowed += pass;
      }
      blast.settle(req.id); // as the pipeline does once the charge is journaled
    }
    lat.push_back(ms_since(t0) * 1000);
  }
  std::printf("decision (authority + blast radius + the level's gates), %zu proposals: "
              "p50 %.2f us, p99 %.2f us (%zu allowed, all gates passed for %zu)\n",
              n, percentile(lat, 50), percentile(lat, 99), allowed, gated);
}

void bench_breaker(size_t n) {
  breaker_fsm b;
  std::vector<double> lat;
  lat.reserve(n);
  caf::timestamp now{std::chrono::seconds{1'700'000'000}};
  for (size_t i = 0; i < n; ++i) {
    now += std::chrono::microseconds{10};
    auto t0 = clock_type::now();
    auto a = b.admit(now);
    b.record(a.admitted, std::chrono::milliseconds{1}, now);
    lat.push_back(ms_since(t0) * 1000);
  }
  std::printf("breaker admission + record (closed), %zu calls: p50 %.3f us, p99 %.3f us\n", n,
              percentile(lat, 50), percentile(lat, 99));
  breaker_fsm open;
  open.force(true, now);
  size_t refused = 0;
  auto t0 = clock_type::now();
  for (size_t i = 0; i < n; ++i)
    refused += !open.admit(now).admitted;
  auto secs = ms_since(t0) / 1000;
  std::printf("open breaker refusals (core): %.0f per second (%zu refused)\n",
              static_cast<double>(refused) / secs, refused);
}

/// Level-4 proposals through the engine (durable journal) with `submitters` in flight.
/// The bench's [journal] keys: empty values keep the engine's defaults.
struct journal_keys {
  std::string snapshot_interval;
  std::string prepare_mb;
  size_t changes = 1; ///< changes per proposal, each to another resource
  effector_mode effector = effector_mode::blocking; ///< where the no-op effector runs
};

/// The [cluster] section of node `id` listening on `port`, with `peer` on `peer_port`;
/// n1 leads.
std::string cluster_section(const std::string& id, uint16_t port, const std::string& peer,
                            uint16_t peer_port, int sync) {
  return "[cluster]\nnode_id = \"" + id + "\"\ncluster_id = \"bench\"\nlisten = \"127.0.0.1:"
         + std::to_string(port) + "\"\nleader = \"n1\"\nsync_followers = "
         + std::to_string(sync) + "\npeers = [\"" + peer + "@127.0.0.1:"
         + std::to_string(peer_port) + "\"]\n";
}

/// Starts a follower engine (n2) of the leader whose section `cluster_section` wrote with
/// these ports, its journal in dir/follower.
std::unique_ptr<engine> start_follower(const std::string& dir, uint16_t leader_port,
                                       uint16_t port) {
  std::ofstream{dir + "/follower.toml"} << cluster_section("n2", port, "n1", leader_port, 0);
  engine_options opts;
  opts.config_file = dir + "/follower.toml";
  opts.data_dir = dir + "/follower";
  std::string err;
  auto eng = engine::start(opts, &err);
  if (!eng) {
    std::printf("follower engine: %s\n", err.c_str());
    std::exit(2);
  }
  return eng;
}

/// `sync`: -1 for a lone node, else the leader's sync_followers with one follower engine.
void bench_end_to_end(size_t submitters, size_t total, const journal_keys& keys,
                      bool callbacks, int sync = -1) {
  auto dir = temp_dir();
  uint16_t leader_port = 0, follower_port = 0;
  std::string cluster;
  if (sync >= 0) {
    leader_port = free_loopback_port();
    follower_port = free_loopback_port();
    cluster = cluster_section("n1", leader_port, "n2", follower_port, sync);
  }
  std::ofstream{dir + "/bulwark.toml"}
    << "[authority]\nenforce_enabled = true\naudit_backlog = 4000000000\n"
       "rate_per_second = 1000000000.0\n"
       "burst = 1000000000.0\n[blast_radius]\nmax_percent = 100.0\nwindow_ms = 1\n[journal]\n"
    << (keys.snapshot_interval.empty() ? std::string()
                                       : "snapshot_interval = " + keys.snapshot_interval + "\n")
    << (keys.prepare_mb.empty() ? std::string() : "prepare_mb = " + keys.prepare_mb + "\n")
    << cluster;
  engine_options opts;
  opts.config_file = dir + "/bulwark.toml";
  opts.data_dir = dir + "/journal";
  for (size_t s = 0; s < submitters; ++s)
    opts.grants["agent-" + std::to_string(s)] = 4;
  std::string err;
  auto eng = engine::start(opts, &err);
  if (!eng) {
    std::printf("engine: %s\n", err.c_str());
    std::exit(2);
  }
  std::unique_ptr<engine> follower;
  if (sync >= 0) {
    pin_to(1); // the follower's threads
    follower = start_follower(dir, leader_port, follower_port);
    pin_to(0);
    // The leader takes writes once its follower is in step.
    for (int i = 0; i < 1000; ++i) {
      auto s = eng->cluster_status();
      if (s && s->writable)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
  }
  eng->register_effector("svc", [](const effect_request&) { return effect_result{}; },
                         keys.effector);
  for (int i = 0; i < 1000; ++i)
    eng->register_resource("r-" + std::to_string(i), "svc", "north");
  std::atomic<size_t> ok{0};
  std::mutex failed_mtx;
  std::map<std::string, size_t> failed; // code (or status) -> proposals
  auto count = [&](const result& r) {
    if (r.ok) {
      ++ok;
      return;
    }
    std::lock_guard<std::mutex> guard{failed_mtx};
    ++failed[r.code.empty() ? r.status : r.code];
  };
  std::vector<std::vector<double>> lat(submitters);
  std::vector<std::thread> threads;
  auto per = total / submitters;
  auto& meter = *eng->internals().cfg.journal.meter;
  bool counting = bench::deliveries_counted(*eng->internals().sys);
  auto m0 = meter.summarize(std::chrono::steady_clock::now());
  auto d0 = bench::deliveries();
  auto cpu0 = cpu_seconds();
  auto follower_cpu0 = pinned && follower ? pinned_cpu_seconds(1) : 0.0;
  auto t0 = clock_type::now();
  auto changes = keys.changes;
  auto make = [per, changes](size_t s, size_t i) {
    proposal_request p;
    p.idempotency_key = "k-" + std::to_string(s) + "-" + std::to_string(i);
    p.principal = "agent-" + std::to_string(s);
    p.level = 4;
    p.services = {"svc"};
    p.regions = {"north"};
    for (size_t c = 0; c < changes; ++c)
      p.changes.push_back(
        {"r-" + std::to_string((s * per + i + c * 250) % 1000), "mode", std::to_string(i)});
    return p;
  };
  if (!callbacks) {
    // Each submitter is a host thread that waits on the future of its proposal.
    for (size_t s = 0; s < submitters; ++s)
      threads.emplace_back([&, s] {
        for (size_t i = 0; i < per; ++i) {
          auto p = make(s, i);
          auto start = clock_type::now();
          auto r = eng->submit(p).get();
          lat[s].push_back(ms_since(start) * 1000);
          count(r);
        }
      });
    for (auto& t : threads)
      t.join();
  } else {
    // Each submitter is a chain of callbacks: its proposal's answer submits the next one,
    // so no host thread blocks (the engine runs callbacks as jobs of its own scheduler).
    std::mutex mtx;
    std::condition_variable cv;
    size_t finished = 0;
    std::vector<std::function<void(size_t)>> chains(submitters);
    for (size_t s = 0; s < submitters; ++s)
      chains[s] = [&, s](size_t i) {
        auto start = clock_type::now();
        eng->submit(make(s, i), [&, s, i, start](const result& r) {
          lat[s].push_back(ms_since(start) * 1000);
          count(r);
          if (i + 1 < per) {
            chains[s](i + 1);
            return;
          }
          std::lock_guard<std::mutex> guard{mtx};
          ++finished;
          cv.notify_all();
        });
      };
    for (size_t s = 0; s < submitters; ++s)
      chains[s](0);
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait(guard, [&] { return finished == submitters; });
  }
  auto secs = ms_since(t0) / 1000;
  auto cpu = cpu_seconds() - cpu0;
  auto follower_cpu = pinned && follower ? pinned_cpu_seconds(1) - follower_cpu0 : 0.0;
  auto m1 = meter.summarize(std::chrono::steady_clock::now());
  auto d1 = bench::deliveries();
  std::vector<double> all;
  for (auto& l : lat)
    all.insert(all.end(), l.begin(), l.end());
  std::string where = sync < 0 ? "" : sync == 0 ? ", leader + 1 async follower"
                                                 : ", leader + 1 sync follower";
  std::printf("level-4 end to end, %2zu submitters%s%s, %zu change%s each, %s effector: %7.0f "
              "proposals/s, p50 %6.0f us, p99 %6.0f us (%zu of %zu succeeded)\n",
              submitters, callbacks ? " (callbacks)" : "", where.c_str(), changes,
              changes == 1 ? "" : "s",
              keys.effector == effector_mode::blocking ? "blocking" : "non-blocking",
              static_cast<double>(all.size()) / secs, percentile(all, 50), percentile(all, 99),
              ok.load(), all.size());
  for (auto& [code, n] : failed)
    std::printf("    failed: %zu with %s\n", n, code.c_str());
  auto n = static_cast<double>(all.size());
  std::printf("    CPU %.1f us per proposal (%.2f cores busy); journal per proposal: %.2f append "
              "requests, %.2f events, %.3f durable commits (%.1f proposals per commit)\n",
              cpu / n * 1e6, cpu / secs,
              static_cast<double>(m1.appends_total - m0.appends_total) / n,
              static_cast<double>(m1.events_total - m0.events_total) / n,
              static_cast<double>(m1.commits_total - m0.commits_total) / n,
              n / static_cast<double>(std::max<uint64_t>(m1.commits_total - m0.commits_total, 1)));
  std::printf("    journal acknowledgement (arrival to answer) of the last %zu appends: p50 %.0f "
              "us, p99 %.0f us\n",
              m1.samples, std::chrono::duration<double, std::micro>(m1.p50).count(),
              std::chrono::duration<double, std::micro>(m1.p99).count());
  if (counting)
    std::printf("    mailbox deliveries per proposal: %.2f (every message into an actor's "
                "mailbox, the journal's subscribers and timers included)\n",
                static_cast<double>(d1 - d0) / n);
  else
    std::printf("    mailbox deliveries: not counted (CAF's enqueue is not interposed in this "
                "build)\n");
  if (pinned && follower)
    std::printf("    CPU by node: the leader (and the submitters) %.1f us per proposal, the "
                "follower %.1f us\n",
                (cpu - follower_cpu) / n * 1e6, follower_cpu / n * 1e6);
  if (follower) {
    auto s = eng->cluster_status();
    std::printf("    cluster: leader head %llu, replicated (confirmed by the follower) %llu\n",
                static_cast<unsigned long long>(s ? s->head_seq : 0),
                static_cast<unsigned long long>(s ? s->replicated : 0));
  }
  eng->stop();
  eng.reset();
  if (follower)
    follower->stop();
  follower.reset();
  std::filesystem::remove_all(dir);
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false, e2e_only = false, callbacks = false, replicated = false;
  size_t many = 64; // the submitters of the second end-to-end row
  std::vector<effector_mode> modes{effector_mode::blocking, effector_mode::nonblocking};
  journal_keys keys; // the engine's defaults
  auto number_follows = [&](int i) {
    return i + 1 < argc && argv[i + 1][0] != '\0'
           && std::string{argv[i + 1]}.find_first_not_of("0123456789") == std::string::npos;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a{argv[i]};
    if (a == "--quick") {
      quick = true;
    } else if (a == "--e2e") {
      e2e_only = true;
    } else if (a == "--snapshot-interval" && number_follows(i)) {
      keys.snapshot_interval = argv[++i];
    } else if (a == "--changes" && number_follows(i)) {
      keys.changes = std::stoul(argv[++i]);
      if (keys.changes < 1 || keys.changes > 4) {
        std::printf("--changes must be from 1 to 4\n");
        return 1;
      }
    } else if (a == "--submitters" && number_follows(i)) {
      many = std::stoul(argv[++i]);
      if (many < 1 || many > 1024) {
        std::printf("--submitters must be from 1 to 1024\n");
        return 1;
      }
    } else if (a == "--effector" && i + 1 < argc) {
      std::string m{argv[++i]};
      if (m == "blocking") {
        modes = {effector_mode::blocking};
      } else if (m == "nonblocking") {
        modes = {effector_mode::nonblocking};
      } else if (m != "both") {
        std::printf("--effector is blocking, nonblocking or both\n");
        return 1;
      }
    } else if (a == "--replicated") {
      replicated = true;
    } else if (a == "--pinned") {
      pinned = true;
    } else if (a == "--callbacks") {
      callbacks = true;
    } else if (a == "--prepare-mb" && number_follows(i)) {
      keys.prepare_mb = argv[++i];
    } else {
      std::printf("usage: pipeline_bench [--quick] [--e2e] [--callbacks] [--changes N] "
                  "[--submitters N] [--effector M] [--snapshot-interval N] [--prepare-mb N] "
                  "[--replicated [--pinned]]\n"
                  "  --callbacks            end-to-end submitters are callback chains, not "
                  "threads waiting on futures\n"
                  "  --changes N            changes per proposal, 1 to 4 (default 1)\n"
                  "  --submitters N         submitters of the second end-to-end row, 1 to 1024 "
                  "(default 64)\n"
                  "  --effector M           blocking (on the service's pool threads), "
                  "nonblocking (on the admitting thread) or both (default): the rows' effector\n"
                  "  --snapshot-interval N  [journal] snapshot_interval (0: no snapshots)\n"
                  "  --prepare-mb N         [journal] prepare_mb (0: no prepared tail)\n"
                  "  --replicated           end-to-end rows of a lone node, a leader with an "
                  "async follower, and with sync_followers = 1 (the follower in this process)\n"
                  "  --pinned               with --replicated: each node on a core of its own "
                  "(the lone node and the leader on CPU 0, the follower on CPU 1), and the "
                  "CPU per proposal of each node\n");
      return a == "--help" ? 0 : 1;
    }
  }
  if (pinned && !replicated) {
    std::printf("--pinned goes with --replicated\n");
    return 1;
  }
  spdlog::set_level(spdlog::level::warn); // the cluster rows' connection notes are not figures
  pin_to(0);
  print_machine();
  std::printf("\n");
  if (!e2e_only) {
    bench_decisions(quick ? 20000 : 200000);
    bench_breaker(quick ? 100000 : 2000000);
  }
  for (auto mode : modes) {
    keys.effector = mode;
    if (replicated) {
      for (int sync : {-1, 0, 1})
        bench_end_to_end(1, quick ? 300 : 2000, keys, callbacks, sync);
      for (int sync : {-1, 0, 1})
        bench_end_to_end(many, (quick ? 100 : 1000) * many, keys, callbacks, sync);
      continue;
    }
    bench_end_to_end(1, quick ? 300 : 2000, keys, callbacks);
    bench_end_to_end(many, (quick ? 100 : 1000) * many, keys, callbacks);
  }
  return 0;
}
