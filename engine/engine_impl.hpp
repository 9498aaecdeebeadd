#pragma once

/// Internal to engine/: what a running engine holds, and blocking calls into actors.

#include <atomic>
#include <chrono>
#include <unistd.h>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/admission/admission.hpp"
#include "actors/health/health_board.hpp"
#include "bulwark/engine.hpp"
#include "engine/node_config.hpp"
#include "messages/cluster_gauges.hpp"
#include "around_caf/write_window.hpp"
#include "messages/interfaces.hpp"
#include "around_caf/committed_view.hpp"
#include "supervision/chaos.hpp"
#include "around_caf/door.hpp"
#include "supervision/halt_guard.hpp"
#include "supervision/live_settings.hpp"
#include "supervision/mailbox_gauge.hpp"
#include "supervision/supervisor.hpp"

namespace bulwark {

struct shed_board;
struct escalation_hooks;
class attempt_store;
struct blast_window; // actors/blast_radius/blast_radius.hpp
struct rollback_settings; // actors/rollback/rollback.hpp

/// Restarts across the supervision tree, for the VAL-4 indicators (thread-safe).
class restart_tracker {
public:
  /// Declares a supervisor's intensity limit.
  void limit(const std::string& supervisor, const supervisor_limits& limits);
  /// Records one restart (or escalation) at `at`.
  void record(const std::string& supervisor, caf::timestamp at);
  /// Restarts recorded so far.
  uint64_t total() const;
  /// The highest supervisor's restarts within its window at `at`, in % of its limit.
  double intensity_pct(caf::timestamp at) const;

private:
  mutable std::mutex mtx_;
  uint64_t total_ = 0;
  std::map<std::string, supervisor_limits> limits_;
  std::map<std::string, std::vector<caf::timestamp>> times_;
};
class ed25519_key;
class breaker_runtime;
class submission_sink; // around_caf/submission_sink.hpp
struct command_targets;
struct cluster_memory; // actors/cluster/cluster.hpp

struct engine::impl {
  node_config cfg;
  engine_options options; ///< what the engine was started with (a policy reload reapplies it)
  // -- the governance policy (engine_policy_in_force.cpp) --
  std::shared_ptr<admin_list> admins = std::make_shared<admin_list>();
  mutable std::mutex policy_mtx;           ///< one reload at a time; guards the two below
  std::vector<policy_entry> policy;        ///< the policy in force, by key
  std::string policy_version;              ///< its version
  std::shared_ptr<live_settings<authority_settings>> authority_live;
  std::shared_ptr<live_settings<pipeline_settings>> pipeline_live;
  std::shared_ptr<live_settings<rollback_settings>> rollback_live;
  std::shared_ptr<live_settings<incident_settings>> incident_live;

