// The notifier's actor (journal subscription, journal appends) and its delivery threads
// (one per webhook, libcurl through the http effectors' client).

#include "notify/notifier.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "effectors/http_call.hpp"
#include "messages/error.hpp"
#include "notify/notify_body.hpp"
#include "persistence/make_event.hpp"
#include "supervision/supervisor.hpp"

namespace bulwark {

// Named, not anonymous: `notifier::core` holds lanes, and a member whose type has
// internal linkage is an error when this file is built in a unity batch.
namespace notify_detail {

/// One notification for one webhook.
struct job {
  notify_kind kind = notify_kind::halt_engaged;
  uint64_t seq = 0;
  std::string body;
};

/// One webhook: its spec, its client, its waiting jobs and counts (guarded by core::mtx).
struct lane {
  webhook_spec spec;
  std::unique_ptr<http_endpoint> endpoint;
  std::deque<job> jobs;
  bool busy = false; ///< a job taken off `jobs` is being delivered
  uint64_t delivered = 0;
  uint64_t failed = 0;
  uint64_t dropped = 0;
  std::thread worker;
};

} // namespace notify_detail

using notify_detail::job;
using notify_detail::lane;

namespace {

/// How long an append of a `notification_sent` record may take before it counts as failed.
constexpr auto journal_timeout = std::chrono::seconds{10};

} // namespace

struct notifier::core {
  mutable std::mutex mtx;
  std::condition_variable wake;
  std::vector<std::unique_ptr<lane>> lanes;
  size_t capacity = 0;
  size_t depth = 0; ///< jobs waiting or being delivered, every lane together
  bool stopping = false;
  std::atomic<uint64_t> journal_failures{0};
  std::string node;
  caf::actor feed; ///< subscribed to the journal; appends the statuses
  uint64_t last_taken = 0; ///< the newest seq the feed took (a restarted feed goes on after it)
  std::mt19937_64 jitter{std::random_device{}()};

  /// Queues `j` for `l`; false when the node's queue is full (the drop is counted).
  bool offer(lane& l, job j) {
    std::lock_guard<std::mutex> guard{mtx};
    if (stopping)
      return true; // not sent, not a drop: the node is stopping
    if (depth >= capacity) {
      ++l.dropped;
      return false;
    }
    ++depth;
    l.jobs.push_back(std::move(j));
    wake.notify_all();
    return true;
  }

  /// The key receivers may deduplicate retries with: printable ASCII only.
  std::string idempotency_key(const lane& l, uint64_t seq) const {
    auto key = "bulwark-" + node + "-" + l.spec.name + "-" + std::to_string(seq);
    for (auto& c : key)
      if (c < '!' || c > '~')
        c = '_';
    return key;
  }

  /// Sends `j` until a 2xx answer or `max_attempts`; waits between attempts unless stopping.
  notification_sent deliver(lane& l, const job& j) {
    notification_sent out{l.spec.name, to_string(j.kind), j.seq, delivery_status::failed, 0, {}};
    auto key = idempotency_key(l, j.seq);
    for (uint32_t attempt = 1; attempt <= l.spec.max_attempts; ++attempt) {
      auto answer = l.endpoint->post(j.body, key, l.spec.timeout);
      auto verdict = judge_attempt(answer.end == http_end::answered, answer.status, answer.error);
      out.attempts = attempt;
      if (verdict.delivered) {
        out.status = delivery_status::delivered;
        out.reason.clear();
        return out;
      }
      out.reason = verdict.reason;
      if (attempt == l.spec.max_attempts)
        break;
      std::unique_lock<std::mutex> lock{mtx};
      std::uniform_real_distribution<double> unit{0.0, 1.0};
      auto delay = retry_delay(l.spec.backoff, attempt, unit(jitter));
      if (wake.wait_for(lock, delay, [this] { return stopping; })) {
        out.reason += "; the node stopped before the next attempt";
        break;
      }
    }
    return out;
  }

  notify_figures figures() const {
    notify_figures out;
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& l : lanes)
      out.webhooks.push_back({l->spec.name, l->delivered, l->failed, l->dropped,
                              l->jobs.size() + (l->busy ? 1 : 0)});
    out.queue_depth = depth;
    out.queue_capacity = capacity;
    out.journal_failures = journal_failures.load();
    return out;
  }

  void run(lane& l) {
    for (;;) {
      job j;
      {
        std::unique_lock<std::mutex> lock{mtx};
        wake.wait(lock, [&] { return stopping || !l.jobs.empty(); });
        if (stopping)
          return;
        j = std::move(l.jobs.front());
        l.jobs.pop_front();
        l.busy = true;
      }
      auto status = deliver(l, j);
      caf::actor to;
      {
        std::lock_guard<std::mutex> guard{mtx};
        l.busy = false;
        --depth;
        if (status.status == delivery_status::delivered)
          ++l.delivered;
        else
          ++l.failed;
        to = feed;
      }
      if (status.status != delivery_status::delivered)
        spdlog::warn("notify: {} {} (seq {}) failed after {} attempts: {}", l.spec.name,
                     status.kind, status.event_seq, status.attempts, status.reason);
      if (to)
        caf::anon_send(to, atom::append_v,
                       make_event(event_type::notification_sent, caf::make_timestamp(), status));
    }
  }
};

