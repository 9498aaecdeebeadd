#pragma once

/// The authority actor: the shell around `authority_policy`.

#include <map>
#include <memory>
#include <set>
#include <string>

#include "caf/actor_clock.hpp"
#include "caf/fwd.hpp"

#include "actors/authority/authority_policy.hpp"
#include "actors/authority/approval_policy.hpp"
#include "actors/blast_radius/blast_radius.hpp"
#include "messages/interfaces.hpp"
#include "supervision/halt_guard.hpp"
#include "supervision/live_settings.hpp"

namespace bulwark {

class mailbox_gauge; // supervision/mailbox_gauge.hpp

/// Settings of the authority actor.
struct authority_settings {
  authority_config policy;
  std::set<std::string> admins; ///< principals allowed to grant, halt and release
  /// Who may approve or deny ([authority] operators, approver_role, allow_self_approval);
  /// its `admins` are `admins` above (set when the engine starts).
  approval_policy approvals;
  std::shared_ptr<const node_conditions> conditions; ///< degradation level (none: normal)
  std::shared_ptr<mailbox_gauge> mailbox{}; ///< its mailbox depth, for BACKLOG (none: not sampled)
  /// The newest settings after a policy reload (none: these stay).
  std::shared_ptr<live_settings<authority_settings>> live{};
};

/// State of the authority actor.
struct authority_state {
  authority_settings settings;
  journal_actor journal;
  std::map<std::string, grant_state> grants; ///< journaled grant changes
  bool halted = false;
  std::map<std::string, token_bucket> buckets;
  uint8_t rate_level = 0;                        ///< degradation level the rates follow
  caf::timestamp epoch;                          ///< wall time at `start`
  caf::actor_clock::time_point start;
  uint64_t settings_seen = 0;                    ///< the generation of `settings.live` copied
  std::shared_ptr<blast_window> window;          ///< blast radius's window (the governance step)
  static inline const char* name = "authority";
};

/// Starts by reading the journaled grants and halt from the journal (so a restarted
/// authority knows every change) and answers nothing before that. `epoch` maps the actor
/// clock to wall time. `window` is blast radius's (the same object its actor checks
/// against): the governance step (`check`) reserves a proposal's scope in it under its lock.
authority_actor::behavior_type authority(authority_actor::stateful_pointer<authority_state> self,
                                         authority_settings settings, journal_actor journal,
                                         caf::timestamp epoch,
                                         std::shared_ptr<blast_window> window);

/// Returns the actor's notion of now: `epoch` plus the actor clock's elapsed time.
caf::timestamp authority_now(authority_actor::stateful_pointer<authority_state> self);

} // namespace bulwark
