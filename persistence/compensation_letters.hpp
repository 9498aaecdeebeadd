#pragma once

/// Tells a failed compensation's dead letter from a forward action's: the letter of a
/// compensation is followed, in its transaction, by the `compensation_failed` record that
/// names the same proposal and step (docs/journal-format.md, type 53).

#include <cstdint>

#include "caf/expected.hpp"
#include "caf/optional.hpp"

#include "messages/events.hpp"

namespace bulwark {

class journal_store;

/// Returns the `compensation_failed` record of the letter `x` journaled at seq `letter`,
/// or none when the letter is a forward action's. Errors are the store's.
caf::expected<caf::optional<compensation_failed>>
compensation_of(journal_store& store, uint64_t letter, const dead_lettered& x);

} // namespace bulwark