namespace {

using core_ptr = std::shared_ptr<notifier::core>;

/// Journals one delivery status; a failed append is counted, never waited for.
void journal_status(caf::event_based_actor* self, const core_ptr& c,
                    const journal_actor& journal, event ev) {
  self->request(journal, journal_timeout, atom::append_v, std::move(ev))
    .then([](const appended&) {},
          [c](caf::error& err) {
            ++c->journal_failures;
            spdlog::warn("notify: a notification_sent record was not journaled: {}",
                         describe(err).message);
          });
}

/// Queues the notifications of one committed entry; journals the ones dropped.
void take(caf::event_based_actor* self, const core_ptr& c, const journal_actor& journal,
          const journal_entry& e) {
  {
    std::lock_guard<std::mutex> guard{c->mtx};
    if (e.seq.value <= c->last_taken)
      return; // a restarted feed's subscription starts after it; never twice
    c->last_taken = e.seq.value;
  }
  auto kind = notify_kind_of(e.ev);
  if (!kind)
    return;
  std::map<notify_format, std::string> bodies; // one rendering per format
  for (auto& l : c->lanes) {
    if (!l->spec.kinds.count(*kind))
      continue;
    auto& body = bodies[l->spec.format];
    if (body.empty())
      body = notify_body(l->spec.format, *kind, e, c->node);
    if (c->offer(*l, job{*kind, e.seq.value, body}))
      continue;
    notification_sent x{l->spec.name, to_string(*kind), e.seq.value, delivery_status::dropped,
                        0, "the notification queue is full (" + std::to_string(c->capacity)
                             + ")"};
    journal_status(self, c, journal,
                   make_event(event_type::notification_sent, caf::make_timestamp(), x));
  }
}

caf::behavior notify_feed(caf::event_based_actor* self, core_ptr c, journal_actor journal) {
  return {
    [self, c, journal](atom::committed, const std::vector<journal_entry>& entries) {
      for (auto& e : entries)
        take(self, c, journal, e);
    },
    [self, c, journal](atom::append, event& ev) { journal_status(self, c, journal, std::move(ev)); },
  };
}

} // namespace

notifier::notifier(std::shared_ptr<core> c) : core_(std::move(c)) {
}

std::unique_ptr<notifier> notifier::start(caf::actor_system& sys, journal_actor journal,
                                          seq_no from, notify_settings settings,
                                          std::string node) {
  auto c = std::make_shared<core>();
  c->capacity = settings.queue;
  c->node = std::move(node);
  for (auto& spec : settings.webhooks) {
    auto l = std::make_unique<lane>();
    l->endpoint = std::make_unique<http_endpoint>(spec.http);
    l->spec = std::move(spec);
    c->lanes.push_back(std::move(l));
  }
  for (auto& l : c->lanes)
    l->worker = std::thread{[c, raw = l.get()] { c->run(*raw); }};
  c->last_taken = from.value;
  c->feed = sys.spawn(notify_feed, c, journal);
  caf::anon_send(journal, atom::subscribe_v, caf::actor_cast<subscriber_actor>(c->feed), from);
  return std::unique_ptr<notifier>(new notifier(std::move(c)));
}

child_spec notifier::child(journal_actor journal) {
  auto first = std::make_shared<bool>(true);
  return child_spec{
    "notify_feed", restart_kind::permanent,
    [c = core_, journal, first](caf::local_actor* sup) -> caf::actor {
      std::unique_lock<std::mutex> guard{c->mtx};
      if (std::exchange(*first, false))
        return c->feed;
      auto feed = sup->home_system().spawn(notify_feed, c, journal);
      c->feed = feed; // the delivery threads send their statuses to the new one
      seq_no from{c->last_taken};
      guard.unlock();
      caf::anon_send(journal, atom::subscribe_v, caf::actor_cast<subscriber_actor>(feed), from);
      return feed;
    }};
}

notifier::~notifier() {
  stop();
}

void notifier::stop() {
  {
    std::lock_guard<std::mutex> guard{core_->mtx};
    if (core_->stopping)
      return;
    core_->stopping = true;
  }
  core_->wake.notify_all();
  for (auto& l : core_->lanes)
    if (l->worker.joinable())
      l->worker.join(); // a delivery that ends now still sends its status to the feed
  caf::actor feed;
  {
    std::lock_guard<std::mutex> guard{core_->mtx};
    feed = std::move(core_->feed);
    core_->feed = nullptr;
  }
  if (feed)
    caf::anon_send_exit(feed, caf::exit_reason::user_shutdown);
}

notify_figures notifier::figures() const {
  return core_->figures();
}

std::function<notify_figures()> notifier::reader() const {
  auto c = core_;
  return [c] { return c->figures(); };
}

} // namespace bulwark
