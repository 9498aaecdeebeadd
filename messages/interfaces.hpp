#pragma once

/// Typed actor handles of Bulwark's actors and the `bulwark_actors` type-ID block.

#include <cstdint>
#include <vector>

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "messages/type_ids.hpp"

namespace bulwark {

/// Receives committed journal entries, in order, without gaps.
using subscriber_actor = caf::typed_actor<
  // Delivers the entries of one committed transaction.
  caf::reacts_to<atom::committed, std::vector<journal_entry>>>;

/// The JOURNAL: single writer of the LMDB journal; owns the fleet projection.
using journal_actor = caf::typed_actor<
  // Appends one event; replies once the transaction holding it is durable.
  caf::replies_to<atom::append, event>::with<appended>,
  // Appends events all-or-nothing in one transaction; replies once durable.
  caf::replies_to<atom::append, std::vector<event>>::with<appended>,
  // Returns the newest sequence number and its chain hash.
  caf::replies_to<atom::head>::with<seq_no, digest>,
  // Returns up to `limit` committed entries from `from` to `to`.
  caf::replies_to<atom::read, seq_no, seq_no, uint32_t>::with<std::vector<journal_entry>>,
  // Verifies the whole chain.
  caf::replies_to<atom::verify>::with<verify_report>,
  // Returns the projected fleet state at the head.
  caf::replies_to<atom::state>::with<fleet_state>,
  // Sends every entry committed after `from` to the subscriber, in order.
  caf::reacts_to<atom::subscribe, subscriber_actor, seq_no>,
  // INTERNAL: commits every pending append in one transaction.
  caf::reacts_to<atom::commit>>;

} // namespace bulwark

CAF_BEGIN_TYPE_ID_BLOCK(bulwark_actors, caf::id_block::bulwark_types::end)
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::subscriber_actor))
  CAF_ADD_TYPE_ID(bulwark_actors, (bulwark::journal_actor))
CAF_END_TYPE_ID_BLOCK(bulwark_actors)
