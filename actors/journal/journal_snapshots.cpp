// The journal's snapshots: when one is due, a copy of the state is encoded and hashed by a
// blocking actor the journal spawns and monitors, and stored on the journal's thread.

#include "actors/journal/journal_snapshots.hpp"

#include <mutex>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/blocking_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "messages/error.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// A snapshot encoded on a thread of its own: the encoder fills it in, the journal stores
/// it on its next turn.
struct snapshot_slot {
  std::mutex mtx;
  bool done = false;
  uint64_t seq = 0;
  std::vector<uint8_t> value;
};

namespace journal_detail {

/// Stores a snapshot whose encoding has finished; a failure is logged, not fatal.
void store_encoded_snapshot(journal_ptr self) {
  auto& st = self->state;
  if (!st.encoding)
    return;
  std::vector<uint8_t> value;
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> guard{st.encoding->mtx};
    if (!st.encoding->done)
      return;
    value.swap(st.encoding->value);
    seq = st.encoding->seq;
  }
  st.encoding.reset();
  st.last_snapshot_bytes = value.size();
  if (auto err = st.store->put_snapshot(seq, value))
    spdlog::warn("journal: snapshot at seq {} failed: {}", seq, describe(err).message);
}

/// Records that `entries` were applied (the spacing of snapshots counts their payloads).
void count_applied(journal_ptr self, const std::vector<journal_entry>& entries) {
  for (auto& e : entries)
    self->state.bytes_since_snapshot += e.ev.payload.size();
}

/// Writes a snapshot when it is due (see journal_settings); a failure is logged, not
/// fatal. In the background a copy of the state (it shares the decided index's run) is
/// encoded and hashed by a blocking actor, which then nudges the journal to store it; one
/// at a time. The journal spawns and monitors that actor (its supervisor): one that dies
/// before it is done is forgotten (`on_encoder_down`), and the next snapshot due is
/// encoded anew; restarting it would encode a state already behind.
void maybe_snapshot(journal_ptr self) {
  auto& st = self->state;
  store_encoded_snapshot(self);
  auto seq = st.view->owned().state().seq;
  if (st.settings.snapshot_interval == 0
      || seq - st.last_snapshot < st.settings.snapshot_interval
      || st.bytes_since_snapshot < snapshot_growth * st.last_snapshot_bytes || st.encoding)
    return;
  auto chain = st.store->chain_at(seq_no{seq});
  if (!chain) {
    spdlog::warn("journal: snapshot at seq {} failed: {}", seq, describe(chain.error()).message);
    return;
  }
  st.last_snapshot = seq;
  st.bytes_since_snapshot = 0;
  if (!st.settings.background_snapshots) {
    auto value = st.settings.encode(st.view->owned().state(), *chain);
    st.last_snapshot_bytes = value.size();
    if (auto err = st.store->put_snapshot(seq, value))
      spdlog::warn("journal: snapshot at seq {} failed: {}", seq, describe(err).message);
    return;
  }
  // The encoded size is known only later: until then the last one's stands.
  auto slot = std::make_shared<snapshot_slot>();
  st.encoding = slot;
  auto encoder = self->spawn<caf::monitored>([slot, state = st.view->owned().state(), chain = *chain,
                                              encode = st.settings.encode,
                                              journal = caf::actor_cast<journal_actor>(self)](
                                               caf::blocking_actor* encoder) {
    auto value = encode(state, chain);
    {
      std::lock_guard<std::mutex> guard{slot->mtx};
      slot->value = std::move(value);
      slot->seq = state.seq;
      slot->done = true;
    }
    encoder->send(journal, atom::commit_v); // stored on the journal's thread
  });
  st.encoder = encoder.address();
}

/// The snapshot encoder ended: one that died before it was done is forgotten, so that
/// the next snapshot due is taken (a done one is stored by the journal's next turn).
/// Returns false when `msg` is not about the encoder.
bool on_encoder_down(journal_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (!st.encoder || msg.source != st.encoder)
    return false;
  st.encoder = caf::actor_addr{};
  if (!st.encoding)
    return true;
  bool done;
  {
    std::lock_guard<std::mutex> guard{st.encoding->mtx};
    done = st.encoding->done;
  }
  if (!done) {
    spdlog::warn("journal: the snapshot encoder stopped ({}) before it was done; the next "
                 "snapshot due is encoded anew",
                 self->home_system().render(msg.reason));
    st.encoding.reset();
  }
  return true;
}

} // namespace journal_detail

} // namespace bulwark
