// The watch supervisor and the health actor under it; the engine's health indicators
// (journal space, restarts, refused raw values) and the health part of the embedding API.

#include <algorithm>
#include <filesystem>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/circuit_breaker/breaker_runtime.hpp"
#include "actors/pipeline/flight_registry.hpp"
#include "actors/health/health.hpp"
#include "bulwark/engine.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"
#include "messages/refusals.hpp"

namespace bulwark {

// -- restart_tracker ---------------------------------------------------------------

void restart_tracker::limit(const std::string& supervisor, const supervisor_limits& limits) {
  std::lock_guard<std::mutex> guard{mtx_};
  limits_[supervisor] = limits;
}

void restart_tracker::record(const std::string& supervisor, caf::timestamp at) {
  std::lock_guard<std::mutex> guard{mtx_};
  ++total_;
  auto& xs = times_[supervisor];
  xs.push_back(at);
  if (xs.size() > 1000)
    xs.erase(xs.begin(), xs.begin() + 500);
}

uint64_t restart_tracker::total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return total_;
}

double restart_tracker::intensity_pct(caf::timestamp at) const {
  std::lock_guard<std::mutex> guard{mtx_};
  double worst = 0;
  for (auto& [name, xs] : times_) {
    auto i = limits_.find(name);
    auto limits = i != limits_.end() ? i->second : supervisor_limits{};
    auto recent = std::count_if(xs.begin(), xs.end(),
                                [&](caf::timestamp t) { return t > at - limits.window; });
    worst = std::max(worst, 100.0 * static_cast<double>(recent)
                              / static_cast<double>(std::max<uint32_t>(limits.max_restarts, 1)));
  }
  return worst;
}

// -- the watch supervisor --------------------------------------------------------------

std::vector<reading> engine::impl::sample_health(caf::timestamp at) {
  std::vector<reading> out;
  auto space = store->space();
  std::error_code err;
  auto disk = std::filesystem::space(cfg.data_dir, err);
  // The journal can grow to the smaller of its map limit and what the disk still holds.
  double capacity = static_cast<double>(space.max_map_bytes);
  if (!err)
    capacity = std::min(capacity, static_cast<double>(space.used_bytes)
                                    + static_cast<double>(disk.available));
  auto used = static_cast<double>(space.used_bytes);
  out.push_back({"journal_space_pct", capacity > 0 ? 100.0 * used / capacity : 100.0});
  out.push_back({"admission_queued", gate ? static_cast<double>(gate->waiting()) : 0.0});
  // Mailbox depths, sampled by each actor from its own handlers (peak since last round).
  for (auto& [id, g] : {std::pair{"mailbox_journal", mailboxes.journal},
                        std::pair{"mailbox_authority", mailboxes.authority},
                        std::pair{"mailbox_admission", mailboxes.admission}})
    out.push_back({id, static_cast<double>(g->take())});
  uint64_t deepest = 0; // the pipeline's: the deepest of its flight families' mailboxes
  for (auto& g : mailboxes.flights)
    deepest = std::max(deepest, g->take());
  out.push_back({"mailbox_pipeline", static_cast<double>(deepest)});
  // The effector path: calls waiting in the breakers' bulkheads for a pool thread.
  uint64_t effector_queued = 0;
  {
    std::lock_guard<std::mutex> guard{runtimes_mtx};
    for (auto& r : runtimes)
      effector_queued += r->status().queued;
  }
  out.push_back({"effector_queued", static_cast<double>(effector_queued)});
  if (cfg.journal.meter) // the journal's queue: appends that waited for one commit
    out.push_back({"journal_waiting",
                   static_cast<double>(cfg.journal.meter->summarize(
                     sys->clock().now()).max_batch)});
  out.push_back({"restarts", static_cast<double>(restarts->total())});
  out.push_back({"restart_intensity_pct", restarts->intensity_pct(at)});
  out.push_back({"pv001_refused",
                 static_cast<double>(refusals(protected_value::raw_event_type))});
  out.push_back({"pv002_refused",
                 static_cast<double>(refusals(protected_value::unvalidated_digest))});
  out.push_back({"pv003_refused", static_cast<double>(refusals(protected_value::halt_guard))});
  std::lock_guard<std::mutex> guard{metrics_lock}; // what the host measures (a signal source)
  for (auto& [id, value] : host_indicators)
    out.push_back({id, value});
  return out;
}

