#pragma once

/// Mutating operator commands as a clustered node hands them to the node that writes
///: the command with its caller (principal and console role), and the answer the
/// leader's own actors gave. docs/cluster.md "Routing" lists the commands.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/optional.hpp"
#include "caf/timestamp.hpp"

#include "messages/commands.hpp"
#include "messages/error.hpp"
#include "messages/ids.hpp"
#include "messages/incidents.hpp"

namespace bulwark {

/// Which command; the values travel between nodes (append only).
enum class command_kind : uint8_t {
  enroll = 1,            ///< register a resource (`registration`)
  halt = 2,              ///< engage the halt (`text`: reason)
  release = 3,           ///< release the halt (`text`: reason)
  grant = 4,             ///< set `target`'s grant to `level` until `until` (`text`: reason)
  breaker_force = 5,     ///< force `target`'s breaker open (`flag`) or closed
  breaker_release = 6,   ///< release `target`'s forced breaker
  requeue = 7,           ///< requeue dead letter `letter` (`text`: reason, `deadline`)
  discard = 8,           ///< discard dead letter `letter` (`text`: reason)
  release_principal = 9, ///< release quarantined principal `target`
  promote = 10,          ///< promote deferred candidate `id` (`text`: justification)
  rollback = 11,         ///< roll back incident `id` or `seqs` (`text`: justification)
  approve = 12,          ///< approve (`flag`) or deny the rollback or proposal `id` (`text`: note)
};

/// Returns the command's name, e.g. "breaker_force".
inline const char* to_string(command_kind x) noexcept {
  switch (x) {
    case command_kind::enroll: return "enroll";
    case command_kind::halt: return "halt";
    case command_kind::release: return "release";
    case command_kind::grant: return "grant";
    case command_kind::breaker_force: return "breaker_force";
    case command_kind::breaker_release: return "breaker_release";
    case command_kind::requeue: return "requeue";
    case command_kind::discard: return "discard";
    case command_kind::release_principal: return "release_principal";
    case command_kind::promote: return "promote";
    case command_kind::rollback: return "rollback";
    case command_kind::approve: return "approve";
  }
  return "?";
}

/// True for the defined kinds (1-12).
inline bool valid(command_kind x) noexcept {
  auto v = static_cast<uint8_t>(x);
  return v >= 1 && v <= 12;
}

/// A mutating command with its caller, run where the journal is written.
struct operator_command {
  command_kind kind = command_kind::halt;
  principal_id by;   ///< the caller; the leader's checks apply to this principal
  uint8_t role = 0;  ///< the caller's console role (1 viewer, 2 operator, 3 admin); 0: the embedding API
  std::string origin; ///< the node the caller spoke to (set by its cluster actor)
  uint8_t hops = 0;   ///< forwards so far: a command is forwarded at most once
  std::string target; ///< a principal (grant, release_principal) or a service (breakers)
  digest id;          ///< the proposal or rollback (approve), candidate (promote), incident (rollback)
  bool flag = false;  ///< approve: yes; breaker_force: open
  uint8_t level = 0;  ///< grant: the level, 0-4
  caf::optional<caf::timestamp> until; ///< grant: its end
  std::string text;   ///< the reason, justification or note
  std::vector<seq_no> seqs; ///< rollback by seqs
  uint64_t letter = 0;      ///< requeue, discard: the seq of the dead letter
  caf::timestamp deadline;  ///< requeue: the new proposal's deadline
  caf::optional<registration> enrollment; ///< enroll: the resource
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, operator_command& x) {
  return f(caf::meta::type_name("operator_command"), x.kind, x.by, x.role, x.origin, x.hops,
           x.target, x.id, x.flag, x.level, x.until, x.text, x.seqs, x.letter, x.deadline,
           x.enrollment, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.kind) && x.role <= 3 && x.level <= 4
                      ? caf::error{}
                      : refuse(ec::invalid_input, "operator_command: kind, role or level");
           }));
}

/// The leader's answer to an `operator_command`: the reply of the actor that ran it.
struct operator_answer {
  command_kind kind = command_kind::halt;
  seq_no seq; ///< the journaled command (enroll, halt, release, grant, discard, approve of a proposal)
  caf::optional<breaker_status> breaker;     ///< breaker_force, breaker_release
  caf::optional<outcome> run;                ///< requeue: the new proposal's outcome
  caf::optional<incident_decision> promoted; ///< promote
  caf::optional<rollback_status> rollback;   ///< rollback, approve of a rollback
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, operator_answer& x) {
  return f(caf::meta::type_name("operator_answer"), x.kind, x.seq, x.breaker, x.run, x.promoted,
           x.rollback, caf::meta::load_callback([&]() -> caf::error {
             return valid(x.kind) ? caf::error{}
                                  : refuse(ec::invalid_input, "operator_answer: kind");
           }));
}

} // namespace bulwark
