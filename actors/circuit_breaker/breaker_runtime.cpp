#include "actors/circuit_breaker/breaker_runtime.hpp"

#include "caf/actor_cast.hpp"
#include "caf/actor_clock.hpp"
#include "caf/actor_control_block.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/send.hpp"

#include "messages/type_ids.hpp"

namespace bulwark {

breaker_runtime::breaker_runtime(caf::actor_clock& clock, breaker_runtime_args args)
  : clock_(clock),
    start_(clock.now()),
    epoch_(args.epoch),
    service_(args.service),
    effectors_(std::move(args.effectors)),
    gate_(args.service, args.limits, args.seed, std::move(args.directory)),
    pool_(std::make_unique<effector_pool>(args.threads)) {
}

breaker_runtime::~breaker_runtime() {
  pool_->stop(); // running calls finish while the gate still exists
}

gate_time breaker_runtime::now() const {
  auto t = clock_.now();
  return gate_time{t, epoch_ + (t - start_)};
}

void breaker_runtime::execute(effector_request&& req, reply_to&& to) {
  gate_effects fx;
  gate_.execute(std::move(req), std::move(to), now(), fx);
  perform(fx);
}

std::vector<gate_transition> breaker_runtime::wake() {
  gate_effects fx;
  gate_.wake(now(), fx);
  fx.nudge = false; // the caller journals what is waiting right after this
  perform(fx);
  return gate_.take_transitions();
}

void breaker_runtime::bind(caf::actor_addr breaker) {
  {
    std::lock_guard<std::mutex> guard{bind_mtx_};
    breaker_ = std::move(breaker);
  }
  gate_.rearm();
}

std::vector<gate_transition> breaker_runtime::override_state(caf::optional<bool> open,
                                                             const std::string& by) {
  gate_effects fx;
  gate_.override_state(open, by, now(), fx);
  return gate_.take_transitions();
}

void breaker_runtime::perform(gate_effects& fx) {
  fx.answers.each([](gate_answer& a) {
    a.to.deliver(a.refusal ? caf::make_message(std::move(a.refusal))
                           : caf::make_message(std::move(a.result)));
  });
  if (fx.wake_at || fx.nudge) {
    caf::strong_actor_ptr target;
    {
      std::lock_guard<std::mutex> guard{bind_mtx_};
      target = caf::actor_cast<caf::strong_actor_ptr>(breaker_);
    }
    // A breaker that is down misses this; its successor re-arms when it binds.
    if (target && fx.wake_at)
      clock_.schedule_message(*fx.wake_at, target,
                              caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                                        atom::tick_v));
    if (target && fx.nudge)
      target->enqueue(nullptr, caf::make_message_id(), caf::make_message(atom::tick_v), nullptr);
  }
  fx.dispatches.each([this](gate_dispatch& d) { start(d); });
}

void breaker_runtime::refresh_effector() {
  auto version = effectors_->version(); // before the lookup: a later change is seen next time
  if (version == effector_version_)
    return;
  auto fn = effectors_->find_shared(service_);
  if (effector_ && effector_ != fn)
    retired_.push_back(std::move(effector_));
  effector_ = std::move(fn);
  effector_version_ = version;
}

void breaker_runtime::start(gate_dispatch& d) {
  uint64_t slot;
  std::shared_ptr<const effector_entry> entry;
  {
    std::lock_guard<std::mutex> guard{calls_mtx_};
    refresh_effector();
    slot = calls_.emplace();
    auto& p = *calls_.find(slot);
    p.d = std::move(d);
    p.fn = effector_ && effector_->fn ? &effector_->fn : nullptr;
    entry = effector_;
  }
  // A non-blocking effector runs here, on the thread that admitted the call (or, for a
  // retry, on the breaker's): two thread hand-offs fewer per call.
  if (entry && entry->fn && entry->inline_now && entry->inline_now())
    run_attempt(slot, true);
  else
    pool_->run([this, slot] { run_attempt(slot, false); });
}

void breaker_runtime::run_attempt(uint64_t slot, bool here) {
  gate_dispatch d;
  const effector_fn* fn;
  {
    std::lock_guard<std::mutex> guard{calls_mtx_};
    auto& p = *calls_.find(slot);
    d = std::move(p.d);
    fn = p.fn;
    calls_.erase(slot);
  }
  d.call.inline_call = here;
  effector_result r;
  if (fn == nullptr) {
    r = effector_result{false, ec::unavailable, "no effector for service " + d.call.service,
                        caf::none};
  } else {
    try {
      r = (*fn)(d.call);
    } catch (const std::exception& e) {
      r = effector_result{false, ec::unavailable, std::string{"effector threw: "} + e.what(),
                          caf::none};
    } catch (...) {
      r = effector_result{false, ec::unavailable, "effector threw a non-standard exception",
                          caf::none};
    }
  }
  gate_effects fx;
  gate_.finish(d.token, d.attempt, std::move(r), now(), fx);
  perform(fx);
}

} // namespace bulwark
