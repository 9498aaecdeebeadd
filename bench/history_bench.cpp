// History queries over a 1M-event journal (docs/performance.md, "History queries").
//
// Builds the journal once in a temporary directory (appends of 20,000 events per
// transaction), then measures, best and median of --runs:
//   - a filtered query returning 10,000 events (type = proposal_decided: 1 % of records),
//     read and rendered as JSON as the console answers it, in pages of 10,000 and of 1,000;
//   - the first page (1,000 events, the default) of the same filter;
//   - a subject filter (principal) returning 10,000 events;
//   - a sparse filter (one incident: 10 events) that reads the whole journal.
//
//   build/bench/history_bench [--quick] [--events N] [--runs R]

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "messages/lifecycle.hpp"
#include "persistence/event_json.hpp"
#include "persistence/history_query.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using bench::clock_type;

namespace {

caf::timestamp at_ms(uint64_t i) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000} + std::chrono::milliseconds{i}};
}

digest dig(uint64_t n) {
  digest d;
  for (int i = 0; i < 8; ++i)
    d.bytes[i] = static_cast<uint8_t>(n >> (8 * i));
  d.bytes[31] = 0xA5;
  return d;
}

/// Record i: every 100th a decision by agent-(i/100 % 10) (10,000 in 1M, 1,000 each),
/// every 100000th + 50 a note on incident 7, the rest effects of changes.
event event_at(uint64_t i) {
  if (i % 100 == 0) {
    proposal_decided d;
    d.proposal = dig(i);
    d.principal = principal_id{"agent-" + std::to_string(i / 100 % 10)};
    d.service = "coaster";
    d.region = "north";
    d.allowed = true;
    d.mutations = {
      mutation{resource_id{"coaster-" + std::to_string(i % 400)}, "firmware", "2.0.1"}};
    return make_event(event_type::proposal_decided, at_ms(i), d);
  }
  if (i % 100000 == 50)
    return make_event(event_type::incident_noted, at_ms(i),
                      incident_remark{dig(7), principal_id{"ops-alice"}, "looking"});
  action_applied a;
  a.proposal = dig(i - i % 100);
  a.step = static_cast<uint32_t>(i % 100);
  a.resource = resource_id{"coaster-" + std::to_string(i % 400)};
  a.key = "firmware";
  a.old_value = std::string{"2.0.0"};
  a.new_value = "2.0.1";
  return make_event(event_type::action_applied, at_ms(i), a);
}

/// CPU time of this thread, ms (wall time on a shared machine counts the other builds).
double cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct result {
  double best = 0, median = 0;
  double cpu_best = 0;
  size_t events = 0;
  uint64_t scanned = 0;
};

/// Runs `f` pages of `limit` until `want` events are read (or the range ends), rendering
/// each event as the console does.
result measure(journal_store& store, history_filter f, uint32_t limit, size_t want, int runs) {
  std::vector<double> times, cpu;
  result r;
  for (int run = 0; run < runs; ++run) {
    auto q = f;
    q.limit = limit;
    size_t got = 0;
    uint64_t scanned = 0;
    size_t bytes = 0;
    auto t0 = clock_type::now();
    auto c0 = cpu_ms();
    while (got < want) {
      auto page = read_history(store, q);
      if (!page) {
        std::fprintf(stderr, "query failed: %s\n", to_string(page.error()).c_str());
        std::exit(2);
      }
      nlohmann::json events = nlohmann::json::array();
      for (auto& e : page->events)
        events.push_back(to_json(e));
      bytes += events.dump().size();
      got += page->events.size();
      scanned += page->scanned;
      if (page->next == 0)
        break;
      q.from = page->next;
    }
    times.push_back(bench::ms_since(t0));
    cpu.push_back(cpu_ms() - c0);
    r.events = got;
    r.scanned = scanned;
    if (bytes == 0 && got > 0)
      std::exit(3);
  }
  r.best = *std::min_element(times.begin(), times.end());
  r.cpu_best = *std::min_element(cpu.begin(), cpu.end());
  r.median = bench::percentile(times, 50);
  return r;
}

history_filter filter(std::initializer_list<std::pair<const char*, std::string>> args) {
  history_filter f;
  std::string why;
  for (auto& [k, v] : args)
    if (!set_history_arg(f, k, v, why)) {
      std::fprintf(stderr, "%s\n", why.c_str());
      std::exit(1);
    }
  return f;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t n = 1'000'000;
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      n = 100'000; // 1,000 decisions: the 10,000-event rows return what there is
      runs = 2;
    } else if (a == "--events" && i + 1 < argc) {
      n = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: history_bench [--quick] [--events N] [--runs R]\n");
      return 1;
    }
  }
  bench::print_machine();
  bench::temp_root root{"bulwark-history"};
  store_options opts;
  opts.dir = root.sub("journal");
  opts.create = true;
  opts.initial_map_size = uint64_t{1} << 30;
  auto store = journal_store::open(opts);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", to_string(store.error()).c_str());
    return 2;
  }
  auto t0 = clock_type::now();
  constexpr uint64_t batch = 20000;
  for (uint64_t i = 0; i < n; i += batch) {
    std::vector<event> evs;
    evs.reserve(batch);
    for (uint64_t j = i; j < std::min(n, i + batch); ++j)
      evs.push_back(event_at(j));
    if (auto r = (*store)->append(std::move(evs)); !r) {
      std::fprintf(stderr, "append: %s\n", to_string(r.error()).c_str());
      return 2;
    }
  }
  std::printf("journal: %llu events built in %.1f s\n", static_cast<unsigned long long>(n),
              bench::ms_since(t0) / 1000);
  auto& s = **store;
  auto row = [](const char* what, const result& r, const char* target) {
    std::printf("| %s | %zu events, %llu records read | best %.1f ms, median %.1f ms; CPU "
                "%.1f ms | %s |\n",
                what, r.events, static_cast<unsigned long long>(r.scanned), r.best, r.median,
                r.cpu_best, target);
  };
  std::printf("| query | answer | time (%d runs) | target |\n| --- | --- | --- | --- |\n", runs);
  auto decisions = filter({{"type", "proposal_decided"}});
  auto all = measure(s, decisions, history_max_page, 10000, runs);
  row("type=proposal_decided, 10,000 events in one page of 10,000", all,
      all.best < 1000 ? "< 1 s: met" : "< 1 s: not met");
  auto paged = measure(s, decisions, history_default_page, 10000, runs);
  row("the same in 10 pages of 1,000 (each from the last one's next)", paged, "-");
  auto first = measure(s, decisions, history_default_page, history_default_page, runs);
  row("the first page (1,000 events) of the same", first,
      first.best < 50 ? "< 50 ms: met" : "< 50 ms: not met");
  auto who = measure(s, filter({{"principal", "agent-3"}, {"limit", "10000"}}), history_max_page,
                     10000, runs);
  row("principal=agent-3 (1,000 decisions name it)", who, "-");
  auto incident = measure(s, filter({{"incident", to_hex(dig(7))}}), history_max_page, 10000, runs);
  row("incident=one digest (10 notes), the whole journal read", incident, "-");
  return 0;
}
