#include "bulwark/engine.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <malloc.h>
#include <filesystem>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/blast_radius/blast_radius.hpp"
#include "actors/circuit_breaker/breaker.hpp"
#include "actors/circuit_breaker/breaker_entry.hpp"
#include "actors/cluster/cluster_policy.hpp"
#include "actors/journal/journal.hpp"
#include "actors/pipeline/flight_router.hpp"
#include "persistence/make_event.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"
#include "around_caf/submission_sink.hpp"
#include "messages/register.hpp"
#include "persistence/event_json.hpp"

#include <nlohmann/json.hpp>

namespace bulwark {

namespace {

constexpr int64_t default_epoch_ms = 1'767'225'600'000; // 2026-01-01T00:00:00Z


} // namespace

void apply_options(node_config& cfg, const engine_options& opts) {
  if (!opts.data_dir.empty())
    cfg.data_dir = opts.data_dir;
  for (auto& a : opts.admins)
    cfg.authority.admins.insert(a);
  for (auto& [p, level] : opts.grants)
    cfg.authority.policy.grants[p] = static_cast<authority_level>(level);
  if (opts.enforce_enabled)
    cfg.authority.policy.enforce_enabled = *opts.enforce_enabled;
  if (opts.observation_window)
    cfg.pipeline.observation_window = *opts.observation_window;
  if (opts.approval_timeout)
    cfg.pipeline.approval_timeout = *opts.approval_timeout;
  if (opts.rate_per_second)
    cfg.authority.policy.rate_per_second = *opts.rate_per_second;
  if (opts.burst)
    cfg.authority.policy.burst = *opts.burst;
  if (opts.rollback_level) {
    if (cfg.incident.policies.empty())
      cfg.incident.policies.push_back(default_policy());
    for (auto& p : cfg.incident.policies)
      p.rollback_level = static_cast<authority_level>(std::clamp(*opts.rollback_level, 1, 4));
  }
  for (auto& o : opts.operators)
    cfg.authority.approvals.operators.insert(o);
  if (opts.allow_self_approval)
    cfg.authority.approvals.allow_self_approval = *opts.allow_self_approval;
  cfg.authority.policy.observation_window = cfg.pipeline.observation_window;
  cfg.authority.policy.approval_timeout = cfg.pipeline.approval_timeout;
  cfg.authority.approvals.admins = cfg.authority.admins;
  cfg.pipeline.approvals = cfg.authority.approvals;
  cfg.pipeline.budget_window = cfg.blast.window;
  cfg.pipeline.authority = cfg.authority.policy;
}

result engine::impl::to_result(const caf::error& err) {
  result r;
  auto info = describe(err);
  r.code = info.code == ec::none ? "UNAVAILABLE" : to_string(info.code);
  r.message = info.message;
  if (info.retry_after)
    r.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*info.retry_after);
  return r;
}

result engine::impl::invalid_input(const std::string& what) {
  return to_result(refuse(ec::invalid_input, what));
}

result engine::impl::to_result(const outcome& o) {
  result r;
  r.ok = o.status == proposal_status::succeeded || o.status == proposal_status::read;
  r.code = o.code == ec::none ? "" : to_string(o.code);
  r.message = o.message;
  r.status = to_string(o.status);
  r.proposal = to_hex(o.proposal);
  r.seq = o.decided_seq.value;
  r.applied = o.applied;
  r.compensated = o.compensated;
  if (o.retry_after)
    r.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*o.retry_after);
  if (o.read) {
    read_result x{o.read->seq.value, {}, o.read->total, o.read->truncated};
    x.resources.reserve(o.read->resources.size());
    for (auto& res : o.read->resources)
      x.resources.push_back(resource_read{res.id.value, res.service, res.region, res.attributes});
    r.read = std::move(x);
  }
  return r;
}

caf::timestamp engine::impl::now() const {
  if (sched != nullptr)
    return epoch + (sched->clock().now() - start);
  return caf::make_timestamp();
}

