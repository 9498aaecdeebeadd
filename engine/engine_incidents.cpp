// The engine's recovery half: spawning the rollback executor, the orchestrator and the
// detector, and the embedding API for metrics, candidates, incidents and rollbacks.

#include <algorithm>
#include <thread>
#include <utility>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/incident/detector.hpp"
#include "actors/incident/orchestrator.hpp"
#include "actors/journal/journal.hpp"
#include "actors/rollback/rollback.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"

namespace bulwark {

void engine::impl::start_incidents() {
  auto rs = rollback_settings_of(cfg);
  // Started after the cluster set the journal's role: a follower closes no rollback.
  auto writes = [memory = cfg.journal.memory] {
    std::lock_guard<std::mutex> guard{memory->mtx};
    return memory->writable;
  };
  rollback_deps rdeps{journal, store, authority, breakers, conditions, writes, cfg.journal.view};
  auto clock = [this] { return now(); };
  // Under the root, behind its door; it reads the journal's committed projection.
  rollbacks = caf::actor_cast<rollback_actor>(behind_door(
    "rollback", refuse(ec::unavailable, "the rollback executor is restarting"),
    caf::actor_cast<caf::actor>(sys->spawn(bulwark::rollback, rs, rdeps, epoch)),
    [rs, rdeps, clock](caf::local_actor* sup) -> caf::actor {
      return caf::actor_cast<caf::actor>(
        sup->home_system().spawn(bulwark::rollback, rs, rdeps, clock()));
    }));
  // Both run under the watch supervisor (one_for_one, permanent), on the journal's
  // committed view: a restarted one reads the state of that moment in place.
  auto settings = incident_settings_of(cfg);
  auto j = journal;
  auto rb = rollbacks;
  auto ep = epoch;
  auto os = orchestrator;
  auto view = cfg.journal.view;
  if (!escalations)
    escalations = std::make_shared<escalation_hooks>();
  auto hooks = escalations;
  auto started = std::make_shared<bool>(false);
  add_watch_child(child_spec{"orchestrator", restart_kind::permanent,
                             [settings, j, rb, ep, os, view, started, clock,
                              hooks](caf::local_actor* sup) {
                               auto at = std::exchange(*started, true) ? clock() : ep;
                               auto o = sup->home_system().spawn(bulwark::orchestrator, settings,
                                                                 j, rb, view, at, hooks);
                               os->set(o);
                               return caf::actor_cast<caf::actor>(o);
                             }});
  auto ds = detector;
  auto sto = store;
  // A change protects its series for the RCA look-back and the observation window, and
  // every series of its service for the observation window (a level-3 analysis reads
  // them all).
  shedding = std::make_shared<shed_board>();
  shedding->core = sample_shedder{std::max(settings.rca.lookback,
                                           cfg.pipeline.observation_window),
                                  cfg.pipeline.observation_window};
  auto shed = shedding;
  auto kept = attempts;
  auto seen = std::make_shared<bool>(false);
  add_watch_child(child_spec{"detector", restart_kind::permanent,
                             [settings, j, os, rb, shed, sto, kept, ep, ds, view, seen,
                              clock](caf::local_actor* sup) {
                               auto at = std::exchange(*seen, true) ? clock() : ep;
                               auto d = sup->home_system().spawn(bulwark::detector, settings, j,
                                                                 os, rb, shed, sto, kept, view,
                                                                 at);
                               ds->set(d);
                               return caf::actor_cast<caf::actor>(d);
                             }});
  // The supervisor spawns them on its own thread: the API must not find them missing.
  for (int i = 0; i < 5000 && (!orchestrator->get() || !detector->get()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
}

namespace {

std::vector<uint64_t> seqs_of(const std::vector<seq_no>& xs) {
  std::vector<uint64_t> out;
  for (auto& x : xs)
    out.push_back(x.value);
  return out;
}

result status_result(const caf::expected<rollback_status>& r) {
  if (!r)
    return engine::impl::to_result(r.error());
  result out;
  out.ok = r->status == "succeeded" || r->status == "no-op" || r->status == "awaiting-approval";
  out.code = r->code == ec::none ? "" : to_string(r->code);
  out.message = r->message;
  out.status = r->status;
  out.proposal = to_hex(r->rollback);
  out.seq = r->seq.value;
  out.applied = r->reverted;
  return out;
}

result invalid_input(const std::string& what) {
  result r;
  r.code = "INVALID_INPUT";
  r.message = what;
  return r;
}

/// Orders a rollback; an operator's own request is also its approval.
result order_rollback(engine::impl& d, rollback_order o) {
  auto by = o.by.value;
  if (d.cluster) { // the leader plans and runs it, with the requester's approval
    auto cmd = api_command(command_kind::rollback, by);
    cmd.id = o.incident;
    cmd.seqs = std::move(o.seqs);
    cmd.text = std::move(o.justification);
    return forward_command(d, std::move(cmd));
  }
  auto r = d.call<rollback_status>(d.rollbacks, atom::rollback_v, std::move(o));
  d.pump();
  if (r && r->status == "awaiting-approval")
    return approve_rollback(d, by, r->rollback, true);
  return status_result(r);
}

} // namespace

result rollback_result(const rollback_status& s) {
  return status_result(s);
}

result approve_rollback(engine::impl& d, const std::string& approver, const digest& id, bool yes) {
  auto r = d.call<rollback_status>(d.rollbacks, atom::approve_v,
                                   approval{principal_id{approver}, id, yes, ""});
  d.pump();
  return status_result(r);
}

bool engine::feed_metric(const metric_sample& s) {
  auto& d = *impl_;
  // Telemetry is shed first under load, and counted: fairly per series, never a series
  // detection needs (sample_shedder). Constitutional events never come this way.
  auto level = d.conditions ? d.conditions->degradation_level() : 0;
  bool shed = false;
  if (level > 0) {
    std::lock_guard<std::mutex> guard{d.shedding->lock};
    shed = d.shedding->core.shed({s.service, s.region}, level, d.now());
  }
  if (shed) {
    std::lock_guard<std::mutex> guard{d.metrics_lock};
    ++d.metrics_shed;
    return false;
  }
  metric_in m{s.service, s.region, s.error_rate, s.latency_ms,
              caf::timestamp{std::chrono::duration_cast<caf::timespan>(s.at.time_since_epoch())}};
  auto r = d.call<uint8_t>(d.detector->get(), atom::sample_v, std::move(m));
  d.pump();
  return r && *r == 0;
}

metric_counts engine::metric_stats() {
  auto& d = *impl_;
  metric_counts out;
  auto r = d.call<std::vector<uint64_t>>(d.detector->get(), atom::stats_v);
  if (r && r->size() >= 6) {
    auto& v = *r;
    out = metric_counts{v[0], v[1], v[2], v[3], v[4], v[5]};
  }
  return out;
}

std::vector<incident_info> engine::incidents() {
  auto& d = *impl_;
  std::vector<incident_info> out;
  auto view = d.committed();
  if (!view)
    return out;
  auto* st = &view->state();
  static const char* results[] = {"", "succeeded", "failed", "compensation_failed"};
  for (auto& [id, n] : st->incidents) {
    incident_info i;
    i.id = to_hex(id);
    i.candidate = to_hex(n.candidate);
    i.service = n.service;
    i.region = n.region;
    i.severity = to_string(n.level);
    i.status = status_name(n.status);
    i.culprits = seqs_of(n.culprits);
    i.rollback = n.rollback.is_zero() ? "" : to_hex(n.rollback);
    i.rollback_result = results[std::min<int>(n.rollback_result, 3)];
    i.onset = wall_clock(n.onset);
    i.respond_by = wall_clock(n.respond_by);
    i.mttr = std::chrono::duration_cast<std::chrono::milliseconds>(n.mttr);
    i.acknowledged = n.acknowledged;
    i.owner = n.owner;
    i.resolution = n.resolution;
    i.notes = n.notes;
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<candidate_info> engine::candidates() {
  auto& d = *impl_;
  std::vector<candidate_info> out;
  auto view = d.committed();
  if (!view)
    return out;
  auto* st = &view->state();
  for (auto& [id, c] : st->candidates) {
    candidate_info i;
    i.id = to_hex(id);
    i.service = c.service;
    i.region = c.region;
    i.policy = c.policy;
    i.verdict = c.verdict == 0 ? "" : to_string(static_cast<policy_verdict>(c.verdict));
    i.error_rate = c.error_ppm / 1e6;
    i.culprits = seqs_of(c.culprits);
    i.incident = c.incident.is_zero() ? "" : to_hex(c.incident);
    out.push_back(std::move(i));
  }
  return out;
}

result engine::promote(const std::string& by, const std::string& candidate,
                       const std::string& justification) {
  auto& d = *impl_;
  digest id;
  if (!parse_digest(candidate, id))
    return invalid_input("candidate digest must be 64 hex characters");
  if (!is_valid_id(by))
    return invalid_input("promoter must be a principal name");
  if (d.cluster) { // the leader's orchestrator holds the candidates
    auto cmd = api_command(command_kind::promote, by);
    cmd.id = id;
    cmd.text = justification.empty() ? "manual promotion" : justification;
    return forward_command(d, std::move(cmd));
  }
  auto r = d.call<incident_decision>(d.orchestrator->get(), atom::promote_v, id, principal_id{by},
                                     justification.empty() ? "manual promotion" : justification);
  d.pump();
  if (!r)
    return impl::to_result(r.error());
  result out;
  out.ok = true;
  out.status = r->repeated ? "repeated" : "promoted";
  out.proposal = r->incident ? to_hex(*r->incident) : "";
  return out;
}

result engine::rollback(const std::string& by, const std::string& incident,
                        const std::string& justification) {
  digest id;
  if (!parse_digest(incident, id))
    return invalid_input("incident digest must be 64 hex characters");
  if (!is_valid_id(by))
    return invalid_input("requester must be a principal name");
  return order_rollback(*impl_, rollback_order{id, {}, principal_id{by}, authority_level::assist,
                                               justification.empty() ? "operator rollback"
                                                                     : justification});
}

result engine::rollback_seqs(const std::string& by, const std::vector<uint64_t>& seqs,
                             const std::string& justification) {
  if (!is_valid_id(by))
    return invalid_input("requester must be a principal name");
  if (seqs.empty())
    return invalid_input("name at least one seq to roll back");
  std::vector<seq_no> xs;
  for (auto s : seqs)
    xs.push_back(seq_no{s});
  return order_rollback(*impl_, rollback_order{digest{}, std::move(xs), principal_id{by},
                                               authority_level::assist,
                                               justification.empty() ? "operator rollback"
                                                                     : justification});
}

std::vector<std::string> engine::pending_rollbacks() {
  auto& d = *impl_;
  std::vector<std::string> out;
  if (auto r = d.call<std::vector<digest>>(d.rollbacks, atom::pending_v))
    for (auto& id : *r)
      out.push_back(to_hex(id));
  return out;
}

} // namespace bulwark
