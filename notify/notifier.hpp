#pragma once

/// The node's notifier: follows the journal's committed events, hands the ones a webhook
/// wants to that webhook's delivery thread through one bounded queue, and journals each
/// delivery's final status as `notification_sent`. Nothing on the decision path waits
/// for it: a full queue drops (and counts) a notification, a webhook that does not answer
/// only delays its own later notifications.

#include <functional>
#include <memory>
#include <string>

#include "caf/fwd.hpp"

#include "messages/interfaces.hpp"
#include "messages/notifications.hpp"
#include "notify/notify_config.hpp"

namespace bulwark {

struct child_spec;

class notifier {
public:
  /// Starts one delivery thread per webhook and subscribes to `journal` after `from`:
  /// the events committed after it are notified, older ones never.
  static std::unique_ptr<notifier> start(caf::actor_system& sys, journal_actor journal,
                                         seq_no from, notify_settings settings,
                                         std::string node);

  /// The journal feed as a supervisor's child (`notify_feed`): the first start takes the
  /// feed `start` spawned; a restarted one subscribes after the newest seq the feed took,
  /// so no notification is lost or sent twice.
  child_spec child(journal_actor journal);

  /// Stops (as `stop`).
  ~notifier();
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  /// Ends the subscription and the delivery threads: an attempt in flight finishes (within
  /// its timeout), notifications still queued are not sent. Idempotent.
  void stop();

  /// The counts per webhook and the queue's depth (thread-safe).
  notify_figures figures() const;

  /// `figures` as a function that stays valid after the notifier is gone.
  std::function<notify_figures()> reader() const;

  struct core;

private:
  explicit notifier(std::shared_ptr<core> c);
  std::shared_ptr<core> core_;
};

} // namespace bulwark