std::unique_ptr<engine> engine::start(const engine_options& opts, std::string* error) {
  auto fail = [&](const caf::error& err) -> std::unique_ptr<engine> {
    if (error != nullptr) {
      auto info = describe(err);
      *error = std::string{to_string(info.code)} + ": " + info.message;
    }
    return nullptr;
  };
  auto d = std::make_unique<impl>();
  if (!opts.config_file.empty()) {
    auto cfg = load_config(opts.config_file);
    if (!cfg)
      return fail(cfg.error());
    d->cfg = std::move(*cfg);
  }
  apply_options(d->cfg, opts);
  d->options = opts;
  if (auto err = check_config(d->cfg, opts.config_file.empty() ? "options" : opts.config_file))
    return fail(err);
  if (d->cfg.data_dir.empty())
    return fail(refuse(ec::invalid_input, "no data directory (node.data or data_dir)"));
  if (auto err = d->launch(opts))
    return fail(err);
  // Start-up decoded the snapshot and copied the state to the actors that follow the
  // journal; give the freed copies back to the system instead of keeping them resident,
  // and the journal pages that start-up read (snapshot, tail check, index scans).
  ::malloc_trim(0);
  if (d->store)
    d->store->release_resident();
  return std::unique_ptr<engine>{new engine(std::move(d))};
}

caf::error engine::impl::lock_data_dir() {
  std::error_code ec_fs;
  std::filesystem::create_directories(cfg.data_dir, ec_fs);
  auto path = cfg.data_dir + "/bulwark.lock";
  lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0)
    return refuse(ec::unavailable, path + ": " + std::strerror(errno));
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    auto n = ::pread(lock_fd, buf, sizeof buf - 1, 0);
    ::close(lock_fd);
    lock_fd = -1;
    return refuse(ec::unavailable, cfg.data_dir + ": another Bulwark process (pid "
                                     + std::string{buf, static_cast<size_t>(std::max<ssize_t>(n, 0))}
                                     + ") is using this journal");
  }
  auto pid = std::to_string(::getpid());
  if (::ftruncate(lock_fd, 0) != 0 || ::pwrite(lock_fd, pid.data(), pid.size(), 0) < 0)
    spdlog::warn("engine: cannot write the pid into {}", path);
  return {};
}

