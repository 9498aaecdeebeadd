#include "around_caf/submission_sink.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/make_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/message_id.hpp"
#include "caf/monitorable_actor.hpp"
#include "caf/ref_counted.hpp"
#include "caf/resumable.hpp"
#include "caf/scheduler/abstract_coordinator.hpp"

#include "messages/commands.hpp"

namespace bulwark {

// Named, not anonymous: `submission_sink::impl` holds a `sink_actor*`, and a member
// whose type has internal linkage is an error when this file is built in a unity batch.
namespace sink_detail {

/// One host callback as a job of the actor system's scheduler: it runs on a worker of
/// its own, never on the thread of the actor that answered, so a callback that blocks
/// (say, on another submission's future) stalls neither admission nor the pipeline.
class callback_job final : public caf::resumable, public caf::ref_counted {
public:
  explicit callback_job(std::function<void()> f) : f_(std::move(f)) {
  }

  subtype_t subtype() const override {
    return function_object;
  }

  resume_result resume(caf::execution_unit*, size_t) override {
    f_();
    return done; // the scheduler then drops its reference
  }

  void intrusive_ptr_add_ref_impl() override {
    ref();
  }

  void intrusive_ptr_release_impl() override {
    deref();
  }

private:
  std::function<void()> f_;
};

/// The hidden actor the requests name as their sender: `enqueue` runs on the answering
/// actor's thread and schedules the answer's callback as a job.
class sink_actor final : public caf::monitorable_actor {
public:
  explicit sink_actor(caf::actor_system& sys)
    : caf::monitorable_actor(caf::actor_config{}.add_flag(is_hidden_flag)), sys_(sys) {
  }

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit*) override {
    if (what == nullptr || !what->mid.is_response())
      return; // nothing but answers is addressed here
    auto cb = take(what->mid.request_id().integer_value());
    if (!cb)
      return; // answered already (the engine stopped)
    auto& xs = what->content();
    std::function<void()> run;
    if (xs.match_elements<outcome>())
      run = [cb = std::shared_ptr<submission_callbacks>{std::move(cb)},
             o = xs.get_as<outcome>(0)] { cb->on_outcome(o); };
    else if (xs.match_elements<caf::error>())
      run = [cb = std::shared_ptr<submission_callbacks>{std::move(cb)},
             e = xs.get_as<caf::error>(0)] { cb->on_error(e); };
    else
      run = [cb = std::shared_ptr<submission_callbacks>{std::move(cb)}] {
        cb->on_error(refuse(ec::unavailable, "unexpected answer to a submission"));
      };
    sys_.scheduler().enqueue(new callback_job(std::move(run))); // takes the reference
  }

  const char* name() const override {
    return "submission_sink";
  }

  /// Registers the callbacks of request `id` (before the request goes out).
  void expect(uint64_t id, submission_callbacks cb) {
    std::lock_guard<std::mutex> guard{mtx_};
    open_.emplace(id, std::move(cb));
  }

  /// Removes and returns the callbacks of request `id`, if it is open.
  std::unique_ptr<submission_callbacks> take(uint64_t id) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = open_.find(id);
    if (i == open_.end())
      return nullptr;
    auto cb = std::make_unique<submission_callbacks>(std::move(i->second));
    open_.erase(i);
    return cb;
  }

  size_t open() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return open_.size();
  }

  /// Takes every open submission (ids ascending do not matter: each is answered once).
  std::unordered_map<uint64_t, submission_callbacks> take_all() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::move(open_);
  }

private:
  caf::actor_system& sys_;
  mutable std::mutex mtx_;
  std::unordered_map<uint64_t, submission_callbacks> open_;
};

} // namespace sink_detail

using sink_detail::sink_actor;

struct submission_sink::impl {
  caf::strong_actor_ptr handle;
  sink_actor* actor = nullptr;
  std::atomic<uint64_t> next{1}; ///< request ids: 1 up, within CAF's 60-bit id field
};

submission_sink::submission_sink(caf::actor_system& sys) : impl_(std::make_unique<impl>()) {
  impl_->handle = caf::make_actor<sink_actor, caf::strong_actor_ptr>(sys.next_actor_id(),
                                                                     sys.node(), &sys, sys);
  impl_->actor = static_cast<sink_actor*>(caf::actor_cast<caf::abstract_actor*>(impl_->handle));
}

submission_sink::~submission_sink() {
  if (impl_->handle)
    close(refuse(ec::unavailable, "the engine is stopped"));
}

void submission_sink::submit(const caf::strong_actor_ptr& to, proposal p, uint8_t cls,
                             submission_callbacks cb) {
  if (impl_->actor == nullptr) { // closed: the engine stopped
    cb.on_error(refuse(ec::unavailable, "the engine is stopped"));
    return;
  }
  auto id = impl_->next.fetch_add(1, std::memory_order_relaxed)
            & caf::message_id::request_id_mask;
  // Registered first: the answer may arrive before `enqueue` returns.
  impl_->actor->expect(id, std::move(cb));
  auto mid = caf::make_message_id(id); // a normal-priority request
  to->get()->enqueue(impl_->handle, mid,
                     caf::make_message(atom::submit_v, std::move(p), cls, true), nullptr);
}

size_t submission_sink::open() const {
  return impl_->actor != nullptr ? impl_->actor->open() : 0;
}

void submission_sink::close(const caf::error& err) {
  if (!impl_->handle)
    return;
  for (auto& [id, cb] : impl_->actor->take_all())
    cb.on_error(err);
  impl_->actor->cleanup(caf::error{caf::exit_reason::user_shutdown}, nullptr);
  impl_->actor = nullptr;
  impl_->handle = nullptr;
}

} // namespace bulwark
