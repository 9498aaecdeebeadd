// Incident benchmark: anomaly-to-candidate time (detector + RCA + candidate, pure cores),
// RCA over a journal of 1M events (the index rebuilt by scanning the journal, then ranking
// queries), and the rollback of 10k applied actions (planning from the journal records
// plus ONE durable transaction of 10k rollback_applied events and the finish).
// Effector calls are not part of the rollback figure: they are the host's.
//
// Usage: incident_bench [--quick | --rollback]   (a fresh temporary journal, removed at
// the end; --rollback runs only the rollback figures)

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

/// Rolls back the newest `n` applied actions: read the reverted records, plan against
/// the conflict index, build the events, one durable transaction. The index is warm, as
/// in the rollback actor, which follows every commit; its upkeep is measured apart.
void bench_rollback(journal_store& store, uint64_t n) {
  std::map<std::string, std::string> service_of;
  for (uint64_t i = 0; i < 1000; ++i)
    service_of[resource_name(i)] = services[i % 5];
  service_lookup lookup = [&](const std::string& r) -> const std::string* {
    auto i = service_of.find(r);
    return i == service_of.end() ? nullptr : &i->second;
  };
  // Cold: the whole journal indexed by one backward scan (a rollback reaching the start).
  rollback_index index{store.head().value};
  auto c0 = clock_type::now();
  if (cover(store, index, 1))
    std::exit(4);
  auto cold_ms = ms_since(c0);
  std::vector<double> total, planned, committed, follow_us, read_ms, built_ms;
  for (int run = 0; run < 3; ++run) {
    // Each run reverts a fresh set of n actions (the journal never reverts twice).
    auto head = store.head();
    std::vector<event> fresh;
    for (uint64_t i = 0; i < n; ++i) {
      action_applied a;
      a.resource = resource_id{resource_name(i % 1000)};
      a.key = "k" + std::to_string(run) + "-" + std::to_string(i);
      a.new_value = "x";
      fresh.push_back(make_event(event_type::action_applied, epoch, a));
    }
    auto added = store.append(std::move(fresh));
    if (!added)
      std::exit(2);
    // What the actor does per committed entry (decode, index).
    auto f0 = clock_type::now();
    for (auto& e : *added) {
      action_applied a;
      if (decode(e.ev.payload, a))
        std::exit(4);
      index.add(e.seq.value, a.resource.value, a.key);
    }
    follow_us.push_back(us_since(f0) / static_cast<double>(n));
    std::vector<seq_no> targets;
    for (uint64_t s = head.value + 1; s <= head.value + n; ++s)
      targets.push_back(seq_no{s});
    auto t0 = clock_type::now();
    if (cover(store, index, targets.front().value))
      std::exit(4);
    auto recs = load_records(store, targets);
    if (!recs)
      std::exit(4);
    read_ms.push_back(ms_since(t0));
    auto steps = plan_rollback(targets, *recs, index, lookup, {}, store.head());
    if (!steps)
      std::exit(4);
    planned.push_back(ms_since(t0));
    digest id = rollback_id(digest{}, targets);
    std::vector<event> evs;
    evs.reserve(steps->size() + 1);
    for (auto& s : *steps)
      evs.push_back(make_event(event_type::rollback_applied, epoch,
                               rollback_applied{id, s.reverts, s.resource, s.key,
                                                caf::optional<std::string>{s.current}, s.restore}));
    evs.push_back(make_event(event_type::rollback_finished, epoch,
                             rollback_finished{id, digest{}, true, ec::none,
                                               static_cast<uint32_t>(steps->size()), "bench"}));
    built_ms.push_back(ms_since(t0) - planned.back());
    auto t1 = clock_type::now();
    if (!store.append(std::move(evs)))
      std::exit(2);
    committed.push_back(ms_since(t1));
    total.push_back(ms_since(t0));
  }
  auto best = std::min_element(total.begin(), total.end()) - total.begin();
  std::printf("rollback of %llu applied actions (read + plan + one durable transaction of "
              "%llu events), 3 runs: %.1f / %.1f / %.1f ms; best %.1f ms (read %.1f + plan "
              "%.1f ms, build %.1f + commit %.1f ms)\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(n + 1),
              total[0], total[1], total[2], total[best], read_ms[best],
              planned[best] - read_ms[best], built_ms[best], committed[best]);
  std::printf("rollback conflict index: upkeep %.2f us per applied action followed "
              "(best run); built cold over the %llu-event journal in %.0f ms; %zu actions "
              "indexed\n",
              *std::min_element(follow_us.begin(), follow_us.end()),
              static_cast<unsigned long long>(store.head().value), cold_ms, index.size());
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
  bool only_rollback = argc > 1 && std::string{argv[1]} == "--rollback";
  if (argc > 1 && !quick && !only_rollback) {
    std::printf("usage: incident_bench [--quick | --rollback]\n");
    return std::string{argv[1]} == "--help" ? 0 : 1;
  }
  if (only_rollback) {
    // The rollback alone, over the 1M-event journal.
    print_machine();
    temp_root root{"bulwark-bench-incident"};
    auto store = build_journal(root.sub("journal"), 1'000'000);
    bench_rollback(*store, 10'000);
    return 0;
  }
  print_machine();
  temp_root root{"bulwark-bench-incident"};
  bench_detection(quick ? 100 : 2000);
  auto store = build_journal(root.sub("journal"), quick ? 100'000 : 1'000'000);
  bench_rca(*store, quick ? 200 : 2000);
  bench_rollback(*store, 10'000);
  return 0;
}
