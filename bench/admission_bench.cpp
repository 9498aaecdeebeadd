// Load shedding and the halt guard: accepted versus refused proposals under a 10x overload
// of the admission core, how fast a refused caller hears back, and the cost of the guard
// per proposal. Usage: admission_bench [--quick]

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include "actors/admission/admission_policy.hpp"
#include "bench/bench_util.hpp"
#include "bulwark/engine.hpp"
#include "supervision/halt_guard.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

struct overload_result {
  double accepted_per_s = 0;
  uint64_t accepted = 0;
  uint64_t refused = 0;
  uint64_t refused_with_retry = 0;
  double refusal_p50_us = 0;
  double refusal_p99_us = 0;
  double refusal_max_us = 0;
};

/// Rounds of: `arrivals` offers from 16 principals, then the pipeline finishes what runs
/// (64 in flight) and takes the next. Unloaded: arrivals = 64; 10x: 640.
overload_result run(size_t rounds, size_t arrivals) {
  admission_limits limits;
  limits.max_in_flight = 64;
  limits.max_queued = 1024;
  limits.per_principal = 256;
  admission_policy p{limits};
  overload_result r;
  std::vector<double> refusal_us;
  std::vector<uint64_t> running;
  uint64_t ticket = 0;
  std::vector<std::string> principals;
  for (int i = 0; i < 16; ++i)
    principals.push_back("agent-" + std::to_string(i));
  auto t0 = clock_type::now();
  for (size_t round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < arrivals; ++i) {
      auto t = clock_type::now();
      ++ticket;
      auto v = p.offer(ticket, principals[ticket % 16], admission_class::automation);
      if (!v.accepted) {
        refusal_us.push_back(us_since(t));
        ++r.refused;
        r.refused_with_retry += v.retry_after ? 1 : 0;
      }
    }
    for (auto t : running) {
      p.finished(t, false);
      ++r.accepted;
    }
    running = p.dispatch();
  }
  r.accepted_per_s = static_cast<double>(r.accepted) / (ms_since(t0) / 1000);
  if (!refusal_us.empty()) {
    r.refusal_p50_us = percentile(refusal_us, 50);
    r.refusal_p99_us = percentile(refusal_us, 99);
    r.refusal_max_us = percentile(refusal_us, 100);
  }
  return r;
}

double guard_ns(size_t n, bool with_conditions) {
  auto c = std::make_shared<node_conditions>();
  halt_guard g{with_conditions ? c : nullptr};
  authority_verdict v;
  v.allowed = true;
  digest id;
  size_t passes = 0;
  auto t0 = clock_type::now();
  for (size_t i = 0; i < n; ++i) {
    id.bytes[0] = static_cast<uint8_t>(i);
    auto p = g.admit(id, v, true, trace_id{i});
    passes += p ? 1 : 0;
  }
  auto ns = ms_since(t0) * 1e6 / static_cast<double>(n);
  if (passes != n)
    std::printf("unexpected refusals\n");
  return ns;
}

struct engine_run {
  double accepted_per_s = 0;
  uint64_t accepted = 0;
  uint64_t overloaded = 0;
  uint64_t other = 0;
  double refusal_p99_us = 0;
  double refusal_max_us = 0;
  uint64_t switched = 0;              ///< refusals during which the caller's thread was switched out
  double unswitched_max_us = 0;       ///< the slowest refusal with no context switch in it
  std::string fifo_error;             ///< why the caller could not run at SCHED_FIFO
  std::string warnings; ///< early warnings raised during the run (indicator and peak)
};

/// The early warnings of a run, e.g. "BACKLOG/mailbox_pipeline 140".
std::string warnings_of(engine& eng) {
  std::map<std::string, double> peak;
  for (auto& w : eng.warnings()) {
    auto& v = peak[w.mode + "/" + w.indicator];
    v = std::max(v, w.value);
  }
  std::string out;
  for (auto& [k, v] : peak)
    out += (out.empty() ? "" : ", ") + k + " " + std::to_string(static_cast<long>(v));
  return out.empty() ? "none" : out;
}