  /// Derives the policy from `cfg` and makes the actors' live settings (before any
  /// actor starts).
  void prepare_policy();
  /// Journals `policy_changed` when the policy differs from the journal's last (`st`),
  /// before anything runs under it; only where this node writes the journal.
  caf::error journal_policy_at_start(const fleet_state& st, bool writes);
  /// The same when this node is promoted (a cluster's leader elected later, or by hand):
  /// a worker reads the journal's policy and journals this node's when it differs.
  void journal_policy_on_promotion();
  /// Each actor's settings as `c` gives them (with their live cell where it has one).
  authority_settings authority_settings_of(const node_config& c) const;
  pipeline_settings pipeline_settings_of(const node_config& c, const std::string& version) const;
  rollback_settings rollback_settings_of(const node_config& c) const;
  incident_settings incident_settings_of(const node_config& c) const;
  /// Who may approve or deny now (a copy: a reload may replace it).
  approval_policy approvals() const;
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr; ///< set with the virtual clock
  caf::actor_clock::time_point start;
  caf::timestamp epoch;
  std::shared_ptr<journal_store> store;
  /// The journal, blast radius, pipeline and rollback executor are reached through their
  /// doors (around_caf/door.hpp): these handles stay the same across restarts.
  journal_actor journal;
  std::shared_ptr<handle_slot<authority_actor>> authority; ///< under the governance supervisor
  caf::actor governance;
  blast_radius_actor blast;
  pipeline_actor pipeline;
  rollback_actor rollbacks;
  /// Under the watch supervisor: the handles change when they are restarted.
  std::shared_ptr<handle_slot<orchestrator_actor>> orchestrator =
    std::make_shared<handle_slot<orchestrator_actor>>();
  std::shared_ptr<handle_slot<detector_actor>> detector =
    std::make_shared<handle_slot<detector_actor>>();
  /// The hosts' respond_by escalation hooks (`on_escalation`), called by the orchestrator.
  std::shared_ptr<escalation_hooks> escalations;
  std::shared_ptr<effector_registry> effectors;
  std::mutex probes_mtx;                   ///< guards `probes`
  std::map<std::string, std::shared_ptr<const prober>> probes; ///< by service
  std::shared_ptr<breaker_directory> breakers;
  caf::actor execution; ///< supervises one breaker per service (one_for_one)
  caf::actor flights_sup; ///< supervises the flight families' actors (one_for_one)
  std::shared_ptr<child_queue> execution_queue;
  std::set<std::string> breaker_services;
  std::vector<std::shared_ptr<breaker_runtime>> runtimes; ///< one per service: gate and pool
  std::mutex runtimes_mtx; ///< guards `runtimes` (the health actor reads their queues)
  bool virtual_clock = false;
  // -- watch supervisor and health --
  caf::actor watch; ///< one_for_one: health (first), then detector and orchestrator
  std::shared_ptr<child_queue> watch_queue;
  std::shared_ptr<health_board> health_view;
  using health_slot_type = handle_slot<health_actor>;
  std::shared_ptr<health_slot_type> health;
  std::shared_ptr<restart_tracker> restarts;
  std::shared_ptr<node_conditions> conditions; ///< set by health, checked by the halt guard
  std::shared_ptr<chaos_hooks> chaos;          ///< fault injection (off by default)
  /// The bounded way into the pipeline, under the intake supervisor (changes on restart).
  std::shared_ptr<handle_slot<admission_actor>> admission =
    std::make_shared<handle_slot<admission_actor>>();
  std::shared_ptr<admission_gate> gate; ///< callers' places in admission (load shedding)
  /// Receives the answers to submissions (no actor per submission); set at launch.
  std::shared_ptr<submission_sink> sink;
  caf::actor intake;                    ///< one_for_one: the admission actor
  mailbox_gauges mailboxes;             ///< depths the BACKLOG indicators read
  std::mutex metrics_lock;                     ///< guards the counter and the map below
  uint64_t metrics_shed = 0;                   ///< telemetry shed under load
  std::map<std::string, double> host_indicators; ///< set by the host (`set_indicator`)
  /// Which metric samples are shed under load (fair per series; protected series never),
  /// told by the detector which series detection needs.
  std::shared_ptr<shed_board> shedding;
  /// Every orchestration attempt (`<data>/attempts.mdb`, its own LMDB environment).
  std::shared_ptr<attempt_store> attempts;
  /// Prunes `attempts` by the retention, on a timer; under the root (changes on restart).
  std::shared_ptr<handle_slot<caf::actor>> attempt_keeper =
    std::make_shared<handle_slot<caf::actor>>();

  /// Spawns the intake supervisor with the admission actor in front of the pipeline; the
  /// journaled quarantine (`fleet_state::quarantined`) stays in force.
  void start_admission(const std::map<std::string, uint64_t>& quarantined);

  // -- the root of the supervision tree (engine_root.cpp) --
  caf::actor root; ///< one_for_one over the actors behind doors and the other supervisors
  std::vector<child_spec> root_children; ///< gathered by launch, started by start_root
  /// The actor behind each door, by name (`journal`, `blast_radius`, `pipeline`,
  /// `rollback`): what `chaos kill` reaches; changes on restart.
  std::map<std::string, std::shared_ptr<handle_slot<caf::actor>>> behind_doors;
  /// Every door, by the name of the room behind it.
  std::vector<std::pair<std::string, caf::actor>> doors;
  /// The doors' supervisor, under the root: it watches the doors and restarts none (a new
  /// door would be a new handle, and every holder keeps the old one): a door's end is
  /// journaled as an escalation (`actor_restarted`, supervisor "doors"), and the room
  /// behind it answers nobody from then on (fail closed). Started by `start_root`; a door
  /// made later (a node's console) is enrolled.
  caf::actor doors_sup;
  std::shared_ptr<child_queue> doors_queue = std::make_shared<child_queue>();

