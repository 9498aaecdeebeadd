// The chaos hooks and the virtual clock of the embedding API (for tests and drills).

#include <algorithm>

#include "bulwark/engine.hpp"
#include "engine/engine_impl.hpp"

namespace bulwark {

void engine::inject_journal_failures(bool on) {
  impl_->store->inject_write_failures(on);
}

namespace {

result chaos_result(const caf::error& err) {
  if (err)
    return engine::impl::to_result(err);
  result r;
  r.ok = true;
  return r;
}

} // namespace

result engine::chaos_enable(bool on) {
  impl_->chaos->enable(on);
  return chaos_result({});
}

result engine::chaos_fail_effector(const std::string& service, uint32_t calls) {
  return chaos_result(impl_->chaos->fail_effector(service, calls));
}

result engine::chaos_delay_effector(const std::string& service, std::chrono::milliseconds d) {
  return chaos_result(impl_->chaos->delay_effector(service, d));
}

result engine::chaos_fail_journal(bool on) {
  return chaos_result(impl_->chaos->fail_journal(on));
}

result engine::chaos_kill(const std::string& actor) {
  auto r = chaos_result(impl_->chaos->kill(actor));
  impl_->pump();
  return r;
}

result engine::chaos_delay_messages(std::chrono::milliseconds d) {
  return chaos_result(impl_->chaos->delay_submissions(d));
}

void engine::run() {
  impl_->pump();
}

void engine::advance(std::chrono::milliseconds dt) {
  auto& d = *impl_;
  if (d.sched == nullptr)
    return;
  // Step in small increments so timers due inside the span fire in order.
  auto step = std::chrono::milliseconds{10};
  for (auto left = dt; left.count() > 0; left -= step) {
    d.sched->advance_time(std::min(step, left));
    d.sched->run();
  }
}

std::chrono::system_clock::time_point engine::now() {
  return std::chrono::system_clock::time_point{
    std::chrono::duration_cast<std::chrono::system_clock::duration>(
      impl_->now().time_since_epoch())};
}

} // namespace bulwark
