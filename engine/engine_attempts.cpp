// The attempts store on the engine's side: opening it, its keeper, and the embedding
// API's listing.

#include <utility>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/incident/attempt_keeper.hpp"
#include "actors/incident/attempt_policy.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/attempt_store.hpp"

namespace bulwark {

caf::error engine::impl::start_attempts() {
  auto opened = attempt_store::open(cfg.data_dir + "/" + attempt_store_file);
  if (!opened)
    return opened.error();
  attempts = std::move(*opened);
  caf::timespan retention = std::chrono::hours{24} * cfg.incident.attempt_retention_days;
  // Under the root: a restarted keeper prunes again at its start, then on its timer.
  auto slot = attempt_keeper;
  auto store = attempts;
  auto first = std::make_shared<caf::actor>(
    sys->spawn(bulwark::attempt_keeper, store, retention, now()));
  slot->set(*first);
  root_children.push_back(child_spec{
    "attempt_keeper", restart_kind::permanent,
    [this, slot, store, retention, first](caf::local_actor* sup) {
      auto a = *first ? std::exchange(*first, caf::actor{})
                      : caf::actor{sup->home_system().spawn(bulwark::attempt_keeper, store,
                                                            retention, now())};
      slot->set(a);
      return a;
    }});
  return {};
}

attempts_answer engine::attempts(const attempts_query& q) {
  auto& d = *impl_;
  attempts_answer out;
  nlohmann::json args{{"limit", q.limit}};
  for (auto [key, value] : {std::pair{"candidate", &q.candidate}, {"service", &q.service},
                            {"region", &q.region}, {"status", &q.status}})
    if (!value->empty())
      args[key] = *value;
  auto filter = parse_attempt_filter(args);
  if (!filter) {
    out.status = impl::to_result(filter.error());
    return out;
  }
  auto f = *filter;
  auto found = d.attempts->list([&f](const attempt_record& x) { return matches(f, x); }, f.limit);
  if (!found) {
    out.status = impl::to_result(found.error());
    return out;
  }
  out.status.ok = true;
  for (auto& x : *found) {
    attempt_info i;
    i.id = to_hex(x.id);
    i.candidate = to_hex(x.candidate);
    i.service = x.service;
    i.region = x.region;
    i.attempt = x.attempt;
    i.started = wall_clock(x.started);
    i.duration = std::chrono::duration_cast<std::chrono::milliseconds>(x.duration);
    i.status = status_of(x);
    i.code = x.succeeded ? "" : to_string(x.code);
    i.error = x.error;
    out.attempts.push_back(std::move(i));
  }
  return out;
}

} // namespace bulwark
