#include "persistence/compensation_letters.hpp"

#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

caf::expected<caf::optional<compensation_failed>>
compensation_of(journal_store& store, uint64_t letter, const dead_lettered& x) {
  caf::optional<compensation_failed> out;
  if (letter == 0 || letter >= store.head().value)
    return out; // nothing follows it
  auto err = store.read(seq_no{letter + 1}, seq_no{letter + 1}, [&](journal_entry&& e) {
    compensation_failed c;
    if (e.ev.type == event_type::compensation_failed && !payload_of(e.ev, c)
        && c.proposal == x.proposal && c.step == x.step)
      out = std::move(c);
    return false;
  });
  if (err)
    return err;
  return out;
}

} // namespace bulwark
