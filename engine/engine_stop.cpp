// How an engine stops: every supervisor and every actor behind a door gets its exit, the
// handles the engine holds are dropped and their slots closed, the effector threads are
// joined, and whoever still waits for an answer hears that the engine stopped; then the
// actor system goes (it waits for the journal's thread, which ends with its last handle),
// and the lock on the data directory is released.

#include <unistd.h>

#include <memory>
#include <mutex>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/send.hpp"

#include "actors/circuit_breaker/breaker_runtime.hpp"
#include "around_caf/submission_sink.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"
#include "messages/error.hpp"

namespace bulwark {

void engine::stop() {
  auto& d = *impl_;
  if (d.stopped)
    return;
  d.stopped = true;
  // Every supervisor first, the root before them: each has its own exit in its mailbox
  // before any child's down can arrive, so none restarts what is stopped below. The
  // detector and the orchestrator stop with the watch supervisor.
  caf::anon_send_exit(d.root, caf::exit_reason::user_shutdown);
  for (auto& sup : {d.flights_sup, d.governance, d.execution, d.watch, d.intake, d.cluster_sup,
                    d.doors_sup})
    if (sup)
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  d.stop_behind_doors();
  for (auto h : {caf::actor_cast<caf::actor>(d.rollbacks), caf::actor_cast<caf::actor>(d.pipeline),
                 caf::actor_cast<caf::actor>(d.blast), caf::actor_cast<caf::actor>(d.journal)})
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  if (auto keeper = d.attempt_keeper->get())
    caf::anon_send_exit(keeper, caf::exit_reason::user_shutdown);
  if (d.cluster)
    caf::anon_send_exit(d.cluster, caf::exit_reason::user_shutdown);
  if (d.commands)
    caf::anon_send_exit(d.commands, caf::exit_reason::user_shutdown);
  for (auto& s : d.subscribers)
    if (auto a = s->get())
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  d.pump();
  if (d.sched != nullptr) {
    // Fire pending timers so nothing keeps the stopped actors alive.
    while (d.sched->has_job() || d.sched->has_pending_timeout()) {
      d.sched->trigger_timeouts();
      d.sched->run();
    }
  }
  d.pipeline = nullptr;
  d.flights_sup = nullptr;
  d.detector->close();
  d.orchestrator->close();
  d.rollbacks = nullptr;
  d.blast = nullptr;
  d.authority->close();
  d.governance = nullptr;
  d.root = nullptr;
  d.doors_sup = nullptr;
  d.workers = nullptr;
  d.journal = nullptr;
  d.cluster = nullptr;
  d.commands = nullptr;
  if (d.command_slots) { // the slots hold handles of stopped actors
    d.command_slots->rollbacks.close();
    d.command_slots->admission = nullptr; // the engine's own slot is cleared below
    d.command_slots->pipeline = nullptr;
  }
  for (auto& s : d.subscribers)
    s->close();
  d.subscribers.clear();
  d.execution = nullptr;
  d.watch = nullptr;
  d.intake = nullptr;
  d.attempt_keeper->close();
  d.cluster_sup = nullptr;
  d.admission->close();
  d.health->close();
  d.breakers->clear();
  // Children handed to a supervisor that did not take them yet hold the journal's handle:
  // drop them, or the detached journal's thread would wait for it forever.
  if (d.execution_queue)
    d.execution_queue->take();
  d.root_queue->take();
  if (d.watch_queue)
    d.watch_queue->take();
  std::vector<std::shared_ptr<breaker_runtime>> runtimes;
  {
    std::lock_guard<std::mutex> guard{d.runtimes_mtx};
    runtimes.swap(d.runtimes);
  }
  runtimes.clear(); // joins the effector threads before the system goes
  // Every actor is done (the system's destructor would wait for the same): none pushes a
  // worker any more; one pushed since the drain above holds the journal's handle.
  d.sys->await_all_actors_done();
  for (auto& w : d.workers_queue->take_workers())
    if (w.on_failure)
      w.on_failure(caf::make_error(caf::sec::runtime_error, "the engine stopped"));
  if (d.sink) {
    // Every actor that could answer a submission is done; one still open now hears that
    // the engine stopped.
    d.sink->close(refuse(ec::unavailable, "the engine is stopped"));
    d.sink.reset();
  }
  d.sys.reset();
  d.store.reset();
  if (d.lock_fd >= 0) {
    ::close(d.lock_fd); // releases the flock
    d.lock_fd = -1;
  }
}

} // namespace bulwark
