#pragma once

/// Registration of Bulwark's message types, actor handles and error renderer with CAF.

#include "caf/fwd.hpp"

namespace bulwark {

/// Registers every message type, actor handle and the error category with `cfg`.
/// Called by the engine and by the test fixture before an actor system is built.
void register_types(caf::actor_system_config& cfg);

/// Sets the work-stealing scheduler for short hand-offs: an idle worker polls its queue
/// a few hundred times without sleeping, then blocks on its condition variable, where the
/// next job wakes it at once. CAF's default sleeps 50 us between polls for the first
/// 25 ms of idleness, which put 50-110 us on every message hop (README, Performance).
/// Runs one worker per core (at least two) instead of CAF's at least four: on a 2-core
/// machine the level-4 pipeline ran 2-5 % faster in alternating runs. Blocking work
/// never runs on these workers (the journal is detached, effectors run on the breakers'
/// pools, snapshot encoders are blocking actors with threads of their own).
/// Every real-clock actor system of ours (engine, benchmarks) is configured with it.
void tune_scheduler(caf::actor_system_config& cfg);

} // namespace bulwark
