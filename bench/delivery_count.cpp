// Counts mailbox deliveries. CAF 0.17 as Debian builds it has no hook that sees every
// enqueue (its actor profiler is compiled out, and the metrics of later versions do not
// exist yet), so this bench-only file defines CAF's two enqueue functions in the
// executable, which the dynamic linker then prefers to libcaf_core's (symbol
// interposition: every actor's vtable slot resolves to these), counts each call, and
// hands it on to CAF's own definition found with dlsym(RTLD_NEXT). `deliveries_counted`
// checks at run time that the interposition is in effect, so a build where it is not
// (a libcaf_core linked with -Bsymbolic) prints no figure rather than a wrong one.
// Only the benches link this file; the product never does.

#include "bench/delivery_count.hpp"

#include <dlfcn.h>

#include <atomic>
#include <chrono>

#include "caf/actor_system.hpp"
#include "caf/blocking_actor.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scheduled_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

namespace {

std::atomic<uint64_t> counted{0};

template <class Fn>
Fn next_definition(const char* mangled) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, mangled));
}

} // namespace

namespace caf {

void scheduled_actor::enqueue(mailbox_element_ptr ptr, execution_unit* eu) {
  using fn = void (*)(scheduled_actor*, mailbox_element_ptr, execution_unit*);
  static const fn real = next_definition<fn>(
    "_ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_"
    "14execution_unitE");
  counted.fetch_add(1, std::memory_order_relaxed);
  real(this, std::move(ptr), eu);
}

void blocking_actor::enqueue(mailbox_element_ptr ptr, execution_unit* eu) {
  using fn = void (*)(blocking_actor*, mailbox_element_ptr, execution_unit*);
  static const fn real = next_definition<fn>(
    "_ZN3caf14blocking_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_"
    "14execution_unitE");
  counted.fetch_add(1, std::memory_order_relaxed);
  real(this, std::move(ptr), eu);
}

} // namespace caf

namespace bulwark::bench {

uint64_t deliveries() {
  return counted.load(std::memory_order_relaxed);
}

bool deliveries_counted(caf::actor_system& sys) {
  auto echo = sys.spawn([]() -> caf::behavior { return {[](int x) { return x; }}; });
  auto before = deliveries();
  caf::scoped_actor self{sys};
  for (int i = 0; i < 100; ++i)
    self->request(echo, std::chrono::seconds{10}, i).receive([](int) {}, [](caf::error&) {});
  auto seen = deliveries() - before; // 100 requests and, into `self`, 100 answers
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  return seen >= 100;
}

} // namespace bulwark::bench
