// The engine's host-facing calls for the fleet's side: effectors, probes and the
// breakers' state and overrides.

#include <thread>
#include <utility>

#include "bulwark/engine.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"

namespace bulwark {

void engine::register_effector(const std::string& service, effector fn, effector_mode mode) {
  auto& d = *impl_;
  // A non-blocking effector's calls run on the admitting thread, unless a chaos delay
  // would make it sleep there: then on the service's pool.
  std::function<bool()> inline_now;
  if (mode == effector_mode::nonblocking)
    inline_now = [chaos = d.chaos, service] { return !chaos->delays(service); };
  auto call = [fn = std::move(fn), chaos = d.chaos](const effector_call& c) {
    // Chaos hooks: a delayed or failed call, as a slow or unavailable dependency would be.
    // A call already running on the admitting thread (the delay was set after it was
    // admitted) does not sleep there.
    auto fault = chaos->before_effector(c.service);
    if (fault.delay.count() > 0 && !c.inline_call)
      std::this_thread::sleep_for(fault.delay);
    if (fault.fail)
      return effector_result{false, ec::unavailable, "chaos: injected effector failure",
                             caf::none};
    effect_request req{c.service, c.change.resource.value, c.change.key, c.change.value,
                       c.compensation, c.restore, c.idempotency_key, c.timeout};
    auto r = fn(req);
    if (r.ok)
      return effector_result{true, ec::none, "", caf::none};
    return effector_result{false, r.retryable ? ec::unavailable : ec::effector_failed, r.error,
                           caf::none};
  };
  d.effectors->add(service, std::move(call), std::move(inline_now));
  d.add_breaker(service);
}

void engine::register_probe(const std::string& service, prober fn) {
  auto& d = *impl_;
  auto x = std::make_shared<const prober>(std::move(fn));
  std::lock_guard<std::mutex> guard{d.probes_mtx};
  d.probes[service] = std::move(x);
}

probe_result engine::probe(const std::string& service, const std::string& resource,
                           const std::string& key, std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  std::shared_ptr<const prober> fn;
  {
    std::lock_guard<std::mutex> guard{d.probes_mtx};
    if (auto i = d.probes.find(service); i != d.probes.end())
      fn = i->second;
  }
  probe_result out;
  if (!fn || !*fn)
    out.error = "no probe is registered for service " + service;
  else if (timeout.count() <= 0)
    out.error = "the probe's timeout must be positive";
  else
    try {
      return (*fn)(probe_request{service, resource, key, timeout});
    } catch (const std::exception& e) {
      out.error = std::string{"probe threw: "} + e.what();
      out.retryable = true;
    }
  return out;
}

namespace {

breaker_info to_info(const breaker_status& s) {
  return breaker_info{s.service, to_string(s.state), s.window_calls, s.window_failures,
                      s.consecutive_failures, s.in_flight, s.queued, s.refused, s.retries};
}

} // namespace

std::vector<breaker_info> engine::breakers() {
  auto& d = *impl_;
  std::vector<breaker_info> out;
  for (auto& service : d.breakers->services()) {
    breaker_directory::entry e;
    if (d.breakers->find(service, e))
      if (auto s = d.call<breaker_status>(e.handle, atom::state_v))
        out.push_back(to_info(*s));
  }
  return out;
}

namespace {

/// Sends an override to `service`'s breaker and reports its new state.
template <class... Ts>
result override_breaker(engine::impl& d, const std::string& service, Ts&&... xs) {
  breaker_directory::entry e;
  if (!d.breakers->find(service, e))
    return engine::impl::invalid_input("no breaker for service '" + service + "'");
  auto s = d.call<breaker_status>(e.handle, std::forward<Ts>(xs)...);
  if (!s)
    return engine::impl::to_result(s.error());
  result r;
  r.ok = true;
  r.status = to_string(s->state);
  return r;
}

} // namespace

result engine::breaker_force(const std::string& by, const std::string& service, bool open) {
  if (impl_->cluster) { // the leader's breakers guard the effectors that run
    auto cmd = api_command(command_kind::breaker_force, by);
    cmd.target = service;
    cmd.flag = open;
    return forward_command(*impl_, std::move(cmd));
  }
  return override_breaker(*impl_, service, atom::force_v, principal_id{by}, open);
}

result engine::breaker_release(const std::string& by, const std::string& service) {
  if (impl_->cluster) {
    auto cmd = api_command(command_kind::breaker_release, by);
    cmd.target = service;
    return forward_command(*impl_, std::move(cmd));
  }
  return override_breaker(*impl_, service, atom::release_v, principal_id{by});
}

} // namespace bulwark