  /// Adds door `d` of room `name` to `doors` and, once it runs, to their supervisor.
  void watch_door(const std::string& name, caf::actor d);
  std::shared_ptr<blast_window> blast_windows; ///< kept across blast radius's restarts

  /// Puts `first` (just spawned) behind a door named `name` and returns the door; its
  /// supervisor (the root, or the one `into` is given to) restarts it with `restart`. A
  /// request reaching the door while the actor is down is answered `when_down`.
  caf::actor behind_door(const std::string& name, caf::error when_down, caf::actor first,
                         std::function<caf::actor(caf::local_actor*)> restart,
                         std::vector<child_spec>* into = nullptr);

  /// One actor of several behind one router door (`behind_router`).
  struct routed_child {
    std::string name;  ///< its name in the tree, for chaos and restart reports
    caf::actor first;  ///< the actor launch spawned
    std::function<caf::actor(caf::local_actor*)> restart;
  };

  /// Puts `children` behind one door that sends each message to the child `route` names
  /// (`router_door`, with the door's `own` handlers); adds a child spec per actor to
  /// `into` (their supervisor's), each restarted on its own.
  caf::actor behind_router(const std::string& name, caf::error when_down,
                           std::vector<routed_child> children, door_route route,
                           std::function<caf::message_handler(door_ptr)> own,
                           std::vector<child_spec>& into);

  /// Spawns the root supervisor over every child gathered by launch.
  void start_root();

  /// Adds a child to the running root: a supervisor started after launch (a node's
  /// `front`, temporary like the engine's own) or a host's subscriber (permanent).
  void enroll_in_root(child_spec spec);
  std::shared_ptr<child_queue> root_queue = std::make_shared<child_queue>();

  /// The supervisor of one-shot workers (the clustered submissions' forwarders, the
  /// journaling of restarts), under the root; and how workers reach it.
  caf::actor workers;
  std::shared_ptr<child_queue> workers_queue = std::make_shared<child_queue>();

  /// Runs a one-shot worker under `workers`; when that supervisor is not running (the
  /// engine stopped), `w.on_failure` answers at once (fail closed).
  void spawn_worker(worker_spec w);

  /// Stops the actors behind doors and the doors (the root is stopped, or not started).
  void stop_behind_doors();

  /// Restarts the journal: checks the store's tail, rebuilds the projection from the
  /// store and spawns a journal over it (none when the tail does not verify).
  std::function<caf::actor(caf::local_actor*)> journal_restart();

  /// Connects the chaos hooks to the actors they may kill and the journal they may fail.
  void bind_chaos();
  /// The hosts' subscribers (`subscriber:<n>`, under the root; change on restart).
  std::vector<std::shared_ptr<handle_slot<caf::actor>>> subscribers;
  std::atomic<bool> stopped{false}; ///< read by actors' threads (spawn_worker)
  int lock_fd = -1; ///< flock on <data>/bulwark.lock: one process per journal
  cluster_actor cluster;     ///< set when [cluster] is configured (its door)
  uint16_t cluster_port = 0; ///< where it listens
  std::shared_ptr<const ed25519_key> cluster_key;               ///< signs our heads
  std::map<std::string, std::vector<uint8_t>> cluster_peer_keys; ///< peers' public keys
  std::shared_ptr<cluster_gauges> cluster_figures; ///< for the metrics endpoint
  /// While open, submissions go straight to this node's admission as a lone node's do;
  /// closed, they ask the cluster actor (it routes them to the leader or refuses).
  std::shared_ptr<write_window> local_writes;
  command_actor commands; ///< runs operator commands the cluster actor routes here (door)
  caf::actor cluster_sup; ///< one_for_one over the cluster actor and the command actor
  std::shared_ptr<cluster_memory> cluster_role; ///< term, leader: kept across restarts
  std::shared_ptr<command_targets> command_slots; ///< the actors those commands run on