caf::error engine::impl::launch(const engine_options& opts) {
  if (auto err = lock_data_dir())
    return err;
  if (cfg.cluster)
    if (auto err = load_cluster_keys())
      return err;
  cfg.store.dir = cfg.data_dir;
  cfg.store.create = true;
  auto opened = journal_store::open(cfg.store);
  if (!opened)
    return opened.error();
  store = std::move(*opened);
  sys_cfg = std::make_unique<caf::actor_system_config>();
  register_types(*sys_cfg);
  if (opts.virtual_clock)
    sys_cfg->set("scheduler.policy", caf::atom("testing"));
  else
    tune_scheduler(*sys_cfg);
  if (opts.network || cfg.cluster)
    sys_cfg->load<caf::io::middleman>();
  if (cfg.cluster && cfg.cluster->cfg.tls)
    load_cluster_tls(*sys_cfg); // after the middleman, which caf_openssl runs on
  sys = std::make_unique<caf::actor_system>(*sys_cfg);
  sink = std::make_shared<submission_sink>(*sys);
  if (opts.virtual_clock) {
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    start = sched->clock().now();
    epoch = caf::timestamp{std::chrono::milliseconds{opts.epoch_ms.value_or(default_epoch_ms)}};
  } else {
    epoch = caf::make_timestamp();
  }
  cfg.journal.mailbox = mailboxes.journal;
  cfg.journal.memory = std::make_shared<journal_memory>();
  cfg.journal.acks = std::make_shared<held_acks>(cfg.journal.meter);
  cfg.journal.tail = std::make_shared<replica_tail>();
  cfg.journal.view = std::make_shared<committed_view>(); // every restarted journal's too
  virtual_clock = opts.virtual_clock;
  auto j = spawn_journal(*sys, store, cfg.journal, opts.virtual_clock);
  if (!j)
    return j.error();
  journal = caf::actor_cast<journal_actor>(
    behind_door("journal", refuse(ec::audit_unavailable, "the journal is restarting"),
                caf::actor_cast<caf::actor>(*j), journal_restart()));
  auto st = call<fleet_state>(journal, atom::state_v);
  if (!st)
    return st.error();
  restarts = std::make_shared<restart_tracker>();
  // One-shot workers run under their own supervisor (adopted by the root).
  workers = sys->spawn(supervisor, std::string{"workers"}, supervisor_limits{},
                       std::vector<child_spec>{}, restart_report(), workers_queue);
  auto chaos_cfg = cfg.chaos;
  chaos_cfg.enabled = chaos_cfg.enabled || opts.chaos;
  chaos = std::make_shared<chaos_hooks>(chaos_cfg);
  conditions = std::make_shared<node_conditions>(); // the authority's rates follow it
  prepare_policy();
  // The policy is journaled before anything runs under it (only where this node writes).
  bool leads = !cfg.cluster || is_leader(cfg.cluster->cfg);
  if (auto err = journal_policy_at_start(*st, leads))
    return err;
  if (st->policy_version != policy_version && leads) {
    st = call<fleet_state>(journal, atom::state_v);
    if (!st)
      return st.error();
  }
  // Blast radius's window is shared by its actor and the authority's governance step.
  blast_windows = std::make_shared<blast_window>(cfg.blast);
  start_governance();
  // A restarted actor's clock starts at the engine's time of its start, not at launch.
  auto clock = [this] { return now(); };
  auto windows = blast_windows;
  blast = caf::actor_cast<blast_radius_actor>(behind_door(
    "blast_radius", refuse(ec::unavailable, "blast radius is restarting"),
    caf::actor_cast<caf::actor>(sys->spawn(blast_radius, windows, epoch)),
    [windows, clock](caf::local_actor* sup) {
      return caf::actor_cast<caf::actor>(sup->home_system().spawn(blast_radius, windows,
                                                                  clock()));
    }));
  effectors = std::make_shared<effector_registry>();
  breakers = std::make_shared<breaker_directory>();
  pipeline_deps deps{journal, authority, blast, breakers, conditions, {}, detector,
                     store, {}, blast_windows, cfg.journal.view};
  deps.journal_behind = behind_doors.at("journal"); // a flight's appends skip the door
  auto settings = pipeline_settings_of(cfg, policy_version);
  // It rebuilds the flights a restart interrupted only where this node writes the journal:
  // at launch by the configured role (the cluster, started next, sets the journal's),
  // later by the journal's role then.
  auto first = deps;
  first.writes = [leads] { return leads; };
  deps.writes = [memory = cfg.journal.memory] {
    std::lock_guard<std::mutex> guard{memory->mtx};
    return memory->writable;
  };
  // One actor per family of levels, each restarted on its own by the flights supervisor
  // (reading the journal's committed projection as every start does), all behind one
  // door that routes to them: the pipeline's handle.
  auto registry = std::make_shared<flight_registry>();
  std::vector<routed_child> families;
  for (size_t i = 0; i < flight_families; ++i) {
    auto family = static_cast<flight_family>(i);
    auto launch = first;
    auto later = deps;
    for (auto* d : {&launch, &later}) {
      d->family = family;
      d->registry = registry;
      d->mailbox = mailboxes.flights[i];
    }
    families.push_back(routed_child{
      actor_name(family),
      caf::actor_cast<caf::actor>(sys->spawn(bulwark::pipeline, settings, launch, epoch)),
      [settings, later, clock](caf::local_actor* sup) -> caf::actor {
        return caf::actor_cast<caf::actor>(
          sup->home_system().spawn(bulwark::pipeline, settings, later, clock()));
      }});
  }
  auto view = cfg.journal.view;
  std::vector<child_spec> flight_children;
  pipeline = caf::actor_cast<pipeline_actor>(behind_router(
    // Admission going down hands its running proposals back here: one the pipeline had
    // taken may be journaled, so the refusal says so (a repeat of its key tells).
    "pipeline", refuse(ec::unavailable, "the pipeline is restarting; a proposal it had taken "
                                        "may have run: repeat its idempotency key to learn "
                                        "its outcome", {},
                       caf::timespan{std::chrono::seconds{1}}),
    std::move(families),
    [registry, view](const caf::message& msg) { return route_flight(msg, *registry, *view); },
    gather_pending, flight_children));
  restarts->limit("flights", supervisor_limits{});
  flights_sup = sys->spawn(supervisor, std::string{"flights"}, supervisor_limits{},
                           std::move(flight_children), restart_report(),
                           std::shared_ptr<child_queue>{});
  // The cluster starts first: when it cannot, start_cluster stops what already runs.
  if (cfg.cluster)
    if (auto err = start_cluster())
      return err;
  if (auto err = start_attempts())
    return err;
  start_watch();
  start_incidents();
  start_admission(st->quarantined);
  start_root();
  bind_commands();
  bind_chaos();
  pump();
  for (auto& id : in_doubt_now())
    spdlog::warn("engine: proposal {} has actions without a journaled outcome (in doubt); "
                 "reconcile before retrying it",
                 to_hex(id));
  return {};
}