/// An engine for level-4 proposals (durable journal, admission 64 in flight and 64 queued)
/// with its data in `dir`.
std::unique_ptr<engine> bench_engine(std::string& dir) {
  auto t = (std::filesystem::temp_directory_path() / "bulwark-bench-admission-XXXXXX").string();
  if (::mkdtemp(t.data()) == nullptr)
    std::exit(2);
  std::ofstream{t + "/bulwark.toml"}
    << "[authority]\nenforce_enabled = true\naudit_backlog = 4000000000\n"
       "rate_per_second = 1000000000.0\n"
       "burst = 1000000000.0\n[blast_radius]\nmax_percent = 100.0\nwindow_ms = 1\n"
       "[admission]\nmax_in_flight = 64\nmax_queued = 64\nper_principal = 64\n";
  engine_options opts;
  opts.config_file = t + "/bulwark.toml";
  opts.data_dir = t + "/journal";
  for (size_t s = 0; s < 64; ++s)
    opts.grants["agent-" + std::to_string(s)] = 4;
  std::string err;
  auto eng = engine::start(opts, &err);
  if (!eng) {
    std::printf("engine: %s\n", err.c_str());
    std::exit(2);
  }
  eng->register_effector("svc", [](const effect_request&) { return effect_result{}; });
  for (int i = 0; i < 1000; ++i)
    eng->register_resource("r-" + std::to_string(i), "svc", "north");
  dir = t;
  return eng;
}

/// The `i`-th proposal of the load.
proposal_request nth_proposal(size_t i) {
  proposal_request p;
  p.idempotency_key = "k-" + std::to_string(i);
  p.principal = "agent-" + std::to_string(i % 64);
  p.level = 4;
  p.services = {"svc"};
  p.regions = {"north"};
  p.changes = {{"r-" + std::to_string(i % 1000), "mode", std::to_string(i)}};
  return p;
}

/// Level-4 proposals through the engine with `outstanding` submissions kept open (a
/// refused caller retries at once, ignoring retry_after: the harshest load), until
/// `total` were accepted.
engine_run through_engine(size_t outstanding, size_t total) {
  std::string t;
  auto eng = bench_engine(t);
  std::mutex mtx;
  std::vector<double> refusal_us;
  engine_run out;
  std::atomic<size_t> started{0}, answered{0}, open{0};
  std::mutex wait_mtx;
  std::condition_variable freed;
  // One driver keeps `outstanding` submissions open; a refused caller retries at once.
  auto submit_one = [&] {
    auto p = nth_proposal(started++);
    auto t0 = clock_type::now();
    ++open;
    eng->submit(p, [&, t0](const result& r) {
      auto us = us_since(t0);
      {
        std::lock_guard<std::mutex> guard{mtx};
        if (r.ok)
          ++out.accepted;
        else if (r.code == "OVERLOADED") {
          ++out.overloaded;
          refusal_us.push_back(us);
        } else
          ++out.other;
      }
      if (r.ok)
        ++answered;
      --open;
      freed.notify_one();
    });
  };
  auto t0 = clock_type::now();
  // The driver sleeps while all its submissions are open (a spinning driver would take a
  // core from the engine on this 2-core machine).
  while (answered.load() < total) {
    if (open.load() < outstanding) {
      submit_one();
      continue;
    }
    std::unique_lock<std::mutex> lock{wait_mtx};
    freed.wait_for(lock, std::chrono::milliseconds{1},
                   [&] { return open.load() < outstanding; });
  }
  while (open.load() > 0)
    std::this_thread::yield();
  out.accepted_per_s = static_cast<double>(out.accepted) / (ms_since(t0) / 1000);
  if (!refusal_us.empty()) {
    out.refusal_p99_us = percentile(refusal_us, 99);
    out.refusal_max_us = percentile(refusal_us, 100);
  }
  out.warnings = warnings_of(*eng);
  eng->stop();
  eng.reset();
  std::filesystem::remove_all(t);
  return out;
}

