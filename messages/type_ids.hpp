#pragma once

/// Forward declarations of every message type and the `bulwark_types` CAF type-ID block
/// with the atoms. A type missing here works locally and fails across nodes.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"
#include "caf/type_id.hpp"

namespace bulwark {
struct seq_no;
struct digest;
struct resource_id;
struct principal_id;
struct trace_id;
struct event;
struct journal_entry;
struct appended;
struct mutation;
struct resource_registered;
struct resource_retired;
struct gate_result;
struct proposal_decided;
struct action_started;
struct action_applied;
struct action_failed;
struct approval_recorded;
struct rollback_applied;
struct breaker_transition;
struct grant_changed;
struct halt_changed;
struct console_access;
struct interrupted;
struct proposal_finished;
struct resource_state;
struct grant_state;
struct proposal_state;
struct fleet_state;
struct verify_report;
enum class event_type : uint8_t;
enum class authority_level : uint8_t;
enum class gate : uint8_t;
enum class breaker_state : uint8_t;
} // namespace bulwark

CAF_BEGIN_TYPE_ID_BLOCK(bulwark_types, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::seq_no))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::digest))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::resource_id))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::principal_id))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::trace_id))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::event))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::journal_entry))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::appended))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::mutation))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::resource_registered))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::resource_retired))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::gate_result))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::proposal_decided))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::action_started))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::action_applied))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::action_failed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::approval_recorded))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::rollback_applied))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::breaker_transition))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::grant_changed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::halt_changed))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::console_access))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::interrupted))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::proposal_finished))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::resource_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::grant_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::proposal_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::fleet_state))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::verify_report))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::event_type))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::authority_level))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::gate))
  CAF_ADD_TYPE_ID(bulwark_types, (bulwark::breaker_state))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::event>))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::journal_entry>))
  CAF_ADD_TYPE_ID(bulwark_types, (std::vector<bulwark::mutation>))
  CAF_ADD_TYPE_ID(bulwark_types, (caf::optional<caf::timespan>))
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, append, "append")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, head, "head")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, read, "read")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, verify, "verify")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, subscribe, "subscribe")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, committed, "committed")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, state, "state")
  CAF_ADD_ATOM(bulwark_types, bulwark::atom, commit, "commit")
CAF_END_TYPE_ID_BLOCK(bulwark_types)
