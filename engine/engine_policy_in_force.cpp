// The governance policy a running engine is under: journaled at start when it changed,
// reloaded on request (an admin, SIGHUP), and handed to the actors that apply it.

#include <spdlog/spdlog.h>

#include "caf/event_based_actor.hpp"

#include "actors/blast_radius/blast_radius.hpp"
#include "actors/journal/journal.hpp"
#include "actors/rollback/rollback.hpp"
#include "engine/engine_impl.hpp"
#include "engine/policy_document.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

authority_settings engine::impl::authority_settings_of(const node_config& c) const {
  auto s = c.authority;
  s.conditions = conditions;
  s.mailbox = mailboxes.authority;
  s.live = authority_live;
  return s;
}

pipeline_settings engine::impl::pipeline_settings_of(const node_config& c,
                                                     const std::string& version) const {
  auto s = c.pipeline;
  s.policy_version = version;
  s.live = pipeline_live;
  return s;
}

rollback_settings engine::impl::rollback_settings_of(const node_config& c) const {
  rollback_settings s{c.authority.policy.enforce_enabled, c.pipeline.approval_timeout,
                      c.pipeline.effector_timeout, c.authority.approvals,
                      c.authority.policy.grants};
  s.live = rollback_live;
  return s;
}

incident_settings engine::impl::incident_settings_of(const node_config& c) const {
  auto s = c.incident;
  s.signal_retention = c.pipeline.observation_window + std::chrono::minutes{1};
  s.live = incident_live;
  return s;
}

approval_policy engine::impl::approvals() const {
  std::lock_guard<std::mutex> guard{policy_mtx};
  return cfg.authority.approvals;
}

void engine::impl::prepare_policy() {
  policy = policy_entries(cfg);
  policy_version = bulwark::policy_version(policy);
  admins->set(cfg.authority.admins);
  // The cells first: each actor's settings name their cell.
  authority_live = std::make_shared<live_settings<authority_settings>>(authority_settings{});
  pipeline_live = std::make_shared<live_settings<pipeline_settings>>(pipeline_settings{});
  rollback_live = std::make_shared<live_settings<rollback_settings>>(rollback_settings{});
  incident_live = std::make_shared<live_settings<incident_settings>>(incident_settings{});
  authority_live->set(authority_settings_of(cfg));
  pipeline_live->set(pipeline_settings_of(cfg, policy_version));
  rollback_live->set(rollback_settings_of(cfg));
  incident_live->set(incident_settings_of(cfg));
}

namespace {

event policy_record(const std::vector<policy_entry>& before, const std::string& previous,
                    const std::vector<policy_entry>& after, const std::string& version,
                    const std::string& by, const std::string& cause, caf::timestamp at) {
  policy_changed x{version, previous, principal_id{by}, cause, policy_diff(before, after),
                   after};
  return make_event(event_type::policy_changed, at, x);
}

} // namespace

caf::error engine::impl::journal_policy_at_start(const fleet_state& st, bool writes) {
  if (st.policy_version == policy_version || !writes)
    return {};
  auto ev = policy_record(st.policy, st.policy_version, policy, policy_version, "config",
                          "start", now());
  auto ack = call<appended>(journal, atom::append_v, std::move(ev));
  if (!ack)
    return ack.error();
  spdlog::info("engine: policy {} in force (journaled at seq {}; it was {})",
               policy_version.substr(0, 16), ack->first.value,
               st.policy_version.empty() ? "none" : st.policy_version.substr(0, 16));
  return {};
}

namespace {

/// Journals `policy` (version `version`) unless it is the journal's own already.
caf::behavior journal_policy_if_new(caf::event_based_actor* self, journal_actor j,
                                    std::vector<policy_entry> policy, std::string version,
                                    caf::timestamp at) {
  auto failed = [self](const caf::error& err) {
    spdlog::error("engine: the policy in force could not be journaled at promotion: {}",
                  describe(err).message);
    self->quit();
  };
  self->request(j, std::chrono::seconds{10}, atom::state_v)
    .then(
      [=](const fleet_state& st) {
        if (st.policy_version == version)
          return self->quit();
        auto ev = policy_record(st.policy, st.policy_version, policy, version, "config",
                                "promotion", at);
        self->request(j, std::chrono::seconds{10}, atom::append_v, std::move(ev))
          .then(
            [self, version](const appended& ack) {
              spdlog::info("engine: policy {} in force (journaled at seq {} on promotion)",
                           version.substr(0, 16), ack.first.value);
              self->quit();
            },
            failed);
      },
      failed);
  return {[](atom::retry) {}}; // its answers end it
}

} // namespace

