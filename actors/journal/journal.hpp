#pragma once

/// The journal actor: sole writer of the LMDB journal, group commit, subscriptions.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "caf/actor.hpp"
#include "caf/actor_clock.hpp"
#include "caf/actor_control_block.hpp"
#include "caf/message_id.hpp"

#include "messages/interfaces.hpp"
#include "actors/journal/held_acks.hpp"
#include "actors/journal/replica_tail.hpp"
#include "persistence/append_meter.hpp"
#include "persistence/journal_store.hpp"
#include "around_caf/committed_view.hpp"
#include "persistence/projection.hpp"

namespace bulwark {

class mailbox_gauge; // supervision/mailbox_gauge.hpp
struct snapshot_slot; // journal_snapshots.cpp

/// Payload bytes to apply between snapshots, per byte of the previous snapshot (at most
/// about a fifth of what the journal writes goes to snapshots).
inline constexpr uint64_t snapshot_growth = 4;

/// What outlives one journal actor, for the one its supervisor starts next: who
/// subscribed (each hears of every commit after the restart, with no gap: the dead actor
/// published every transaction it committed) and whether local appends are allowed (a
/// follower's journal stays a follower).
struct journal_memory {
  std::mutex mtx;
  std::vector<caf::weak_actor_ptr> subscribers;
  bool writable = true;
  bool hold = false;              ///< acknowledgements wait for the followers
  caf::weak_actor_ptr replicator; ///< hears of each commit's head
  int64_t fence = 0;              ///< the lease's fence (journal_state::fence)
};

/// Settings of the journal actor.
struct journal_settings {
  /// Write a snapshot once at least this many events, and at least
  /// `snapshot_growth` times the previous snapshot's size in payload bytes, have been
  /// applied since the previous one: a snapshot's cost grows with the state (the decided
  /// index grows with history), so they are spaced in proportion to their size.
  uint64_t snapshot_interval = 10000;
  /// Encodes each snapshot on a thread of its own (the state grows with history, and
  /// encoding and hashing it on the journal's thread stalled the commits behind it); the
  /// journal stores it once encoded. spawn_journal turns it off for an attached journal
  /// (a deterministic test runs everything in one thread).
  bool background_snapshots = true;
  /// Encodes a snapshot (the store's format); replaced only by tests of a failing encoder.
  std::function<std::vector<uint8_t>(const fleet_state&, const digest&)> encode =
    journal_store::encode_snapshot;
  /// Append rate and acknowledgement latency, read by the metrics endpoint.
  std::shared_ptr<append_meter> meter = std::make_shared<append_meter>();
  /// Its mailbox depth for the BACKLOG indicators (none: not sampled).
  std::shared_ptr<mailbox_gauge> mailbox{};
  /// Subscribers and the writable flag kept across restarts (none: not kept).
  std::shared_ptr<journal_memory> memory{};
  /// Synchronous replication: the acknowledgements held for the followers, released by
  /// the leader's cluster actor (held_acks.hpp). None: spawn_journal makes one.
  std::shared_ptr<held_acks> acks{};
  /// The newest records, handed to the leader's cluster actor before each commit
  /// (replica_tail.hpp). None: spawn_journal makes one.
  std::shared_ptr<replica_tail> tail{};
  /// The committed projection, shared with the actors that read it (the pipeline, the
  /// rollback executor); a restarted journal puts its own in it. None: the journal makes
  /// one.
  std::shared_ptr<committed_view> view{};
};

/// State of the journal actor.
struct journal_state {
  std::shared_ptr<journal_store> store;
  std::shared_ptr<committed_view> view; ///< `settings.view`: its projection, the node's one
  journal_settings settings;
  std::vector<event> batch;            ///< events of the next transaction
  std::vector<pending_append> waiting; ///< their requesters, in order
  bool flush_scheduled = false;
  int deferrals = 0; ///< times the scheduled commit went to the back of the mailbox
  uint64_t last_snapshot = 0;
  uint64_t last_snapshot_bytes = 0; ///< the size of the newest snapshot taken
  uint64_t bytes_since_snapshot = 0; ///< payload bytes applied since it was taken
  std::shared_ptr<snapshot_slot> encoding; ///< a snapshot being encoded off this thread
  caf::actor_addr encoder; ///< the actor encoding it: this journal monitors it (its supervisor)
  std::vector<subscriber_actor> subscribers;
  uint64_t commits = 0;
  std::vector<caf::timespan> latencies; ///< scratch for the meter, reused per commit
  std::vector<appended> replies;        ///< scratch for the answers, reused per commit
  bool writable = true; ///< false on a follower: local appends are refused, imports allowed
  /// Synchronous replication: committed transactions' acknowledgements wait in
  /// `settings.acks` until enough followers hold them.
  bool hold = false;
  caf::actor replicator;     ///< hears of each commit's head (the leader's cluster actor)
  /// A leader elected through etcd: nothing is committed from this steady-clock instant
  /// (ns since the clock's epoch), where its lease may have lapsed (0: no bound).
  int64_t fence = 0;
  uint64_t fenced = 0;       ///< appends refused by the fence
  /// How often a commit may yield to messages queued behind it before it runs anyway.
  static constexpr int max_commit_deferrals = 3;
  static inline const char* name = "journal";
  journal_state() = default;
  journal_state(const journal_state&) = delete;
  journal_state& operator=(const journal_state&) = delete;
  /// A journal that stops (killed, or the engine stopping) answers every append not
  /// committed yet with `AUDIT_UNAVAILABLE`: nobody waits for it forever.
  ~journal_state();
};

/// Runs the journal over an opened store whose projection `proj` is at the store's head.
///
/// Appends that arrive while a commit runs ride the next transaction: the first pending
/// append schedules a `commit` to self, which lands behind every append already queued.
/// When more messages are queued behind that commit, it goes to the back of the mailbox
/// once more (at most `max_commit_deferrals` times), so that appends already on their way
/// join its transaction instead of waiting for the next one.
/// Each append is acknowledged only after its transaction committed (durable); if the
/// write fails, every requester of that transaction gets the error (`AUDIT_UNAVAILABLE`)
/// and the actor keeps serving reads. Under synchronous replication (`atom::replicate`
/// with `true`) a committed transaction's acknowledgements are held until `replicated`
/// covers it; subscribers hear of it at once (it is in the journal), requesters only then.
/// A follower's journal (`writable` false) refuses local
/// appends with `UNAVAILABLE` and imports the leader's records instead (`atom::import`):
/// each must link to the local chain, else nothing is appended (`INTEGRITY_VIOLATION`). Spawn it `caf::detached` in production (a commit
/// blocks on fsync) and attached in tests.
journal_actor::behavior_type journal(journal_actor::stateful_pointer<journal_state> self,
                                     std::shared_ptr<journal_store> store, projection proj,
                                     journal_settings settings);

} // namespace bulwark

namespace bulwark {

/// Rebuilds the projection of `store` (from its newest snapshot) and spawns the journal
/// over it, `detached` on its own thread unless `attached` (tests).
/// @returns `INTEGRITY_VIOLATION` if the journal does not replay: nothing is spawned.
caf::expected<journal_actor> spawn_journal(caf::actor_system& sys,
                                           std::shared_ptr<journal_store> store,
                                           journal_settings settings, bool attached = false);

} // namespace bulwark
