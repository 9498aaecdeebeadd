#include "actors/incident/attempt_keeper.hpp"

#include <spdlog/spdlog.h>

#include "caf/behavior.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/incident/attempt_policy.hpp"
#include "messages/type_ids.hpp"
#include "persistence/attempt_store.hpp"

namespace bulwark {

caf::behavior attempt_keeper(caf::stateful_actor<attempt_keeper_state>* self,
                             std::shared_ptr<attempt_store> store, caf::timespan retention,
                             caf::timestamp epoch) {
  auto& st = self->state;
  st.store = std::move(store);
  st.retention = retention;
  st.epoch = epoch;
  st.start = self->clock().now();
  self->send(self, atom::tick_v);
  return {
    [self](atom::tick) {
      auto& st = self->state;
      auto now = st.epoch + (self->clock().now() - st.start);
      auto removed = st.store->prune_before(retention_cutoff(now, st.retention));
      if (!removed)
        spdlog::warn("attempts: pruning failed: {}", describe(removed.error()).message);
      else if (*removed > 0) {
        st.pruned += *removed;
        spdlog::info("attempts: {} attempts older than the retention deleted", *removed);
      }
      self->delayed_send(self, attempt_prune_interval, atom::tick_v);
    },
  };
}

} // namespace bulwark
