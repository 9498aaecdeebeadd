#pragma once

/// Internal to engine/: where the answers to the host's submissions arrive.
///
/// One hidden actor per engine, a synchronous front like the breaker entry (and CAF's own
/// actor-composition decorators): a submission is one request message from the caller's
/// thread straight into the admission actor's mailbox, and its answer, when admission (or
/// the pipeline, for a flight handed on by a restarted admission) delivers it, schedules
/// the caller's callback as a job on the actor system's scheduler (never inline on the
/// answering actor's thread: a host callback may block, even on another submission).
/// Before, each submission spawned a
/// one-shot actor that sent the request and waited for the answer: an actor's creation,
/// two schedulings and its teardown per proposal.

#include <cstdint>
#include <functional>
#include <memory>

#include "caf/fwd.hpp"

#include "messages/interfaces.hpp"

namespace bulwark {

/// Calls back with the answer to one submission: an outcome, or an error.
struct submission_callbacks {
  std::function<void(const outcome&)> on_outcome;
  std::function<void(const caf::error&)> on_error;
};

/// The engine's receiver of answers to submissions; thread-safe.
class submission_sink {
public:
  explicit submission_sink(caf::actor_system& sys);
  ~submission_sink();
  submission_sink(const submission_sink&) = delete;
  submission_sink& operator=(const submission_sink&) = delete;

  /// Sends `(submit, p, cls, true)` to `to` as a request; its answer calls `cb` once, on
  /// a scheduler worker. A dead receiver answers at once with
  /// `request_receiver_down`, as it would any request; a closed sink with UNAVAILABLE.
  /// Not to be called concurrently with `close`.
  void submit(const caf::strong_actor_ptr& to, proposal p, uint8_t cls, submission_callbacks cb);

  /// Submissions sent and not answered yet.
  size_t open() const;

  /// Answers every open submission with `err` and detaches the sink from its system;
  /// called once every actor that could answer has stopped.
  void close(const caf::error& err);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace bulwark
