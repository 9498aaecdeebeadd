#pragma once

/// Internal to engine/: the command actor a clustered node's cluster actor hands mutating
/// operator commands to while the node writes, and the embedding API's conversions.

#include <memory>
#include <set>
#include <string>

#include "caf/fwd.hpp"

#include "actors/admission/admission.hpp"
#include "actors/circuit_breaker/effectors.hpp"
#include "bulwark/engine.hpp"
#include "messages/forwarding.hpp"
#include "messages/interfaces.hpp"
#include "supervision/live_settings.hpp"
#include "supervision/supervisor.hpp"

namespace bulwark {

/// The actors a command runs against; the slots fill as the engine starts them.
struct command_targets {
  std::shared_ptr<handle_slot<authority_actor>> authority;
  pipeline_actor pipeline;
  std::shared_ptr<handle_slot<orchestrator_actor>> orchestrator;
  std::shared_ptr<breaker_directory> breakers;
  handle_slot<rollback_actor> rollbacks;  ///< set once the rollback executor runs
  std::shared_ptr<handle_slot<admission_actor>> admission; ///< the engine's (restarts update it)
  std::shared_ptr<const admin_list> admins; ///< who may requeue, discard and release (API)
};

/// Spawns the command actor over `targets`.
command_actor spawn_commands(caf::actor_system& sys, std::shared_ptr<command_targets> targets);

/// Returns the console command that runs `kind` (its role applies to console callers),
/// or "" for commands only the embedding API gives (enroll, release_principal).
std::string console_command_of(const operator_command& cmd);

/// Converts the leader's answer into the embedding API's result, as the same call on the
/// leader gives it.
result to_result(const operator_answer& a);

/// A command of the embedding API (no console role) by `by`.
operator_command api_command(command_kind kind, const std::string& by);

/// Clustered: hands `cmd` (from the embedding API) to the cluster actor, which runs it
/// where the journal is written, and returns the answer as a result (engine_forward.cpp).
result forward_command(engine::impl& d, operator_command cmd);

/// The embedding API's result for a rollback's status (engine_incidents.cpp).
result rollback_result(const rollback_status& s);

} // namespace bulwark
