#pragma once

/// A supervisor in the manner of Erlang/OTP on CAF monitors: it starts its children in
/// order, restarts them by strategy with backoff, journals every restart, and exits
/// (escalates to whoever monitors it) when restarts exceed the intensity limit.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"

#include "messages/events.hpp"
#include "messages/interfaces.hpp"
#include "supervision/restart_policy.hpp"

namespace bulwark {

/// How to start one child: `start` spawns it (from the supervisor) and returns its handle.
struct child_spec {
  std::string name;
  restart_kind kind = restart_kind::permanent;
  std::function<caf::actor(caf::local_actor* supervisor)> start;
};

/// A one-shot worker: an actor that ends when its job is done (a forwarded submission,
/// a report to journal). It is never restarted (that would run its job twice): when it
/// ends abnormally, or its supervisor stops first, `on_failure` gets the reason and
/// answers whoever waits for the job.
struct worker_spec {
  std::string name;
  std::function<caf::actor(caf::local_actor* supervisor)> start;
  std::function<void(const caf::error&)> on_failure;
};

/// A handle that changes when its actor is restarted; empty while the actor is down.
template <class Handle>
class handle_slot {
public:
  Handle get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return handle_;
  }
  /// Holds `h` from now on, unless the slot is closed.
  void set(Handle h) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!closed_)
      handle_ = std::move(h);
  }
  /// Empties the slot for good: a later `set` is ignored. A supervisor may start its
  /// children after its engine began to stop; what it starts then must not outlive the
  /// actor system (a detached actor held here would keep the system's shutdown waiting).
  void close() {
    std::lock_guard<std::mutex> guard{mtx_};
    handle_ = Handle{};
    closed_ = true;
  }

private:
  mutable std::mutex mtx_;
  Handle handle_;
  bool closed_ = false;
};

/// Kills the actor `slot` holds now, for `chaos kill NAME` (UNAVAILABLE when none runs).
std::function<caf::error()> slot_killer(const std::string& name,
                                        std::shared_ptr<handle_slot<caf::actor>> slot);

/// Children waiting to be added to a running supervisor: push a spec, then send the
/// supervisor `atom::enroll` (specs hold functions, which do not travel in messages).
class child_queue {
public:
  void push(child_spec spec) {
    std::lock_guard<std::mutex> guard{mtx_};
    specs_.push_back(std::move(spec));
  }
  std::vector<child_spec> take() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::exchange(specs_, {});
  }
  /// Queues a one-shot worker (started on the next `atom::enroll`).
  void push_worker(worker_spec spec) {
    std::lock_guard<std::mutex> guard{mtx_};
    workers_.push_back(std::move(spec));
  }
  std::vector<worker_spec> take_workers() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::exchange(workers_, {});
  }

private:
  std::mutex mtx_;
  std::vector<child_spec> specs_;
  std::vector<worker_spec> workers_;
};

/// State of a supervisor.
struct supervisor_state {
  std::string name;
  restart_policy policy;
  std::vector<child_spec> specs;
  std::vector<caf::actor> children;
  std::function<void(actor_restarted)> report; ///< journals restarts (given by the engine)
  std::shared_ptr<child_queue> queue;          ///< children added later
  /// One-shot workers running, by address: forgotten when they end, never restarted.
  std::map<caf::actor_addr, worker_spec> workers;
  uint64_t workers_failed = 0; ///< workers that ended abnormally
  bool stopping = false;
  caf::actor_clock::time_point start;
  static inline const char* name_of = "supervisor";
};

/// Runs a supervisor named `name` over `specs` (started in order); specs pushed to `queue`
/// are added on `atom::enroll` (e.g. one breaker per service as effectors register), and so
/// are one-shot workers (`worker_spec`), which it monitors until they end. Every restart
/// and escalation is passed to `report` (the engine journals it).
caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, std::string name,
                         supervisor_limits limits, std::vector<child_spec> specs,
                         std::function<void(actor_restarted)> report,
                         std::shared_ptr<child_queue> queue = nullptr);

} // namespace bulwark