void engine::impl::start_governance() {
  authority = std::make_shared<handle_slot<authority_actor>>();
  auto settings = authority_settings_of(cfg);
  auto j = journal;
  auto slot = authority;
  auto ep = epoch;
  auto window = blast_windows;
  std::vector<child_spec> specs;
  specs.push_back(child_spec{"authority", restart_kind::permanent,
                             [settings, j, slot, ep, window](caf::local_actor* sup) {
                               auto a = sup->home_system().spawn(bulwark::authority, settings,
                                                                 j, ep, window);
                               slot->set(a);
                               return caf::actor_cast<caf::actor>(a);
                             }});
  auto report = restart_report();
  supervisor_limits limits;
  limits.strategy = restart_strategy::rest_for_one;
  restarts->limit("governance", limits);
  restarts->limit("execution", supervisor_limits{});
  governance = sys->spawn(supervisor, std::string{"governance"}, limits, std::move(specs), report,
                          std::shared_ptr<child_queue>{});
  supervisor_limits one_for_one;
  execution_queue = std::make_shared<child_queue>();
  execution = sys->spawn(supervisor, std::string{"execution"}, one_for_one,
                         std::vector<child_spec>{}, report, execution_queue);
}

void engine::impl::add_breaker(const std::string& service) {
  if (!breaker_services.insert(service).second)
    return;
  auto& limits = limits_for(cfg, service);
  // The jitter seed is derived from the service name, so runs repeat exactly.
  uint64_t seed = 1469598103934665603ull;
  for (unsigned char c : service)
    seed = (seed ^ c) * 1099511628211ull;
  breaker_runtime_args args{service, limits, seed, virtual_clock ? 0 : limits.max_in_flight,
                            effectors, breakers, now()};
  auto runtime = std::make_shared<breaker_runtime>(sys->clock(), std::move(args));
  {
    std::lock_guard<std::mutex> guard{runtimes_mtx};
    runtimes.push_back(runtime);
  }
  breaker_deps deps{runtime, journal, admins};
  auto dir = breakers;
  // The breaker runs under the execution supervisor; a restarted one takes over the
  // service's gate (state, calls in flight, timers) and gets a new entry in the directory.
  child_spec spec{"breaker:" + service, restart_kind::permanent,
                  [deps, dir, service](caf::local_actor* sup) {
                    auto& sys = sup->home_system();
                    auto b = sys.spawn(breaker, deps);
                    dir->put(service, make_breaker_entry(sys, deps.runtime, b));
                    return caf::actor_cast<caf::actor>(b);
                  }};
  execution_queue->push(std::move(spec));
  caf::anon_send(execution, atom::enroll_v);
  pump();
}

std::vector<digest> engine::impl::in_doubt_now() {
  auto r = call<std::vector<digest>>(pipeline, atom::in_doubt_v);
  return r ? *r : std::vector<digest>{};
}

void engine::impl::pump() {
  if (sched != nullptr)
    sched->run();
}

engine::engine(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
}

engine::~engine() {
  stop();
}

engine::impl& engine::internals() {
  return *impl_;
}

} // namespace bulwark
