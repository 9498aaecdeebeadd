// Compiled (syntax only) by halt_guard_test.sh in three variants: the guarded path must
// compile; forging a pass or launching without one must not (PV-003 made impossible).

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/pipeline/pipeline_impl.hpp"

using namespace bulwark;

void use(pipeline_detail::self_ptr self, in_flight& f, const halt_guard& g,
         const authority_verdict& v) {
#if defined(FORGE_PASS)
  pipeline_detail::launch(self, f, halt_guard::pass{f.m.id, true});
#elif defined(SKIP_GUARD)
  pipeline_detail::launch(self, f);
#else
  if (auto p = g.admit(f.m.id, v, true, f.m.trace))
    pipeline_detail::launch(self, f, *p);
#endif
}