void engine::impl::journal_policy_on_promotion() {
  std::vector<policy_entry> p;
  std::string version;
  {
    std::lock_guard<std::mutex> guard{policy_mtx};
    p = policy;
    version = policy_version;
  }
  auto j = journal;
  auto at = now();
  spawn_worker(worker_spec{
    "policy-on-promotion",
    [j, p, version, at](caf::local_actor* sup) {
      return caf::actor{sup->home_system().spawn(journal_policy_if_new, j, p, version, at)};
    },
    [](const caf::error& why) {
      spdlog::error("engine: the policy was not journaled at promotion ({})",
                    caf::to_string(why));
    }});
}

namespace {

policy_reload refused(const caf::error& err) {
  policy_reload out;
  out.status = engine::impl::to_result(err);
  return out;
}

} // namespace

policy_reload engine::reload_policy(const std::string& by, const std::string& cause) {
  auto& d = *impl_;
  if (cause != "reload" && cause != "signal")
    return refused(refuse(ec::invalid_input, "a reload's cause is \"reload\" or \"signal\""));
  if (cause == "reload" && d.admins->count(by) == 0)
    return refused(refuse(ec::authority_denied,
                          by + " is not an admin and may not reload the policy"));
  if (d.options.config_file.empty())
    return refused(refuse(ec::invalid_input, "the node was started without a configuration "
                                             "file: there is no policy to reload"));
  if (auto memory = d.cfg.journal.memory) {
    std::lock_guard<std::mutex> guard{memory->mtx};
    if (!memory->writable)
      return refused(refuse(ec::unavailable, "this node does not write the journal (a "
                                             "cluster follower): reload the leader's policy"));
  }
  std::lock_guard<std::mutex> guard{d.policy_mtx}; // one reload at a time
  auto next = load_config(d.options.config_file);
  caf::error bad;
  if (!next) {
    bad = next.error();
  } else {
    apply_options(*next, d.options);
    bad = check_config(*next, d.options.config_file);
  }
  if (bad) {
    // Refused whole: the policy in force stays; the refusal and its reason are journaled.
    auto reason = describe(bad).message;
    auto ev = make_event(event_type::policy_refused, d.now(),
                         policy_refused{principal_id{by}, cause, reason});
    if (auto ack = d.call<appended>(d.journal, atom::append_v, std::move(ev)); !ack)
      spdlog::error("engine: the refused reload is not journaled: {}",
                    describe(ack.error()).message);
    spdlog::warn("engine: policy reload refused: {}", reason);
    return refused(refuse(ec::invalid_input, "the policy was not reloaded: " + reason));
  }
  auto entries = policy_entries(*next);
  auto version = bulwark::policy_version(entries);
  policy_reload out;
  out.status.ok = true;
  out.previous = d.policy_version;
  out.version = version;
  if (version == d.policy_version)
    return out; // unchanged: nothing to journal
  auto ev = policy_record(d.policy, d.policy_version, entries, version, by, cause, d.now());
  auto diff = policy_diff(d.policy, entries);
  auto ack = d.call<appended>(d.journal, atom::append_v, std::move(ev));
  if (!ack) // not journaled: nothing runs under it
    return refused(ack.error());
  // Journaled: from here on every decision runs under it.
  auto& c = d.cfg;
  c.authority = next->authority;
  auto& p = c.pipeline;
  auto& n = next->pipeline;
  p.approval_timeout = n.approval_timeout;
  p.observation_window = n.observation_window;
  p.effector_timeout = n.effector_timeout;
  p.analysis_failure_limit = n.analysis_failure_limit;
  p.analysis_requires_data = n.analysis_requires_data;
  p.limits.max_deadline = n.limits.max_deadline;
  p.limits.max_mutations = n.limits.max_mutations;
  p.approvals = n.approvals;
  p.authority = n.authority;
  p.budget_window = n.budget_window;
  c.blast = next->blast;
  c.incident.policies = next->incident.policies;
  c.incident.correlation = next->incident.correlation;
  d.policy = std::move(entries);
  d.policy_version = version;
  d.admins->set(c.authority.admins);
  {
    std::lock_guard<std::mutex> window{d.blast_windows->mtx};
    d.blast_windows->policy.set_limits(c.blast);
  }
  d.authority_live->set(d.authority_settings_of(c));
  d.pipeline_live->set(d.pipeline_settings_of(c, version));
  d.rollback_live->set(d.rollback_settings_of(c));
  d.incident_live->set(d.incident_settings_of(c));
  spdlog::info("engine: policy {} in force after a reload by {} ({} changes, seq {})",
               version.substr(0, 16), by, diff.size(), ack->first.value);
  out.changed = true;
  for (auto& x : diff) {
    policy_difference y;
    y.key = x.key;
    if (x.before)
      y.before = *x.before;
    if (x.after)
      y.after = *x.after;
    out.changes.push_back(std::move(y));
  }
  return out;
}

std::string engine::policy_version() const {
  std::lock_guard<std::mutex> guard{impl_->policy_mtx};
  return impl_->policy_version;
}

} // namespace bulwark