/// An open-loop overload: `rate` proposals per second offered in 1 ms ticks for
/// `seconds`, whatever the answers (a refused caller does not retry: the load is new
/// arrivals, as from many clients). Accepted/s counts the answers within the window.
engine_run open_loop(double rate, double seconds, bool fifo) {
  std::string t;
  auto eng = bench_engine(t);
  engine_run out;
  // After the engine's threads exist (a new thread inherits its creator's policy): only the
  // caller runs at real-time priority.
  if (fifo) {
    sched_param sp{};
    sp.sched_priority = 1;
    if (int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp); rc != 0) {
      out.fifo_error = std::strerror(rc);
      eng->stop();
      std::filesystem::remove_all(t);
      return out;
    }
  }
  std::mutex mtx;
  std::vector<double> refusal_us;
  std::atomic<size_t> open{0};
  std::atomic<bool> window{true};
  std::atomic<uint64_t> accepted_in_window{0};
  size_t i = 0;
  auto t0 = clock_type::now();
  auto ticks = static_cast<size_t>(seconds * 1000);
  double per_tick = rate / 1000, owed = 0;
  // A refusal is answered on the caller's thread, inside submit(): the thread's context
  // switches (voluntary or not) counted around it tell a refusal that waited from one
  // whose thread the OS took away mid-call.
  auto switches = [] {
    rusage u{};
    ::getrusage(RUSAGE_THREAD, &u);
    return static_cast<uint64_t>(u.ru_nvcsw + u.ru_nivcsw);
  };
  auto driver = std::this_thread::get_id();
  for (size_t tick = 0; tick < ticks; ++tick) {
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds{tick});
    for (owed += per_tick; owed >= 1; owed -= 1) {
      auto c0 = switches();
      auto s0 = clock_type::now();
      ++open;
      eng->submit(nth_proposal(i++), [&, s0, c0](const result& r) {
        auto us = us_since(s0);
        bool inline_answer = std::this_thread::get_id() == driver;
        bool switched = inline_answer && switches() != c0;
        {
          std::lock_guard<std::mutex> guard{mtx};
          if (r.ok)
            ++out.accepted;
          else if (r.code == "OVERLOADED") {
            ++out.overloaded;
            refusal_us.push_back(us);
            if (switched)
              ++out.switched;
            else
              out.unswitched_max_us = std::max(out.unswitched_max_us, us);
          } else
            ++out.other;
        }
        if (r.ok && window.load())
          ++accepted_in_window;
        --open;
      });
    }
  }
  auto elapsed = ms_since(t0) / 1000;
  window = false;
  if (fifo) {
    sched_param normal{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
  }
  while (open.load() > 0)
    std::this_thread::yield();
  out.accepted_per_s = static_cast<double>(accepted_in_window.load()) / elapsed;
  if (!refusal_us.empty()) {
    out.refusal_p99_us = percentile(refusal_us, 99);
    out.refusal_max_us = percentile(refusal_us, 100);
  }
  out.warnings = warnings_of(*eng);
  eng->stop();
  eng.reset();
  std::filesystem::remove_all(t);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  print_machine();
  size_t rounds = quick ? 200 : 5000;
  auto unloaded = run(rounds, 64);
  auto overload = run(rounds, 640);
  std::printf("\nadmission core (64 in flight, 1024 queued, 16 principals), %zu rounds\n", rounds);
  std::printf("  unloaded: %.0f proposals/s accepted, %llu refused\n", unloaded.accepted_per_s,
              static_cast<unsigned long long>(unloaded.refused));
  std::printf("  10x overload: %.0f proposals/s accepted (%.0f %% of unloaded), %llu accepted, "
              "%llu refused (%llu with retry_after)\n",
              overload.accepted_per_s, 100 * overload.accepted_per_s / unloaded.accepted_per_s,
              static_cast<unsigned long long>(overload.accepted),
              static_cast<unsigned long long>(overload.refused),
              static_cast<unsigned long long>(overload.refused_with_retry));
  std::printf("  pipeline slots used per round: unloaded %.1f of 64, 10x overload %.1f of 64 "
              "(%.0f %% of the unloaded figure)\n",
              static_cast<double>(unloaded.accepted) / static_cast<double>(rounds),
              static_cast<double>(overload.accepted) / static_cast<double>(rounds),
              100.0 * static_cast<double>(overload.accepted)
                / static_cast<double>(unloaded.accepted));
  std::printf("  refusal answered in: p50 %.2f us, p99 %.2f us, max %.1f us (target: 1 ms)\n",
              overload.refusal_p50_us, overload.refusal_p99_us, overload.refusal_max_us);
  size_t total = quick ? 3000 : 30000;
  // The unloaded maximum: as many open as admission holds (64 in flight + 64 queued).
  auto base = through_engine(128, total);
  auto flood = through_engine(1280, total);
  std::printf("\nthrough the engine (level 4, durable journal; admission 64 in flight + 64 "
              "queued), until %zu accepted\n", total);
  std::printf("  128 outstanding (unloaded maximum): %.0f accepted/s (%llu accepted, %llu "
              "OVERLOADED, %llu other); warnings: %s\n",
              base.accepted_per_s, static_cast<unsigned long long>(base.accepted),
              static_cast<unsigned long long>(base.overloaded),
              static_cast<unsigned long long>(base.other), base.warnings.c_str());
  std::printf("  1280 outstanding (10x), refused callers retry at once: %.0f accepted/s (%.0f %% "
              "of unloaded; %llu "
              "accepted, %llu OVERLOADED, %llu other); OVERLOADED answered in p99 %.0f us, "
              "max %.0f us; warnings: %s\n",
              flood.accepted_per_s, 100 * flood.accepted_per_s / base.accepted_per_s,
              static_cast<unsigned long long>(flood.accepted),
              static_cast<unsigned long long>(flood.overloaded),
              static_cast<unsigned long long>(flood.other), flood.refusal_p99_us,
              flood.refusal_max_us, flood.warnings.c_str());
  double seconds = quick ? 2 : 10;
  auto offered = 10 * base.accepted_per_s;
  for (bool fifo : {false, true}) {
    // The second pass runs the caller at real-time priority (SCHED_FIFO 1; needs root or
    // CAP_SYS_NICE): the engine's own threads can no longer take its core mid-call, so what
    // remains is the engine's answer (and the hypervisor's pauses of the virtual CPU).
    auto open = open_loop(offered, seconds, fifo);
    if (!open.fifo_error.empty()) {
      std::printf("  (no real-time pass: SCHED_FIFO refused: %s)\n", open.fifo_error.c_str());
      break;
    }
    std::printf("  open loop%s, 10x the unloaded rate (%.0f offered/s for %.0f s, no retries): "
                "%.0f accepted/s (%.0f %% of unloaded; %llu accepted, %llu OVERLOADED, "
                "%llu other); OVERLOADED answered in p99 %.1f us, max %.0f us; %llu refusals "
                "with the caller's thread switched out mid-call, the slowest of the rest "
                "%.0f us; warnings: %s\n",
                fifo ? " (caller at SCHED_FIFO)" : "", offered, seconds, open.accepted_per_s,
                100 * open.accepted_per_s / base.accepted_per_s,
                static_cast<unsigned long long>(open.accepted),
                static_cast<unsigned long long>(open.overloaded),
                static_cast<unsigned long long>(open.other), open.refusal_p99_us,
                open.refusal_max_us, static_cast<unsigned long long>(open.switched),
                open.unswitched_max_us, open.warnings.c_str());
  }
  size_t n = quick ? 200000 : 5000000;
  std::printf("\nhalt guard per proposal (%zu admits): %.1f ns without node conditions, "
              "%.1f ns with\n",
              n, guard_ns(n, false), guard_ns(n, true));
  return 0;
}
