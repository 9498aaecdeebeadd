// Node memory benchmark: builds a journal of N events (default 1M) the way a busy node
// writes it (a fleet, then level-4 proposals of four events each: decided, started,
// applied, finished; each proposal's review acknowledged 500 proposals later, as the
// default audit backlog of 1000 makes operators do; a snapshot near the head as the
// journal actor writes them), starts `bulwark node` on it, lets it settle and reads its
// resident memory from /proc.
// A benchmark, not a test: it reports the README target (< 64 MiB) and never fails on it.

#include <cctype>
#include <csignal>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

constexpr const char* usage = R"(usage: node_memory_bench [--events N] [--mix M] [--settle-ms MS] [--json]
  --events N     journal size (default 1000000)
  --mix M        "proposals" (default: a fleet, then level-4 proposals of four events
                 each, each reviewed 500 proposals later: audit_acknowledged),
                 "unreviewed" (the same proposals, none reviewed: every one stays in the
                 audit queue, as with authority.audit_backlog raised above their count) or
                 "access" (a fleet, then console_access events: no proposal history)
  --settle-ms MS how long the node idles before its memory is read (default 3000)
  --json         print the results as one JSON object
  --fill-only DIR  write the journal into DIR (a new directory) and stop there: no node
                 is started, DIR is kept (e.g. for the dashboard's first-paint figure)
The journal lives in a fresh directory under $TMPDIR (default /tmp), removed at the end.
)";

constexpr uint64_t fleet_size = 1000;
/// How many proposals later a level-4 proposal's review is journaled ("proposals" mix):
/// the queue stays at 500, under the default `authority.audit_backlog` of 1000.
constexpr uint64_t review_lag = 500;
constexpr int64_t epoch_ms = 1'700'000'000'000;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

caf::timestamp time_of(uint64_t i) {
  return caf::timestamp{std::chrono::milliseconds{epoch_ms + static_cast<int64_t>(i)}};
}

resource_id resource_of(uint64_t i) {
  return resource_id{"res-" + std::to_string(1000 + i % fleet_size)};
}

digest proposal_of(uint64_t p) {
  digest d;
  std::memcpy(d.bytes.data(), &p, sizeof p);
  d.bytes[31] = 0x5a;
  return d;
}

/// The four events of one successful one-change proposal, numbered from `i`.
void proposal_events(uint64_t p, uint64_t i, std::vector<event>& out) {
  auto id = proposal_of(p);
  mutation m{resource_of(p), "mode", "v" + std::to_string(p % 7)};
  proposal_decided d;
  d.proposal = id;
  d.idempotency_key = "change-" + std::to_string(p);
  d.principal = principal_id{"deploy-bot"};
  d.level = authority_level::enforce;
  d.service = "svc";
  d.region = "north";
  d.allowed = true;
  d.allowed_count = 1;
  d.mutations = {m};
  d.justification = "rollout step";
  out.push_back(make_event(event_type::proposal_decided, time_of(i), d, trace_id{p}));
  out.push_back(make_event(event_type::action_started, time_of(i + 1), action_started{id, 0, m},
                           trace_id{p}));
  action_applied a{id, 0, m.resource, m.key, std::string{"old"}, m.value};
  out.push_back(make_event(event_type::action_applied, time_of(i + 2), a, trace_id{p}));
  proposal_finished f{id, true, ec::none, 1, 0, ""};
  out.push_back(make_event(event_type::proposal_finished, time_of(i + 3), f, trace_id{p}));
}

/// An operator's review of proposal `p`, at `i`.
event review_event(uint64_t p, uint64_t i) {
  audit_acknowledged a{proposal_of(p), principal_id{"ops"}, ""};
  return make_event(event_type::audit_acknowledged, time_of(i), a, trace_id{p});
}

/// Fills the store with `n` events in transactions of about 10k and writes a snapshot
/// 1000 events before the head (what a restarting node usually finds). `reviews`: each
/// proposal's review follows `review_lag` proposals later.
void fill(journal_store& store, uint64_t n, bool proposals, bool reviews) {
  projection proj;
  uint64_t seq = 0, p = 0;
  bool snapped = false;
  while (seq < n) {
    std::vector<event> batch;
    while (batch.size() < 10'000 && seq + batch.size() < n) {
      auto i = seq + batch.size();
      if (i < fleet_size)
        batch.push_back(make_event(event_type::resource_registered, time_of(i),
                                   resource_registered{resource_of(i), "svc", "north", {}}));
      else if (proposals && reviews && p >= review_lag && n - i >= 5) {
        proposal_events(p, i, batch);
        batch.push_back(review_event(p - review_lag, i + 4));
        ++p;
      } else if (proposals && (!reviews || p < review_lag) && n - i >= 4)
        proposal_events(p++, i, batch);
      else
        batch.push_back(make_event(event_type::console_access, time_of(i),
                                   console_access{principal_id{"ops"}, "status",
                                                  "127.0.0.1:1", true, ""}));
    }
    auto done = store.append(std::move(batch));
    if (!done)
      fail("filling the journal failed");
    for (auto& e : *done)
      if (proj.apply(e.seq, e.ev))
        fail("projection refused an event");
    seq = store.head().value;
    if (!snapped && n > 2000 && seq >= n - 1000) {
      if (store.write_snapshot(proj))
        fail("write_snapshot failed");
      snapped = true;
    }
  }
}

struct memory {
  double rss_mib = 0, anon_mib = 0, file_mib = 0, hwm_mib = 0;
  double map_mib = 0; ///< resident pages of the LMDB map (data.mdb)
};

