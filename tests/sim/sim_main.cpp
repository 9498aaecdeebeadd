// bulwark_sim: the seeded whole-system simulation (docs/simulation.md).
//
//   bulwark_sim --seed N                 one seed (a failing seed replays exactly)
//   bulwark_sim --seeds A..B             seeds A to B inclusive
//   options: --steps K (300), --dir D (scratch; default /dev/shm/bulwark-sim-PID, or under
//            the temp directory without /dev/shm), --keep (keep the seeds' journals),
//            --dump (every journal record and answer to stderr),
//            --sabotage INVARIANT, --expect-replays N, --expect-rollbacks N,
//            --expect-blast N (fail unless the run reached these volumes)
// Exit: 0 every invariant held (and the volumes were reached), 1 a violation, 2 the
// volumes were not reached, 64 bad arguments.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "sim/sim_run.hpp"

namespace {

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19)
    return false;
  out = std::stoull(s);
  return true;
}

int usage(const std::string& why) {
  std::cerr << "bulwark_sim: " << why
            << "\nusage: bulwark_sim (--seed N | --seeds A..B) [--steps K] [--dir D] [--keep]"
               " [--dump] [--sabotage INVARIANT] [--expect-replays N] [--expect-rollbacks N]"
               " [--expect-blast N]\n";
  return 64;
}

} // namespace

int main(int argc, char** argv) {
  using namespace bulwark::sim;
  sim_options base;
  // Scratch journals live in memory where it can (/dev/shm): the simulation checks the
  // engine's logic, and a disk's syncs would only make each seed slower.
  std::error_code ec;
  auto scratch = std::filesystem::is_directory("/dev/shm", ec)
                   ? std::filesystem::path{"/dev/shm"}
                   : std::filesystem::temp_directory_path();
  base.dir = (scratch / ("bulwark-sim-" + std::to_string(::getpid()))).string();
  bool own_dir = true;
  uint64_t first = 0, last = 0, want_replays = 0, want_rollbacks = 0, want_blast = 0;
  bool seeds_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string{}; };
    uint64_t n = 0;
    if (a == "--seed") {
      if (!parse_u64(value(), first))
        return usage("--seed needs a number");
      last = first;
      seeds_given = true;
    } else if (a == "--seeds") {
      auto v = value();
      auto dots = v.find("..");
      if (dots == std::string::npos || !parse_u64(v.substr(0, dots), first)
          || !parse_u64(v.substr(dots + 2), last) || last < first)
        return usage("--seeds needs A..B with A <= B");
      seeds_given = true;
    } else if (a == "--steps" && parse_u64(value(), n) && n > 0 && n <= 100000) {
      base.steps = static_cast<int>(n);
    } else if (a == "--dir") {
      base.dir = value();
      own_dir = false;
    } else if (a == "--keep") {
      base.keep = true;
    } else if (a == "--dump") {
      base.dump = true;
    } else if (a == "--sabotage") {
      base.sabotage = value();
      if (base.sabotage != "write-ahead" && base.sabotage != "decided-once"
          && base.sabotage != "replay" && base.sabotage != "rollback-restores"
          && base.sabotage != "no-duplicate-incident" && base.sabotage != "blast-radius"
          && base.sabotage != "bad-input" && base.sabotage != "flight-ends"
          && base.sabotage != "rollback-ends" && base.sabotage != "idempotent-repeat"
          && base.sabotage != "fleet-budget")
        return usage("--sabotage takes write-ahead, decided-once, replay, rollback-restores,"
                     " no-duplicate-incident, blast-radius, bad-input, flight-ends,"
                     " rollback-ends, idempotent-repeat or fleet-budget");
    } else if (a == "--expect-replays" && parse_u64(value(), want_replays)) {
    } else if (a == "--expect-rollbacks" && parse_u64(value(), want_rollbacks)) {
    } else if (a == "--expect-blast" && parse_u64(value(), want_blast)) {
    } else {
      return usage("unknown or malformed argument '" + a + "'");
    }
  }
  if (!seeds_given)
    return usage("name a seed (--seed N) or a range (--seeds A..B)");
  spdlog::set_level(spdlog::level::off);
  auto started = std::chrono::steady_clock::now();
  sim_coverage total;
  uint64_t failed = 0;
  for (auto seed = first;; ++seed) {
    auto o = base;
    o.seed = seed;
    auto report = run_seed(o);
    total.add(report.cov);
    if (!report.failures.empty()) {
      ++failed;
      for (auto& f : report.failures)
        std::cout << "VIOLATION seed " << f.seed << " step "
                  << (f.step < 0 ? std::string{"drain"} : std::to_string(f.step)) << " ["
                  << f.what.invariant << "] " << f.what.detail << "\n";
      std::cout << "  reproduce: bulwark_sim --seed " << seed << " --steps " << base.steps
                << (base.sabotage.empty() ? "" : " --sabotage " + base.sabotage) << "\n";
    }
    if ((seed - first + 1) % 100 == 0)
      std::cout << "... " << seed - first + 1 << " seeds, " << failed << " failing\n"
                << std::flush;
    if (seed == last)
      break;
  }
  if (own_dir && !base.keep)
    std::filesystem::remove_all(base.dir, ec);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::steady_clock::now() - started).count();
  std::cout << "bulwark_sim: seeds " << first << ".." << last << ", " << base.steps
            << " steps each, " << failed << " failing seed(s), " << secs << " s\n";
  total.print(std::cout);
  if (failed > 0)
    return 1;
  bool short_of = false;
  auto need = [&](const char* what, uint64_t got, uint64_t want) {
    if (got < want) {
      std::cout << "coverage short: " << what << " " << got << " < " << want << "\n";
      short_of = true;
    }
  };
  need("replay sequences", total.replays, want_replays);
  need("rollback mutations", total.rollback_mutations, want_rollbacks);
  need("blast-radius configurations", total.blast_configs.size(), want_blast);
  return short_of ? 2 : 0;
}
