// The engine's host-facing calls: registration, proposals, approvals and governance
// (effectors, probes and breakers: engine_effectors.cpp).

#include <atomic>
#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "bulwark/engine.hpp"
#include "engine/doubt_policy.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"
#include "around_caf/submission_sink.hpp"

namespace bulwark {

namespace {

/// Converts the host's request into a proposal with an absolute deadline.
proposal to_proposal(const proposal_request& r, caf::timestamp now) {
  proposal p;
  p.idempotency_key = r.idempotency_key;
  p.principal = principal_id{r.principal};
  p.level = static_cast<authority_level>(std::clamp(r.level, 0, 255));
  p.services = r.services;
  p.regions = r.regions;
  for (auto& c : r.changes)
    p.mutations.push_back(mutation{resource_id{c.resource}, c.key, c.value});
  p.justification = r.justification;
  p.deadline = now + r.timeout;
  if (r.approval_window)
    p.approval_window = std::chrono::duration_cast<caf::timespan>(*r.approval_window);
  return p;
}

/// `done`, called once: by the worker that carries the proposal, or by the workers'
/// supervisor when that worker fails or is stopped (whichever comes first).
std::function<void(const result&)> once(std::function<void(const result&)> done) {
  auto called = std::make_shared<std::atomic<bool>>(false);
  return [called, done = std::move(done)](const result& r) {
    if (!called->exchange(true))
      done(r);
  };
}

/// The answer of a submission whose worker failed or was stopped before its answer.
result worker_lost(const caf::error& why) {
  return engine::impl::to_result(
    refuse(ec::unavailable, "the submission's worker stopped (" + caf::to_string(why)
                              + "): the proposal may have run; repeat its idempotency key "
                                "to learn its outcome",
           {}, caf::timespan{std::chrono::seconds{1}}));
}

/// The worker of a clustered submission: the cluster actor (`h`, its door) runs the
/// proposal on the leader, or refuses (fail closed); the worker ends with the answer. Tied
/// to the door, so none outlives a stop (the cluster actor answers what it holds when it
/// dies; a gone door answers nothing).
void forward_submission(caf::event_based_actor* self, cluster_actor h, proposal p, uint8_t cls,
                        std::function<void(const result&)> answer) {
  self->monitor(h);
  self->set_down_handler([self, answer](const caf::down_msg&) {
    answer(engine::impl::to_result(refuse(ec::unavailable, "the engine stopped")));
    self->quit();
  });
  self->request(h, caf::infinite, atom::submit_v, p, cls)
    .then(
      [self, answer](const outcome& o) {
        answer(engine::impl::to_result(o));
        self->quit();
      },
      [self, answer](const caf::error& err) {
        answer(engine::impl::to_result(err));
        self->quit();
      });
}

/// The worker of a submission that chaos delays: hands it to admission (`h`) after
/// `delay`, then ends with the answer. Tied to admission: if admission goes while it waits
/// out the delay, it answers `request_receiver_down` and ends, so none outlives a stop;
/// once sent, the request is answered (a dead actor's mailbox bounces it).
caf::behavior delay_submission(caf::event_based_actor* self, caf::actor h, proposal p,
                               caf::timespan delay, uint8_t cls,
                               std::function<void(const caf::expected<outcome>&)> finish,
                               std::shared_ptr<std::atomic<bool>> sent) {
  self->monitor(h);
  self->set_down_handler([self, finish, sent](const caf::down_msg&) {
    if (*sent)
      return;
    finish(caf::make_error(caf::sec::request_receiver_down));
    self->quit();
  });
  self->delayed_send(self, delay, atom::submit_v);
  return {[self, h, p, cls, finish, sent](atom::submit) {
    *sent = true;
    self->request(h, caf::infinite, atom::submit_v, p, cls, true)
      .then(
        [self, finish](const outcome& o) {
          finish(o);
          self->quit();
        },
        [self, finish](const caf::error& err) {
          finish(err);
          self->quit();
        });
    self->unbecome();
  }};
}

/// Whether a submission asks the cluster actor: the node is clustered and its write window
/// is closed (it does not lead now, or its cluster actor has not said so lately).
bool ask_cluster(const engine::impl& d) {
  return through_cluster(static_cast<bool>(d.cluster), d.local_writes.get());
}

/// Runs `done` with the outcome of a proposal: through the engine's submission sink (one
/// request into admission's mailbox, no actor of its own), or from a one-shot worker under
/// the engine's `workers` supervisor when it asks the cluster actor (`via_cluster`) or
/// when chaos delays the submission.
void submit_async(engine::impl& d, proposal p, uint8_t cls,
                  std::function<void(const result&)> done, bool via_cluster) {
  if (via_cluster) {
    auto answer = once(std::move(done));
    d.spawn_worker(worker_spec{
      "submission",
      [h = d.cluster, p = std::move(p), cls, answer](caf::local_actor* sup) {
        return caf::actor{sup->home_system().spawn(forward_submission, h, p, cls, answer)};
      },
      [answer](const caf::error& why) { answer(worker_lost(why)); }});
    return;
  }
  auto delay = d.chaos->submission_delay(); // chaos: delayed messages (0 when off)
  auto h = d.admission->get();
  if (!h) { // between a crash of admission and its restart: fail closed, at once
    d.gate->leave(p.principal.value);
    done(engine::impl::to_result(refuse(ec::unavailable, "admission is restarting", trace_id{},
                                        caf::timespan{d.cfg.admission.retry_base})));
    return;
  }
  // Bounced from a dead admission actor's mailbox: the place was never taken over, so
  // give it back here (admission gives back all others).
  auto on_error = [done, gate = d.gate, who = p.principal.value](const caf::error& err) {
    if (err == caf::sec::request_receiver_down)
      gate->leave(who);
    done(engine::impl::to_result(err));
  };
  if (delay.count() == 0) {
    d.sink->submit(caf::actor_cast<caf::strong_actor_ptr>(h), std::move(p), cls,
                   submission_callbacks{[done](const outcome& o) {
                                          done(engine::impl::to_result(o));
                                        },
                                        std::move(on_error)});
    d.pump();
    return;
  }
  auto called = std::make_shared<std::atomic<bool>>(false);
  auto finish = [called, done, on_error](const caf::expected<outcome>& o) {
    if (called->exchange(true))
      return;
    if (o)
      done(engine::impl::to_result(*o));
    else
      on_error(o.error());
  };
  auto sent = std::make_shared<std::atomic<bool>>(false);
  auto lost = [finish, sent, called, done](const caf::error& why) {
    if (!*sent) // never handed to admission: its place goes back with the refusal
      return finish(caf::make_error(caf::sec::request_receiver_down));
    if (!called->exchange(true))
      done(worker_lost(why));
  };
  d.spawn_worker(worker_spec{
    "delayed-submission",
    [h = caf::actor_cast<caf::actor>(h), p = std::move(p), delay, cls, finish,
     sent](caf::local_actor* sup) {
      return caf::actor{
        sup->home_system().spawn(delay_submission, h, p, delay, cls, finish, sent)};
    },
    std::move(lost)});
  d.pump();
}

/// Logs shedding at most once a second, with the count since the last line.
void shed_report(engine::impl& d, const std::string& principal, admission_class cls,
                 const std::string& reason) {
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
  if (auto n = d.gate->report_due(now, 1'000'000'000); n > 0)
    spdlog::info("admission: shed {} proposal(s) since the last report; latest of {} ({}): {}",
                 n, principal, to_string(cls), reason);
}

result seq_result(const caf::expected<seq_no>& r) {
  if (!r)
    return engine::impl::to_result(r.error());
  result out;
  out.ok = true;
  out.seq = r->value;
  return out;
}

} // namespace

result engine::register_resource(const std::string& id, const std::string& service,
                                 const std::string& region,
                                 const std::map<std::string, std::string>& attributes) {
  auto& d = *impl_;
  registration r{resource_id{id}, service, region, attribute_map{attributes.begin(), attributes.end()}};
  if (d.cluster) { // clustered: registered where the journal is written
    operator_command cmd;
    cmd.kind = command_kind::enroll;
    cmd.enrollment = std::move(r);
    return forward_command(d, std::move(cmd));
  }
  return seq_result(d.call<seq_no>(d.pipeline, atom::enroll_v, std::move(r)));
}

std::future<result> engine::submit(const proposal_request& p) {
  auto promise = std::make_shared<std::promise<result>>();
  auto future = promise->get_future();
  submit(p, [promise](const result& r) { promise->set_value(r); });
  return future;
}

void engine::submit(const proposal_request& p, std::function<void(const result&)> done) {
  auto& d = *impl_;
  if (d.stopped) {
    done(impl::to_result(refuse(ec::unavailable, "the engine is stopped")));
    return;
  }
  auto cls = d.admins->count(p.principal) != 0 ? admission_class::operator_
                                                            : admission_class::automation;
  if (ask_cluster(d)) { // the cluster actor routes it to the leader's admission, or refuses
    submit_async(d, to_proposal(p, d.now()), static_cast<uint8_t>(cls), std::move(done), true);
    return;
  }
  // Load shedding on the caller's thread: a place in admission's bounded queues is
  // reserved here, before any message; beyond the bound the caller hears at once.
  auto level = static_cast<degradation>(std::min<uint8_t>(d.conditions->degradation_level(), 2));
  auto pass = d.gate->try_enter(p.principal, cls, level);
  if (!pass.admitted) {
    shed_report(d, p.principal, cls, pass.reason);
    // The answer directly, as to_result(refuse(...)) would give it: the refused caller's
    // thread should do as little as it can under a flood.
    result r;
    r.code = to_string(pass.code);
    r.message = std::move(pass.reason);
    if (pass.retry_after)
      r.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*pass.retry_after);
    done(r);
    return;
  }
  submit_async(d, to_proposal(p, d.now()), static_cast<uint8_t>(cls), std::move(done), false);
}

result engine::approve(const std::string& approver, const std::string& proposal_hex, bool yes) {
  auto& d = *impl_;
  digest id;
  if (!parse_digest(proposal_hex, id))
    return engine::impl::invalid_input("proposal digest must be 64 hex characters");
  if (d.cluster) { // the leader's rollback executor or pipeline holds what waits (fail closed)
    auto cmd = api_command(command_kind::approve, approver);
    cmd.id = id;
    cmd.flag = yes;
    return forward_command(d, std::move(cmd));
  }
  if (auto rb = d.call<std::vector<digest>>(d.rollbacks, atom::pending_v);
      rb && std::find(rb->begin(), rb->end(), id) != rb->end())
    return approve_rollback(d, approver, id, yes);
  auto r = d.call<seq_no>(d.pipeline, atom::approve_v, approval{principal_id{approver}, id, yes, ""});
  d.pump();
  return seq_result(r);
}

result engine::interrupt(const std::string& by, const std::string& proposal_hex) {
  auto& d = *impl_;
  digest id;
  if (!parse_digest(proposal_hex, id))
    return engine::impl::invalid_input("proposal digest must be 64 hex characters");
  auto i = bulwark::interrupt{principal_id{by}, id};
  auto r = d.cluster ? d.call<seq_no>(d.cluster, atom::interrupt_v, std::move(i))
                     : d.call<seq_no>(d.pipeline, atom::interrupt_v, std::move(i));
  d.pump();
  return seq_result(r);
}

result engine::resolve(const std::string& by, const std::string& proposal_hex, bool applied,
                       const std::string& reason) {
  auto& d = *impl_;
  digest id;
  if (!parse_digest(proposal_hex, id))
    return engine::impl::invalid_input("proposal digest must be 64 hex characters");
  auto r = doubt_resolution{principal_id{by}, id, applied, reason};
  auto s = d.cluster ? d.call<seq_no>(d.cluster, atom::resolve_v, std::move(r))
                     : d.call<seq_no>(d.pipeline, atom::resolve_v, std::move(r));
  d.pump();
  return seq_result(s);
}

reconcile_report engine::reconcile(const std::string& by, std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  reconcile_report out;
  if (!is_valid_id(by)) {
    out.status = engine::impl::invalid_input("the resolver is not a valid name");
    return out;
  }
  if (role_of(d.approvals(), by) == approver_role::none) {
    out.status = engine::impl::to_result(
      refuse(ec::authority_denied, by + " holds no approver role ([authority] operators or "
                                        "admins) and may not resolve actions in doubt"));
    return out;
  }
  if (timeout.count() <= 0) {
    out.status = engine::impl::invalid_input("the probes' timeout must be positive");
    return out;
  }
  out.status.ok = true;
  auto actions = in_doubt_actions(); // oldest proposal first, its steps in order
  for (size_t i = 0; i < actions.size();) {
    size_t end = i;
    while (end < actions.size() && actions[end].proposal == actions[i].proposal)
      ++end;
    std::vector<in_doubt_action> mine(actions.begin() + static_cast<ptrdiff_t>(i),
                                      actions.begin() + static_cast<ptrdiff_t>(end));
    std::vector<probe_reading> readings;
    for (auto& a : mine) {
      auto p = probe(a.service, a.resource, a.key, timeout);
      readings.push_back(probe_reading{p.ok, p.value, p.error});
    }
    auto j = judge_doubt(mine, readings);
    reconciliation r{mine.front().proposal, "unresolved", j.evidence, 0};
    if (j.outcome != doubt_judgement::verdict::unresolved) {
      bool applied = j.outcome == doubt_judgement::verdict::applied;
      auto settled = resolve(by, r.proposal, applied, j.evidence);
      if (settled.ok) {
        r.outcome = applied ? "applied" : "not-applied";
        r.seq = settled.seq;
      } else {
        r.evidence = j.evidence + " (not settled: " + settled.code + ": " + settled.message + ")";
      }
    }
    spdlog::info("engine: reconcile {}: {} ({})", r.proposal, r.outcome, r.evidence);
    out.proposals.push_back(std::move(r));
    i = end;
  }
  return out;
}

result engine::halt(const std::string& by, const std::string& reason) {
  auto& d = *impl_;
  if (d.cluster) {
    auto cmd = api_command(command_kind::halt, by);
    cmd.text = reason;
    return forward_command(d, std::move(cmd));
  }
  return seq_result(d.call<seq_no>(d.authority->get(), atom::halt_v, principal_id{by}, reason));
}

result engine::release(const std::string& by, const std::string& reason) {
  auto& d = *impl_;
  if (d.cluster) {
    auto cmd = api_command(command_kind::release, by);
    cmd.text = reason;
    return forward_command(d, std::move(cmd));
  }
  return seq_result(d.call<seq_no>(d.authority->get(), atom::release_v, principal_id{by}, reason));
}

result engine::grant(const std::string& by, const std::string& principal, int level,
                     std::optional<std::chrono::system_clock::time_point> until,
                     const std::string& reason) {
  auto& d = *impl_;
  if (level < 0 || level > 4)
    return engine::impl::invalid_input("level must be 0-4");
  caf::optional<caf::timestamp> u;
  if (until)
    u = caf::timestamp{std::chrono::duration_cast<caf::timespan>(until->time_since_epoch())};
  if (d.cluster) {
    auto cmd = api_command(command_kind::grant, by);
    cmd.target = principal;
    cmd.level = static_cast<uint8_t>(level);
    cmd.until = u;
    cmd.text = reason;
    return forward_command(d, std::move(cmd));
  }
  return seq_result(d.call<seq_no>(d.authority->get(), atom::grant_v, principal_id{by},
                                   principal_id{principal}, static_cast<authority_level>(level),
                                   u, reason));
}

} // namespace bulwark

#include "bulwark/engine_caf.hpp"

namespace bulwark {

engine_handles handles_of(engine& eng) {
  auto& d = eng.internals();
  return engine_handles{d.sys.get(), d.journal,  d.authority->get(), d.blast,
                        d.pipeline,  d.store,    d.breakers};
}

} // namespace bulwark
