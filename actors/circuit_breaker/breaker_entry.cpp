#include "actors/circuit_breaker/breaker_entry.hpp"

#include <atomic>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/make_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/monitorable_actor.hpp"
#include "caf/sec.hpp"

namespace bulwark {

namespace {

/// A synchronous front, like CAF's own actor-composition decorators: `enqueue` runs on the
/// sender's thread.
class breaker_entry final : public caf::monitorable_actor {
public:
  breaker_entry(std::shared_ptr<breaker_runtime> runtime, caf::strong_actor_ptr breaker)
    : caf::monitorable_actor(caf::actor_config{}.add_flag(is_hidden_flag)),
      runtime_(std::move(runtime)),
      breaker_(std::move(breaker)) {
  }

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit* host) override {
    if (closed_.load(std::memory_order_acquire)) {
      bounce(what, caf::sec::request_receiver_down);
      return;
    }
    auto& xs = what->content();
    if (!xs.match_elements<atom::execute, effector_request>()) {
      breaker_->enqueue(std::move(what), host);
      return;
    }
    auto req = xs.move_if_unshared<effector_request>(1);
    // Whichever thread has the answer delivers it straight to the requester.
    reply_to to{std::move(what->sender), what->mid, std::move(what->stages)};
    runtime_->execute(std::move(req), std::move(to));
  }

  const char* name() const override {
    return "breaker_entry";
  }

  void close() noexcept {
    closed_.store(true, std::memory_order_release);
  }

private:
  std::shared_ptr<breaker_runtime> runtime_;
  caf::strong_actor_ptr breaker_;
  std::atomic<bool> closed_{false};
};

} // namespace

breaker_actor make_breaker_entry(caf::actor_system& sys, std::shared_ptr<breaker_runtime> runtime,
                                 breaker_actor breaker) {
  auto target = caf::actor_cast<caf::strong_actor_ptr>(breaker);
  auto entry = caf::make_actor<breaker_entry, caf::strong_actor_ptr>(
    sys.next_actor_id(), sys.node(), &sys, std::move(runtime), target);
  caf::actor_addr weak = caf::actor_cast<caf::actor_addr>(entry);
  // The entry ends with its breaker: later requests are bounced, as a dead actor's are.
  breaker->attach_functor([weak](const caf::error& reason) {
    if (auto ptr = caf::actor_cast<caf::strong_actor_ptr>(weak)) {
      auto self = static_cast<breaker_entry*>(caf::actor_cast<caf::abstract_actor*>(ptr));
      self->close();
      self->cleanup(caf::error{reason}, nullptr);
    }
  });
  return caf::actor_cast<breaker_actor>(std::move(entry));
}

} // namespace bulwark
