// Incident benchmark: anomaly-to-candidate time (detector + RCA + candidate, pure cores),
// RCA over a journal of 1M events (the index rebuilt by scanning the journal, then ranking
// queries), and the rollback of 10k applied actions (planning from the journal records
// plus ONE durable transaction of 10k rollback_applied events and the finish).
// Effector calls are not part of the rollback figure: they are the host's.
//
// Usage: incident_bench [--quick]   (a fresh temporary journal, removed at the end)

#include <cstring>
#include <random>

#include "actors/incident/detector_policy.hpp"
#include "actors/incident/incident_policy.hpp"
#include "actors/incident/rca_policy.hpp"
#include "actors/rollback/rollback.hpp"
#include "bench/bench_util.hpp"
#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using namespace bulwark::bench;
using namespace std::chrono_literals;

namespace {

const caf::timestamp epoch{std::chrono::milliseconds{1'767'225'600'000}};
const char* services[] = {"coaster", "gates", "lights", "pos", "carousel"};
const char* regions[] = {"north", "south"};

std::string resource_name(uint64_t i) {
  return "res-" + std::to_string(i);
}

/// Writes `total` events: 1000 registrations, then applied actions 10 ms apart.
std::unique_ptr<journal_store> build_journal(const std::string& dir, uint64_t total) {
  store_options opts;
  opts.dir = dir;
  opts.create = true;
  opts.max_map_size = uint64_t{8} << 30;
  auto store = journal_store::open(opts);
  if (!store)
    std::exit(2);
  std::vector<event> batch;
  for (uint64_t i = 0; i < 1000; ++i)
    batch.push_back(make_event(event_type::resource_registered, epoch,
                               resource_registered{resource_id{resource_name(i)}, services[i % 5],
                                                   regions[(i / 5) % 2], {}}));
  for (uint64_t i = 1000; i < total; ++i) {
    action_applied a;
    std::memcpy(a.proposal.bytes.data(), &i, sizeof i);
    a.resource = resource_id{resource_name(i % 1000)};
    a.key = "mode";
    a.old_value = std::string{"v" + std::to_string(i - 1)};
    a.new_value = "v" + std::to_string(i);
    batch.push_back(make_event(event_type::action_applied,
                               epoch + std::chrono::milliseconds{10 * (i - 1000)}, a));
    if (batch.size() == 20000) {
      if (!(*store)->append(std::move(batch)))
        std::exit(2);
      batch.clear();
    }
  }
  if (!batch.empty() && !(*store)->append(std::move(batch)))
    std::exit(2);
  return std::move(*store);
}

void bench_rca(journal_store& store, int queries) {
  rca_policy rca{rca_settings{}};
  std::map<std::string, std::pair<std::string, std::string>> where;
  auto t0 = clock_type::now();
  caf::timestamp newest = epoch;
  auto err = store.read(seq_no{1}, store.head(), [&](journal_entry&& e) {
    if (e.ev.type == event_type::resource_registered) {
      resource_registered x;
      if (!decode(e.ev.payload, x))
        where[x.resource.value] = {x.service, x.region};
    } else if (e.ev.type == event_type::action_applied) {
      action_applied x;
      if (!decode(e.ev.payload, x)) {
        auto& w = where[x.resource.value];
        rca.add(w.first, w.second, applied_action{e.seq, x.proposal, x.resource, x.key, e.ev.at});
        newest = e.ev.at;
      }
    }
    return true;
  });
  if (err)
    std::exit(2);
  auto build_ms = ms_since(t0);
  rca.prune(newest - 2 * rca_settings{}.lookback);
  std::mt19937_64 rng{7};
  auto lat = sample_us(queries, [&](int) {
    auto onset = newest - std::chrono::milliseconds{rng() % 600'000};
    auto r = rca.rank(services[rng() % 5], regions[rng() % 2], onset);
    if (r.ranked.empty())
      std::exit(3);
  });
  std::printf("RCA over a %llu-event journal: index rebuilt from the journal in %.0f ms "
              "(%zu actions kept in the look-back horizon); ranking p50 %.0f us, p99 %.0f us "
              "(%d queries; 10 min look-back)\n",
              static_cast<unsigned long long>(store.head().value), build_ms, rca.size(),
              percentile(lat, 50), percentile(lat, 99), queries);
}

void bench_rollback(journal_store& store, uint64_t n) {
  auto head = store.head();
  std::vector<seq_no> targets;
  for (uint64_t s = head.value - n + 1; s <= head.value; ++s)
    targets.push_back(seq_no{s});
  std::map<std::string, std::string> service_of;
  for (uint64_t i = 0; i < 1000; ++i)
    service_of[resource_name(i)] = services[i % 5];
  double best = 1e300, best_plan = 1e300, best_commit = 1e300;
  for (int run = 0; run < 3; ++run) {
    // Each run reverts a fresh set of n actions (the journal never reverts twice).
    head = store.head();
    std::vector<event> fresh;
    for (uint64_t i = 0; i < n; ++i) {
      action_applied a;
      a.resource = resource_id{resource_name(i % 1000)};
      a.key = "k" + std::to_string(run) + "-" + std::to_string(i);
      a.new_value = "x";
      fresh.push_back(make_event(event_type::action_applied, epoch, a));
    }
    if (!store.append(std::move(fresh)))
      std::exit(2);
    targets.clear();
    for (uint64_t s = head.value + 1; s <= head.value + n; ++s)
      targets.push_back(seq_no{s});
    auto t0 = clock_type::now();
    auto recs = load_records(store, targets);
    if (!recs)
      std::exit(4);
    auto steps = plan_rollback(targets, *recs, service_of, {}, store.head());
    if (!steps)
      std::exit(4);
    auto planned = ms_since(t0);
    digest id = rollback_id(digest{}, targets);
    std::vector<event> evs;
    for (auto& s : *steps)
      evs.push_back(make_event(event_type::rollback_applied, epoch,
                               rollback_applied{id, s.reverts, s.resource, s.key,
                                                caf::optional<std::string>{s.current}, s.restore}));
    evs.push_back(make_event(event_type::rollback_finished, epoch,
                             rollback_finished{id, digest{}, true, ec::none,
                                               static_cast<uint32_t>(steps->size()), "bench"}));
    auto t1 = clock_type::now();
    if (!store.append(std::move(evs)))
      std::exit(2);
    best = std::min(best, ms_since(t0));
    best_plan = std::min(best_plan, planned);
    best_commit = std::min(best_commit, ms_since(t1));
  }
  std::printf("rollback of %llu applied actions (read + plan + one durable transaction of "
              "%llu events): best of 3 %.1f ms (read + plan %.1f ms, build + commit %.1f ms)\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(n + 1), best,
              best_plan, best_commit);
}

void bench_detection(int anomalies) {
  std::vector<double> lat;
  for (int k = 0; k < anomalies; ++k) {
    detector_policy d{detector_settings{}};
    rca_policy rca{rca_settings{}};
    d.add_series("coaster", "north");
    for (int i = 0; i < 200; ++i)
      rca.add("coaster", "north",
              applied_action{seq_no{static_cast<uint64_t>(i + 1)}, digest{}, resource_id{"r"}, "mode",
                             epoch + std::chrono::seconds{i}});
    for (int i = 0; i < 20; ++i)
      d.observe(metric_in{"coaster", "north", 0.01, 5, epoch + std::chrono::seconds{i}}, epoch + 1h);
    for (int i = 20; i < 100; ++i) {
      metric_in m{"coaster", "north", 0.4, 5, epoch + std::chrono::seconds{i}};
      auto t0 = clock_type::now();
      auto obs = d.observe(m, epoch + 1h);
      if (obs.confirmed) {
        auto c = make_candidate(*obs.confirmed, rca.rank("coaster", "north", obs.confirmed->onset),
                                "default");
        lat.push_back(us_since(t0));
        if (c.culprits.empty())
          std::exit(5);
        break;
      }
    }
  }
  std::printf("anomaly to candidate (confirming sample -> detector -> RCA over 200 actions -> "
              "candidate with ids), %d anomalies: p50 %.1f us, p99 %.1f us\n",
              anomalies, percentile(lat, 50), percentile(lat, 99));
}

} // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string{argv[1]} == "--quick";
  if (argc > 1 && !quick) {
    std::printf("usage: incident_bench [--quick]\n");
    return std::string{argv[1]} == "--help" ? 0 : 1;
  }
  print_machine();
  temp_root root{"bulwark-bench-incident"};
  bench_detection(quick ? 100 : 2000);
  auto store = build_journal(root.sub("journal"), quick ? 100'000 : 1'000'000);
  bench_rca(*store, quick ? 200 : 2000);
  bench_rollback(*store, 10'000);
  return 0;
}