void engine::impl::start_watch() {
  health_view = std::make_shared<health_board>();
  health = std::make_shared<health_slot_type>();
  watch_queue = std::make_shared<child_queue>();
  health_deps deps;
  deps.journal = journal;
  deps.pipeline = pipeline;
  deps.sample = [this](caf::timestamp at) { return sample_health(at); };
  auto st = store;
  deps.verify = [st] {
    auto report = st->verify(seq_no{1}, seq_no{UINT64_MAX});
    st->release_resident(); // the scan touched every page of the journal
    return report;
  };
  deps.board = health_view;
  deps.conditions = conditions;
  deps.approval_timeout = cfg.pipeline.approval_timeout;
  deps.epoch = epoch;
  auto settings = cfg.health;
  auto slot = health;
  bool attached = virtual_clock;
  std::vector<child_spec> specs;
  // The full verification blocks: outside the test scheduler the actor gets its own thread.
  specs.push_back(child_spec{"health", restart_kind::permanent,
                             [settings, deps, slot, attached](caf::local_actor* sup) {
                               auto h = attached
                                          ? sup->home_system().spawn(bulwark::health, settings,
                                                                     deps)
                                          : sup->home_system().spawn<caf::detached>(
                                            bulwark::health, settings, deps);
                               slot->set(h);
                               return caf::actor_cast<caf::actor>(h);
                             }});
  supervisor_limits limits; // one_for_one
  restarts->limit("watch", limits);
  watch = sys->spawn(supervisor, std::string{"watch"}, limits, std::move(specs), restart_report(),
                     watch_queue);
}

void engine::impl::add_watch_child(child_spec spec) {
  watch_queue->push(std::move(spec));
  caf::anon_send(watch, atom::enroll_v);
  pump();
}

void engine::impl::start_admission(const std::map<std::string, uint64_t>& quarantined) {
  gate = std::make_shared<admission_gate>(cfg.admission);
  std::set<std::string> journaled;
  for (auto& [who, seq] : quarantined)
    journaled.insert(who);
  gate->set_quarantined(std::move(journaled)); // a quarantine survives a restart
  admission_deps deps{pipeline, conditions, gate, mailboxes.admission, journal,
                      [this] { return now(); }};
  // A proposal goes straight to its flight family's actor while it runs (the slots its
  // supervisor fills), past the pipeline's door.
  std::vector<std::shared_ptr<handle_slot<caf::actor>>> families;
  for (size_t i = 0; i < flight_families; ++i)
    families.push_back(behind_doors.at(actor_name(static_cast<flight_family>(i))));
  deps.straight = [families](const proposal& p) {
    return families[static_cast<size_t>(family_of(p.level))]->get();
  };
  auto limits = cfg.admission;
  auto slot = admission;
  std::vector<child_spec> specs;
  // A restarted admission actor takes over the gate (callers' places, the quarantine);
  // the one that died answered or handed on everything it held (admission.hpp).
  specs.push_back(child_spec{"admission", restart_kind::permanent,
                             [limits, deps, slot](caf::local_actor* sup) {
                               auto a = sup->home_system().spawn(bulwark::admission, limits,
                                                                 deps);
                               slot->set(a);
                               return caf::actor_cast<caf::actor>(a);
                             }});
  supervisor_limits one_for_one;
  restarts->limit("intake", one_for_one);
  intake = sys->spawn(supervisor, std::string{"intake"}, one_for_one, std::move(specs),
                      restart_report(), std::shared_ptr<child_queue>{});
  pump();
}

