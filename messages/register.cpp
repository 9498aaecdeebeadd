#include "messages/register.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"

#include "messages/error.hpp"
#include "messages/events.hpp"
#include "messages/forwarding.hpp"
#include "messages/cluster.hpp"
#include "messages/commands.hpp"
#include "messages/interfaces.hpp"
#include "messages/lifecycle.hpp"
#include "messages/scope.hpp"
#include "messages/state.hpp"

namespace bulwark {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::bulwark_types>();
  cfg.add_message_types<caf::id_block::bulwark_actors>();
  cfg.add_error_category(caf::atom(error_category), render_error);
}

void tune_scheduler(caf::actor_system_config& cfg) {
  // A worker that runs out of work polls its queue 100 times (CAF's aggressive phase),
  // then waits on its condition variable. CAF's moderate phase of 500 more polls in
  // between cost CPU at one submitter for no gain in throughput or latency
  // (docs/performance.md, "Decision and level-4 pipeline").
  cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  // An idle worker waits for work on its condition variable, which an enqueue from
  // outside wakes at once; CAF's default wakes it every 10 ms to look for work to steal,
  // which alone cost an idle node about half a percent of a core (docs/performance.md).
  cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::milliseconds{100}});
  // One worker per core, at least two: CAF's default of at least four puts twice as many
  // workers as cores on a 2-core machine, each woken and switched in turn.
  cfg.set("scheduler.max-threads", static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
}

} // namespace bulwark
