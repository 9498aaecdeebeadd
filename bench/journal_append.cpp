// Journal benchmark, durable append: the journal actor under concurrent appenders.

#include <atomic>
#include <sys/resource.h>
#include <thread>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/journal/journal.hpp"
#include "bench/journal_bench.hpp"
#include "messages/register.hpp"

namespace bulwark::bench {

namespace {

/// What the journal told its subscriber: one `committed` message per transaction.
struct commit_tally {
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> events{0};
};

subscriber_actor::behavior_type commit_counter(subscriber_actor::pointer,
                                               std::shared_ptr<commit_tally> tally) {
  return {
    [tally](atom::committed, const std::vector<journal_entry>& entries) {
      tally->commits += 1;
      tally->events += entries.size();
    },
  };
}

struct appender_state {
  journal_actor journal;
  uint64_t next = 0; ///< id of the next event; ranges are disjoint across appenders
  uint64_t end = 0;
  std::vector<double>* acks = nullptr; ///< owned by bench_append, read once we are down
  static inline const char* name = "appender";
};
using appender_ptr = caf::stateful_actor<appender_state>*;

void append_next(appender_ptr self);

/// Records the acknowledgement latency, then keeps exactly one append outstanding.
void on_ack(appender_ptr self, clock_type::time_point sent) {
  self->state.acks->push_back(us_since(sent));
  if (self->state.next < self->state.end)
    append_next(self);
  else
    self->quit();
}

void append_next(appender_ptr self) {
  auto ev = applied_256(self->state.next++);
  auto sent = clock_type::now();
  self->request(self->state.journal, caf::infinite, atom::append_v, std::move(ev))
    .then([self, sent](const appended&) { on_ack(self, sent); },
          [self](caf::error& err) { self->quit(std::move(err)); });
}

/// Appends events [first, first + count) one at a time; quits with the first error.
caf::behavior appender(appender_ptr self, journal_actor journal, uint64_t first,
                       uint64_t count, std::vector<double>* acks) {
  self->state = appender_state{std::move(journal), first, first + count, acks};
  acks->reserve(count);
  append_next(self);
  return {}; // alive while its one request is pending; quits after the last ack
}

/// Spawns the appenders and waits for all of them; returns the wall time in seconds.
double drive_appenders(caf::actor_system& sys, const journal_actor& journal,
                       uint64_t per, std::vector<std::vector<double>>& acks) {
  caf::scoped_actor self{sys};
  auto t0 = clock_type::now();
  for (size_t a = 0; a < acks.size(); ++a)
    self->spawn<caf::monitored>(appender, journal, a * per, per, &acks[a]);
  caf::error failure;
  for (size_t a = 0; a < acks.size(); ++a)
    self->receive([&](const caf::down_msg& dm) {
      if (dm.reason && dm.reason != caf::exit_reason::normal)
        failure = dm.reason;
    });
  auto secs = ms_since(t0) / 1000;
  if (failure)
    fail("an append failed: " + sys.render(failure));
  return secs;
}

/// CPU seconds (user + system, every thread) this process has used so far. Includes
/// what CAF's idle scheduler workers burn polling for work while a commit waits on fsync.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

/// Waits (bounded) until the subscriber has seen `total` events, so the count is final.
uint64_t commits_after(const commit_tally& tally, uint64_t total) {
  auto t0 = clock_type::now();
  while (tally.events.load() < total && ms_since(t0) < 10'000)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return tally.commits.load();
}

void report_append(size_t appenders, double secs, double cpu_secs, uint64_t commits,
                   double fsync_p99, std::vector<double>& lat, report& rep) {
  auto n = static_cast<double>(lat.size());
  auto p50 = percentile(lat, 50), p99 = percentile(lat, 99);
  auto cpu_us = cpu_secs * 1e6 / std::max(n, 1.0);
  rep.json["append"].push_back({{"appenders", appenders}, {"events", lat.size()},
                                {"seconds", secs}, {"events_per_s", n / secs},
                                {"cpu_us_per_event", cpu_us}, {"commits", commits},
                                {"ack_p50_us", p50}, {"ack_p99_us", p99}});
  auto what = "durable append, " + std::to_string(appenders) + " appender"
              + (appenders > 1 ? "s (" : " (") + std::to_string(lat.size()) + " events)";
  auto c = static_cast<double>(std::max<uint64_t>(commits, 1));
  auto result = format("%.0f ev/s, %.0f commits (%.1f ev/commit), ack p50 %.0f us,", n / secs,
                       static_cast<double>(commits), n / c, p50)
                + format(" p99 %.0f us, %.1f us process CPU/event", p99, cpu_us);
  if (appenders == 1)
    rep.add(what, result, format("p99 ack <= 3x fsync p99 = %.0f us", 3 * fsync_p99),
            p99 <= 3 * fsync_p99);
  else if (appenders == 256)
    rep.add(what, result, ">= 200000 ev/s", n / secs >= 200'000);
  else
    rep.add(what, result);
}

/// Stops its actors on scope exit, also when a measurement throws: otherwise the actor
/// system's destructor would wait for them forever.
struct stopper {
  std::vector<caf::actor> actors;
  ~stopper() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
};

} // namespace

/// Durable append with `appenders` concurrent appenders on a fresh journal.
void bench_append(const temp_root& tmp, size_t appenders, uint64_t total, double fsync_p99,
                  report& rep) {
  auto store = open_store(tmp.sub("append-" + std::to_string(appenders)));
  caf::actor_system_config cfg;
  register_types(cfg);
  tune_scheduler(cfg);
  caf::actor_system sys{cfg}; // declared after `store`, so it is gone before the store
  auto journal = spawn_journal(sys, store, journal_settings{}); // detached, default snapshots
  if (!journal)
    fail("cannot spawn the journal: " + sys.render(journal.error()));
  // The pipeline subscribes on a real node too, so counting commits this way costs what
  // production pays: one message (a copy of the entries) per transaction.
  auto tally = std::make_shared<commit_tally>();
  auto counter = sys.spawn(commit_counter, tally);
  stopper stop{{caf::actor_cast<caf::actor>(*journal), caf::actor_cast<caf::actor>(counter)}};
  caf::anon_send(*journal, atom::subscribe_v, counter, store->head());
  uint64_t per = total / appenders;
  std::vector<std::vector<double>> acks(appenders);
  auto cpu0 = cpu_seconds();
  auto secs = drive_appenders(sys, *journal, per, acks);
  auto commits = commits_after(*tally, per * appenders);
  auto cpu = cpu_seconds() - cpu0;
  std::vector<double> all;
  for (auto& a : acks)
    all.insert(all.end(), a.begin(), a.end());
  report_append(appenders, secs, cpu, commits, fsync_p99, all, rep);
  auto tail = store->prepared(true);
  std::fprintf(stderr, "  %zu appenders: data.mdb used %.1f MiB, prepared to %.1f MiB in %llu "
               "extensions (%llu failed)\n", appenders, tail.used_end / 1048576.0,
               tail.prepared_end / 1048576.0, static_cast<unsigned long long>(tail.extensions),
               static_cast<unsigned long long>(tail.failures));
}

} // namespace bulwark::bench