  /// Gives the command actor the actors started after the cluster (engine_cluster.cpp).
  void bind_commands();

  /// Loads the node's cluster keys; runs before any actor exists (engine_cluster.cpp).
  caf::error load_cluster_keys();

  /// Loads caf_openssl's manager with the node's certificate, key and CA (engine_cluster.cpp).
  void load_cluster_tls(caf::actor_system_config& sys_cfg);

  /// Starts the cluster actor; on failure stops the actors launched so far.
  caf::error start_cluster();

  caf::error lock_data_dir();

  ~impl() {
    if (lock_fd >= 0)
      ::close(lock_fd);
  }

  caf::error launch(const engine_options& opts);

  /// Spawns the governance supervisor with the authority under it.
  void start_governance();

  /// Spawns the rollback executor, then the orchestrator and the detector under the watch
  /// supervisor (engine_incidents.cpp); returns once both run.
  void start_incidents();

  /// Opens the attempts store and spawns its keeper (engine_attempts.cpp).
  caf::error start_attempts();
  /// Returns the callback supervisors report restarts to: journaled and counted (VAL-4).
  std::function<void(actor_restarted)> restart_report();

  /// Spawns the watch supervisor (one_for_one) with the health actor as its first child.
  void start_watch();

  /// Adds one child to the watch supervisor (e.g. the detector): one call per child.
  void add_watch_child(child_spec spec);

  /// Samples the indicators the engine owns (JOURNAL-SPACE, VAL-4, PV counters).
  std::vector<reading> sample_health(caf::timestamp at);

  /// Spawns the breaker (with its own effector threads) of a new service.
  void add_breaker(const std::string& service);
  std::vector<digest> in_doubt_now();

  /// Runs ready actors (virtual clock); no-op otherwise.
  void pump();

  caf::timestamp now() const;

  static result to_result(const caf::error& err);
  /// An `INVALID_INPUT` result saying `what`.
  static result invalid_input(const std::string& what);
  static result to_result(const outcome& o);

  /// Sends a request and waits for its single-value reply.
  /// Reads the journal's committed projection (after running what is due, under the
  /// virtual clock): none once the engine stopped.
  std::optional<committed_view::reader> committed() {
    if (!journal || !cfg.journal.view)
      return std::nullopt;
    if (sched != nullptr)
      sched->run();
    return cfg.journal.view->read();
  }

  template <class T, class Handle, class... Ts>
  caf::expected<T> call(const Handle& h, Ts&&... xs) {
    if (!h)
      return refuse(ec::unavailable, "the actor for this call is not running");
    caf::scoped_actor self{*sys, true};
    caf::expected<T> out{refuse(ec::timeout, "no reply")};
    if (sched != nullptr) {
      // A plain send: its reply arrives as an ordinary message that `receive` matches
      // (a blocking actor only sees a request's response through its handle). A plain
      // message to an actor that ended is dropped, not bounced: the monitor's down
      // message answers for it.
      self->monitor(h);
      self->send(h, std::forward<Ts>(xs)...);
      sched->run();
      self->receive([&](T& x) { out = std::move(x); }, [&](caf::error& e) { out = std::move(e); },
                    [&](caf::down_msg&) {
                      out = refuse(ec::unavailable, "the actor for this call is not running");
                    },
                    caf::after(std::chrono::seconds{0}) >> [] {});
      self->demonitor(caf::actor_cast<caf::actor_addr>(h));
      return out;
    }
    self->request(h, std::chrono::seconds{30}, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); }, [&](caf::error& e) { out = std::move(e); });
    return out;
  }
};

/// The wall-clock time point of a journal timestamp, as the embedding API shows it.
inline std::chrono::system_clock::time_point wall_clock(caf::timestamp t) {
  return std::chrono::system_clock::time_point{
    std::chrono::duration_cast<std::chrono::system_clock::duration>(t.time_since_epoch())};
}

/// Applies the options' overrides (admins, grants, timeouts, ...) to the configuration.
void apply_options(node_config& cfg, const engine_options& opts);

/// Approves or denies a rollback awaiting approval (engine_incidents.cpp).
result approve_rollback(engine::impl& d, const std::string& approver, const digest& id, bool yes);

} // namespace bulwark