/// Sums the resident pages of the mappings of data.mdb (from /proc/PID/smaps).
double lmdb_map_mib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/smaps"};
  double kib = 0;
  bool in_map = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0]))
        && line.find('-') != std::string::npos && line.find(' ') != std::string::npos
        && line.find(':') > line.find(' '))
      in_map = line.find("/data.mdb") != std::string::npos;
    else if (in_map && line.rfind("Rss:", 0) == 0)
      kib += std::stod(line.substr(4));
  }
  return kib / 1024;
}

/// Reads VmRSS, RssAnon, RssFile and VmHWM of `pid` in MiB.
memory read_memory(pid_t pid) {
  memory m;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(in, line);) {
    auto kib = [&] { return std::stod(line.substr(line.find(':') + 1)) / 1024; };
    if (line.rfind("VmRSS:", 0) == 0)
      m.rss_mib = kib();
    else if (line.rfind("RssAnon:", 0) == 0)
      m.anon_mib = kib();
    else if (line.rfind("RssFile:", 0) == 0)
      m.file_mib = kib();
    else if (line.rfind("VmHWM:", 0) == 0)
      m.hwm_mib = kib();
  }
  m.map_mib = lmdb_map_mib(pid);
  return m;
}

/// Starts the node, waits for its start line and `settle_ms`, reads its memory, stops it.
memory measure_node(const temp_root& tmp, int settle_ms, double& start_ms) {
  auto cfg = tmp.sub("bulwark.toml");
  std::ofstream{cfg} << "[node]\nid = \"memory-bench\"\n[console]\nlisten = \"127.0.0.1:0\"\n"
                        "[metrics]\nlisten = \"127.0.0.1:0\"\n";
  int fds[2];
  if (::pipe(fds) != 0)
    fail("pipe failed");
  auto t0 = clock_type::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::execl(BULWARK_BINARY, BULWARK_BINARY, "node", "--config", cfg.c_str(), "--data",
            tmp.sub("journal").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n')
    line.push_back(c);
  ::close(fds[0]);
  start_ms = ms_since(t0);
  if (line.find("bulwark node") == std::string::npos) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    fail("the node did not start: " + line);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{settle_ms});
  auto m = read_memory(pid);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("the node did not stop cleanly");
  return m;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t events = 1'000'000;
  int settle_ms = 3000;
  bool as_json = false;
  std::string mix = "proposals";
  std::string fill_only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--events" && i + 1 < argc)
      events = std::stoull(argv[++i]);
    else if (a == "--settle-ms" && i + 1 < argc)
      settle_ms = std::stoi(argv[++i]);
    else if (a == "--mix" && i + 1 < argc && (argv[i + 1] == std::string{"proposals"}
                                                || argv[i + 1] == std::string{"unreviewed"}
                                               || argv[i + 1] == std::string{"access"}))
      mix = argv[++i];
    else if (a == "--json")
      as_json = true;
    else if (a == "--fill-only" && i + 1 < argc)
      fill_only = argv[++i];
    else {
      std::fputs(usage, a == "--help" ? stdout : stderr);
      return a == "--help" ? 0 : 1;
    }
  }
  try {
    if (!fill_only.empty()) {
      store_options opts;
      opts.dir = fill_only;
      opts.create = true;
      opts.initial_map_size = uint64_t{1} << 30;
      auto store = journal_store::open(opts);
      if (!store)
        fail("cannot open a new journal in " + fill_only);
      if ((*store)->head().value != 0)
        fail(fill_only + " already holds a journal");
      fill(**store, events, mix != "access", mix == "proposals");
      std::printf("%s: %llu events\n", fill_only.c_str(),
                  static_cast<unsigned long long>((*store)->head().value));
      return 0;
    }
    temp_root tmp{"bulwark-memory-bench"};
    {
      store_options opts;
      opts.dir = tmp.sub("journal");
      opts.create = true;
      opts.initial_map_size = uint64_t{1} << 30;
      auto store = journal_store::open(opts);
      if (!store)
        fail("cannot open the journal in " + opts.dir);
      std::fprintf(stderr, "filling %llu events...\n", static_cast<unsigned long long>(events));
      auto t0 = clock_type::now();
      fill(**store, events, mix != "access", mix == "proposals");
      std::fprintf(stderr, "filled in %.1f s; starting the node...\n", ms_since(t0) / 1000);
    }
    double start_ms = 0;
    auto m = measure_node(tmp, settle_ms, start_ms);
    bool met = m.rss_mib < 64;
    if (as_json) {
      nlohmann::ordered_json j{{"events", events}, {"mix", mix}, {"settle_ms", settle_ms},
                               {"start_ms", start_ms}, {"vm_rss_mib", m.rss_mib},
                               {"rss_anon_mib", m.anon_mib}, {"rss_file_mib", m.file_mib},
                               {"vm_hwm_mib", m.hwm_mib}, {"lmdb_map_mib", m.map_mib},
                               {"target_mib", 64}, {"met", met}};
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      print_machine();
      std::printf("idle node over a %llu-event journal of %s (start %.0f ms, then %d ms idle):\n"
                  "  VmRSS %.1f MiB (anon %.1f, file %.1f of which the LMDB map %.1f), peak "
                  "VmHWM %.1f MiB; target < 64 MiB: %s\n",
                  static_cast<unsigned long long>(events),
                  mix == "proposals"    ? "reviewed level-4 proposals"
                  : mix == "unreviewed" ? "unreviewed level-4 proposals"
                                        : "console access records",
                  start_ms, settle_ms,
                  m.rss_mib, m.anon_mib, m.file_mib, m.map_mib, m.hwm_mib, met ? "met" : "MISSED");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "node_memory_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