void engine::impl::bind_chaos() {
  // Each supervised actor by its name: the one behind a door, or the one in a handle slot.
  auto kill_in = [](std::string name, auto slot) {
    return [name, slot]() -> caf::error {
      auto target = caf::actor_cast<caf::actor>(slot->get());
      if (!target)
        return refuse(ec::unavailable, name + " is not running");
      caf::anon_send_exit(target, caf::exit_reason::kill);
      return {};
    };
  };
  for (auto& [name, slot] : behind_doors)
    chaos->expose(name, kill_in(name, slot));
  // "pipeline": every flight family's actor at once (each is "flights:<family>" alone).
  std::vector<std::function<caf::error()>> families;
  for (auto& [name, slot] : behind_doors)
    if (name.rfind("flights:", 0) == 0)
      families.push_back(kill_in(name, slot));
  chaos->expose("pipeline", [families]() -> caf::error {
    caf::error first;
    for (auto& kill : families)
      if (auto err = kill(); err && !first)
        first = std::move(err);
    return first;
  });
  chaos->expose("authority", kill_in("authority", authority));
  chaos->expose("admission", kill_in("admission", admission));
  chaos->expose("health", kill_in("health", health));
  chaos->expose("detector", kill_in("detector", detector));
  chaos->expose("orchestrator", kill_in("orchestrator", orchestrator));
  chaos->expose("attempt_keeper", kill_in("attempt_keeper", attempt_keeper));
  auto dir = breakers;
  auto st = store;
  chaos->bind(
    [dir](const std::string& name) -> caf::error {
      breaker_directory::entry e;
      if (!dir->find(name.substr(8), e))
        return refuse(ec::invalid_input, "unknown actor '" + name + "' (no such service)");
      auto target = caf::actor_cast<caf::actor>(e.handle);
      if (!target)
        return refuse(ec::unavailable, name + " is not running");
      caf::anon_send_exit(target, caf::exit_reason::kill);
      return {};
    },
    [st](bool on) { st->inject_write_failures(on); });
}

// -- the embedding API -------------------------------------------------------------


health_info engine::health() {
  auto snap = impl_->health_view->get();
  health_info out;
  out.level = to_string(snap.level);
  out.rounds = snap.rounds;
  for (auto& m : snap.modes)
    out.modes.push_back({m.id, m.name, m.mitigation, m.action, to_string(m.level)});
  for (auto& i : snap.indicators)
    out.indicators.push_back({i.id, i.mode, i.unit, i.sampled, i.value, i.limits.warning,
                              i.limits.critical, to_string(i.level), to_string(i.direction),
                              i.history});
  return out;
}

load_info engine::load() {
  auto& d = *impl_;
  load_info out;
  {
    std::lock_guard<std::mutex> guard{d.metrics_lock};
    out.telemetry_shed = d.metrics_shed;
  }
  if (!d.gate)
    return out;
  out.refused = d.gate->refused().total(); // counted at the gate: survives restarts
  auto h = d.admission->get();
  if (!h)
    return out;
  caf::scoped_actor self{*d.sys, true};
  self->send(h, atom::state_v);
  if (d.sched != nullptr)
    d.sched->run();
  self->receive(
    [&](uint64_t queued, uint64_t in_flight, uint64_t refused, std::string& quarantined) {
      out.queued = queued;
      out.in_flight = in_flight;
      out.refused = refused;
      for (size_t at = 0; !quarantined.empty() && at <= quarantined.size();) {
        auto comma = quarantined.find(',', at);
        out.quarantined.push_back(quarantined.substr(at, comma - at));
        if (comma == std::string::npos)
          break;
        at = comma + 1;
      }
    },
    caf::after(std::chrono::seconds{d.sched != nullptr ? 0 : 5}) >> [] {});
  return out;
}

result engine::release_principal(const std::string& by, const std::string& principal) {
  auto& d = *impl_;
  if (d.cluster) { // quarantine is the leader's: its admission runs the proposals
    auto cmd = api_command(command_kind::release_principal, by);
    cmd.target = principal;
    return forward_command(d, std::move(cmd));
  }
  if (d.admins->count(by) == 0)
    return impl::to_result(refuse(ec::authority_denied, by + " is not an admin"));
  auto r = d.call<bool>(d.admission->get(), atom::release_v, principal_id{principal},
                        principal_id{by});
  if (!r)
    return impl::to_result(r.error());
  if (!*r)
    return impl::to_result(refuse(ec::invalid_input, principal + " is not quarantined"));
  result out;
  out.ok = true;
  return out;
}

bool engine::set_indicator(const std::string& id, double value) {
  auto& defs = indicator_defs();
  if (std::none_of(defs.begin(), defs.end(), [&](const indicator_def& d) { return d.id == id; }))
    return false;
  std::lock_guard<std::mutex> guard{impl_->metrics_lock};
  impl_->host_indicators[id] = value;
  return true;
}

std::vector<health_warning> engine::warnings() {
  std::vector<health_warning> out;
  for (auto& w : impl_->health_view->get().warnings)
    out.push_back({w.warning.mode, w.warning.indicator, to_string(w.warning.level),
                   w.warning.value, w.warning.threshold, w.warning.action, wall_clock(w.at),
                   w.active});
  return out;
}

} // namespace bulwark
