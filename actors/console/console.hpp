#pragma once

/// The operator console: a CAF broker speaking newline-delimited JSON over TCP
/// (docs/console-protocol.md), with token authentication, roles, limits and an access
/// trail in the journal.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/actor_clock.hpp"
#include "caf/timespan.hpp"
#include "caf/fwd.hpp"
#include "caf/io/connection_handle.hpp"
#include "caf/response_promise.hpp"

#include "around_caf/committed_view.hpp"
#include "actors/admission/admission.hpp"
#include "actors/authority/authority_policy.hpp"
#include "actors/circuit_breaker/effectors.hpp"
#include "actors/console/console_protocol.hpp"
#include "actors/console/history_pool.hpp"
#include "actors/console/metrics_ops.hpp"
#include "actors/console/tls_session.hpp"
#include "actors/console/token_book.hpp"
#include "actors/health/health_board.hpp"
#include "messages/cluster_gauges.hpp"
#include "around_caf/write_window.hpp"
#include "messages/incidents.hpp"
#include "messages/interfaces.hpp"
#include "messages/notifications.hpp"
#include "supervision/chaos.hpp"
#include "supervision/supervisor.hpp"
#include "persistence/append_meter.hpp"
#include "persistence/journal_store.hpp"

namespace bulwark {

class attempt_store;

/// Settings of the console (`[console]` in bulwark.toml).
struct console_settings {
  std::string host = "127.0.0.1";
  uint16_t port = 7401;
  std::vector<console_token> tokens;
  size_t max_connections = 256;
  size_t max_line = 64 * 1024;                          ///< longer lines close the connection
  caf::timespan idle_timeout = std::chrono::minutes{5};
  double rate_per_second = 500.0;                       ///< requests per connection
  double burst = 1000.0;
  std::string node_id = "node-1";
  std::string tls_cert; ///< PEM certificate chain; with tls_key, the listener speaks TLS
  std::string tls_key;  ///< PEM private key of tls_cert
  unsigned history_threads = 2; ///< history readers (`log` queries run on them)
  size_t history_queue = 16;    ///< queries waiting for a reader; more are OVERLOADED
  caf::timespan history_timeout = std::chrono::seconds{30}; ///< one query's time, queue included
  std::string policy_version; ///< SHA-256 (hex) of the loaded governance policy; "" none
};

/// The actors and stores the console talks to.
struct console_deps {
  journal_actor journal;
  std::shared_ptr<handle_slot<authority_actor>> authority; ///< changes on restart
  pipeline_actor pipeline;
  std::shared_ptr<breaker_directory> breakers;
  std::shared_ptr<journal_store> store; ///< for reads off the writer's mailbox
  std::map<std::string, authority_level> configured_grants;
  std::shared_ptr<const append_meter> appends; ///< the journal's append meter (metrics)
  rollback_actor rollbacks;         ///< incidents' and operators' rollbacks
  /// Manual promotion of deferred candidates; the handle changes on a restart.
  std::shared_ptr<handle_slot<orchestrator_actor>> orchestrator;
  std::shared_ptr<health_board> health; ///< failure modes and warnings (none: not reported)
  std::shared_ptr<chaos_hooks> chaos;   ///< `chaos` command (refused unless configured)
  cluster_actor cluster; ///< set on a clustered node: status, promote, proposal routing
  std::shared_ptr<const cluster_gauges> cluster_figures; ///< its figures for the metrics
  /// The bounded way into the pipeline (none: straight to it); changes on a restart.
  std::shared_ptr<handle_slot<admission_actor>> admission;
  /// Feeds one sample to the incident detector as the engine's `feed_metric` does (true:
  /// accepted); blocking, so `report` calls it off the broker's thread (none: refused).
  std::function<bool(const metric_in&)> feed_metric;
  /// The webhook notifier's figures for `status` and the metrics (none: not configured).
  std::function<notify_figures()> notifications;
  /// What the node's signal source last saw, as JSON (`status` shows it as "signals";
  /// none: the node has no source).
  std::function<nlohmann::json()> signals;
  /// How far before an incident's onset its postmortem lists changes (`[incident] lookback_ms`).
  caf::timespan report_lookback = std::chrono::minutes{10};
  /// The tokens sign-ins check, shared with the node that reloads them on SIGHUP (none:
  /// `console_settings::tokens`, fixed). A connection signed in before a reload keeps its
  /// principal and role until it closes; every HTTP request is checked anew.
  std::shared_ptr<token_book> tokens{};
  /// Admission's refusals and shedding for the metrics (none: not reported).
  std::function<load_figures()> load{};
  /// How long a proposal waits for an approval: the metrics measure a waiting one's age.
  caf::timespan approval_timeout = std::chrono::minutes{5};
  /// The orchestration attempts `attempts` lists (none: the command is refused).
  std::shared_ptr<const attempt_store> attempts{};
  /// Reads the actions in doubt back through their probes and settles what agrees, as the
  /// engine's `reconcile` does, by the given principal within the given per-probe timeout;
  /// its answer as JSON: `ok`, then `proposals` or `code` and `message`. Blocking, so
  /// `reconcile` calls it off the broker's thread (none: refused).
  std::function<nlohmann::json(const std::string&, std::chrono::milliseconds)> reconcile{};
  /// Reloads the governance policy as the engine's `reload_policy` does, by the given
  /// admin; its answer as JSON (`ok`, then `changed`, `version`, `previous`, `changes`, or
  /// `code` and `message`). Blocking, so `reload` calls it off the broker's thread (none:
  /// refused).
  std::function<nlohmann::json(const std::string&)> reload{};
  /// The journal's committed projection (journal_settings::view): the metrics render from
  /// it in place (none: they ask the journal for a copy of the state).
  std::shared_ptr<const committed_view> view{};
  /// The version of the policy in force, for `status` (none: `settings.policy_version`).
  std::function<std::string()> policy_version{};
  /// A clustered node's write window (write_window.hpp): while open, proposals go straight
  /// to `admission` as a lone node's do; closed (or none), they ask `cluster`.
  std::shared_ptr<const write_window> local_writes{};
};

/// One client connection.
struct console_conn {
  std::string buffer;       ///< bytes of an unfinished line
  std::string remote;
  principal_id principal;   ///< empty until `auth`
  console_role role = console_role::none;
  int failed_auths = 0;
  token_bucket bucket;
  caf::actor_clock::time_point last_seen;
  bool subscribed = false;
  std::shared_ptr<tls_session> tls; ///< set on a TLS listener
  /// Set on an HTTP request's connection: the answer goes here, not to a socket.
  caf::response_promise reply;
  bool http = false;
  history_tickets queries; ///< its `log` queries, cancelled when it goes away
};

/// A console connection's `propose` whose outcome has not arrived.
struct console_waiting_propose {
  caf::io::connection_handle hdl;
  nlohmann::json id;       ///< the request's id, echoed in the answer and the notice
  std::string principal;   ///< with `key`, finds the proposal's decision in the journal
  std::string key;
  bool answered = false;   ///< answered "waiting for approval"; the outcome is a notice
  std::string proposal;    ///< its digest, once answered
};

/// An HTTP API client address: the request rate all its connections share.
struct console_http_client {
  token_bucket bucket;
  caf::actor_clock::time_point last_seen;
};

/// State of the console broker.
struct console_state {
  console_settings settings;
  console_deps deps;
  std::map<caf::io::connection_handle, console_conn> conns;
  std::shared_ptr<tls_context> tls; ///< set when the listener speaks TLS
  bool journal_subscribed = false;
  /// Proposals submitted from console connections, by a number of their own.
  std::map<uint64_t, console_waiting_propose> proposes;
  uint64_t propose_tokens = 0;
  /// A `verify` is running on the node's one verify worker; others are `OVERLOADED`.
  bool verify_running = false;
  uint64_t requests = 0;
  std::map<std::string, console_http_client> http_clients; ///< by address
  int64_t http_requests = 0;                                ///< names HTTP connections
  size_t http_in_flight = 0;                                ///< of `conns`
  /// The promises of HTTP requests not answered yet (by connection id), shared with the
  /// broker's end: a killed console answers them UNAVAILABLE, so the HTTP API does not
  /// wait for its timeout.
  std::shared_ptr<std::map<int64_t, caf::response_promise>> http_open =
    std::make_shared<std::map<int64_t, caf::response_promise>>();
  /// `report` batches being fed (each on a thread of its own; at most 4 at once).
  std::shared_ptr<std::atomic<uint32_t>> reports = std::make_shared<std::atomic<uint32_t>>(0);
  std::shared_ptr<history_pool> history; ///< the readers of `log` queries
  caf::timestamp epoch;
  caf::actor_clock::time_point start;
  static inline const char* name = "console";
};

/// Spawns the console listening on settings.host:settings.port in `sys` (which must have
/// the io middleman loaded); returns the bound port (the configured one, or the one the
/// OS chose for port 0). With `tls_cert` and `tls_key` set the listener speaks only TLS;
/// a certificate or key that does not load is refused before anything listens.
caf::expected<uint16_t> start_console(caf::actor_system& sys, console_settings settings,
                                      console_deps deps, caf::actor& handle);

/// Spawns the console broker without waiting for it (a restart: `settings.port` is the port
/// the first one bound). A broker that cannot bind quits with the reason; a certificate or
/// key that does not load returns none and sets `failed`.
caf::actor spawn_console(caf::actor_system& sys, console_settings settings, console_deps deps,
                         caf::error* failed = nullptr);

} // namespace bulwark
