#pragma once

/// The acknowledgements a leader's journal holds for synchronous replication: committed
/// transactions whose answers wait until enough followers hold them durably.
///
/// The journal holds each transaction after its commit; the cluster actor releases them
/// when a follower's confirmation raises the watermark. The release runs on the cluster
/// actor's thread, not as a message to the journal: the journal spends most of a busy
/// second inside a commit (its fsync), and a release queued behind that commit would add
/// up to one commit's time to every acknowledgement. Thread-safe.

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

#include "messages/events.hpp"
#include "messages/ids.hpp"
#include "persistence/append_meter.hpp"
#include "around_caf/reply_to.hpp"

namespace bulwark {

/// One append request waiting for its transaction: where its answer goes.
struct pending_append {
  size_t count = 0;                     ///< events it contributed
  caf::actor_clock::time_point arrived; ///< when the journal took it
  reply_to to;
};

/// Sends an append's answer `msg`: a response to a request (through its forwarding stages,
/// if any), and a plain message to the sender of a plain message (as CAF's response
/// promise does; tests and tools send appends without a request). From any thread;
/// `from` and `host` may be none.
void answer_append(pending_append& w, caf::message msg, caf::strong_actor_ptr from = nullptr,
                   caf::execution_unit* host = nullptr);

/// Feeds `meter` (when set) one commit of `events` events answered at `now`: one latency
/// (arrival at the journal to the answer) per append in `answered`; `scratch` is reused.
void record_answered(append_meter* meter, caf::actor_clock::time_point now,
                     const std::vector<pending_append>& answered, size_t events,
                     std::vector<caf::timespan>& scratch);

/// A committed transaction whose acknowledgements wait for the followers.
struct held_commit {
  seq_no last;                         ///< its newest record
  std::vector<pending_append> waiting; ///< its requesters, in order
  std::vector<appended> replies;       ///< their answers
  size_t events = 0;
};

class held_acks {
public:
  /// `meter` hears of each released transaction (its latencies); may be none.
  explicit held_acks(std::shared_ptr<append_meter> meter = nullptr);

  /// Starts holding (a new leadership): the watermark restarts at 0.
  void start();

  /// Holds `h`; answers it at once when the watermark already covers it.
  void hold(held_commit h, caf::actor_clock::time_point now);

  /// Raises the watermark to `upto` (the highest seq enough followers hold durably) and
  /// answers every held transaction it covers, oldest first.
  void release(seq_no upto, caf::actor_clock::time_point now);

  /// Answers every held transaction (acknowledgements no longer wait).
  void release_all(caf::actor_clock::time_point now);

  /// Answers every held transaction with `err` (this node stops writing).
  void fail(const caf::error& err);

private:
  void answer_covered(std::vector<held_commit>& out);
  void send(std::vector<held_commit>& out, caf::actor_clock::time_point now);

  std::shared_ptr<append_meter> meter_;
  std::mutex mtx_;
  seq_no replicated_;
  std::deque<held_commit> held_;
};

/// The error a held acknowledgement is answered with when the node stops writing or the
/// journal stops before enough followers confirmed it: the record is in this node's
/// journal, but maybe in no follower's.
caf::error unconfirmed(const char* why);

} // namespace bulwark
