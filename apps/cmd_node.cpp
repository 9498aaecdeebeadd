// `bulwark node`: a long-running node with the engine, its journal and the operator
// console, until SIGINT or SIGTERM; SIGHUP re-reads the console tokens and the governance
// policy.

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "caf/actor.hpp"
#include "caf/send.hpp"

#include "actors/console/console.hpp"
#include "actors/http/http_api.hpp"
#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "apps/demo_world.hpp"
#include "apps/fleet_registrar.hpp"
#include "apps/node_front.hpp"
#include "apps/node_hooks.hpp"
#include "apps/node_signals.hpp"
#include "apps/listen_check.hpp"
#include "bulwark/engine.hpp"
#include "effectors/configured_effectors.hpp"
#include "engine/engine_impl.hpp"
#include "engine/node_config.hpp"
#include "notify/notifier.hpp"

namespace bulwark::cli {

namespace {

/// Threads of the metrics listener (`metrics.listen`): at most this many, or `http.pool`
/// when that is smaller (docs/configuration.md, `[metrics]`).
constexpr size_t metrics_threads = 16;

struct node_args {
  std::string config;
  std::string data;
  std::string console;
  std::string fleet;
  std::string metrics;
  std::string http;
  bool simulate = false;
};

/// The simulated world of `--simulate`: every fleet service's effector applies changes to
/// an in-memory world, and each second every (service, region) reports its error rate to
/// the detector. Resources running the firmware the demo calls bad ("2.0.0-rc1") fail a
/// share of their requests, so a change to it opens an incident, as in `bulwark demo`.
class simulation {
public:
  ~simulation() {
    stop();
  }

  void serve(engine& eng, const std::vector<registration>& fleet) {
    std::set<std::string> services;
    for (auto& r : fleet) {
      services.insert(r.service);
      series_.insert({r.service, r.region});
      world_.place(r.resource.value, r.service, r.region);
    }
    world_.poison("firmware", "2.0.0-rc1");
    for (auto& s : services)
      eng.register_effector(s, [this](const effect_request& r) {
        std::lock_guard<std::mutex> guard{mtx_};
        return world_.apply(r);
      });
    reporter_ = std::thread{[this, &eng] { report(eng); }};
  }

  void stop() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stopping_ = true;
    }
    wake_.notify_all();
    if (reporter_.joinable())
      reporter_.join();
  }

private:
  void report(engine& eng) {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!wake_.wait_for(lock, std::chrono::seconds{1}, [this] { return stopping_; })) {
      std::vector<metric_sample> samples;
      for (auto& [service, region] : series_)
        samples.push_back({service, region, world_.error_rate(service, region), 20.0, eng.now()});
      lock.unlock();
      for (auto& m : samples)
        eng.feed_metric(m);
      lock.lock();
    }
  }

  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  demo_world world_{1};
  std::set<std::pair<std::string, std::string>> series_;
  std::thread reporter_;
};

/// Registers the fleet file's resources that the journal does not know yet. On a cluster
/// node whose leader does not take them (UNAVAILABLE: unreachable, or a leader short of
/// its sync followers), the rest waits in `later`, which registers it once the leader
/// takes them; the node starts meanwhile.
int register_fleet(engine& eng, const std::string& path, bool simulate, simulation& sim,
                   bool clustered, fleet_registrar& later) {
  auto fleet = load_fleet(path);
  if (!fleet)
    return fail(fleet.error());
  for (size_t i = 0; i < fleet->size(); ++i) {
    auto answer = register_one(eng, (*fleet)[i]);
    if (answer == "ok")
      continue;
    if (answer == "wait" && clustered) {
      std::vector<registration> rest(fleet->begin() + static_cast<std::ptrdiff_t>(i),
                                     fleet->end());
      spdlog::warn("node: the leader does not take writes yet (unreachable, or short of "
                   "followers in step): {} of the {} resources of {} are "
                   "registered once it does (tried every second)",
                   rest.size(), fleet->size(), path);
      later.start(eng, std::move(rest), path);
      break;
    }
    std::fprintf(stderr, "bulwark: %s\n",
                 answer == "wait" ? "UNAVAILABLE: the engine did not register the fleet"
                                  : answer.c_str());
    return exit_runtime;
  }
  if (simulate)
    sim.serve(eng, *fleet);
  return exit_ok;
}

/// Checks the configuration before anything is opened or created: its keys, the listen
/// addresses (a port in use names the option to change), and that someone can sign in.
int preflight(const node_args& args, std::string& metrics_at) {
  auto cfg = load_config(args.config);
  if (!cfg) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: %s\n", describe(cfg.error()).message.c_str());
    return exit_usage;
  }
  auto console = cfg->console;
  if (!args.console.empty() && !parse_listen(args.console, console)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --console must be HOST:PORT\n");
    return exit_usage;
  }
  metrics_at = args.metrics.empty() ? cfg->metrics_listen : args.metrics;
  console_settings metrics;
  if (metrics_at != "off" && !parse_listen(metrics_at, metrics)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --metrics must be HOST:PORT or off\n");
    return exit_usage;
  }
  struct listener {
    const char* what;
    std::string host;
    uint16_t port;
    std::string option;
  };
  std::vector<listener> listeners{{"console", console.host, console.port,
                                   "console.listen in " + args.config
                                     + " or pass --console HOST:PORT"}};
  if (metrics_at != "off")
    listeners.push_back({"metrics endpoint", metrics.host, metrics.port,
                         "metrics.listen in " + args.config + " or pass --metrics HOST:PORT|off"});
  auto http_at = args.http.empty() ? cfg->http.listen : args.http;
  console_settings http;
  if (http_at != "off" && !parse_listen(http_at, http)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --http must be HOST:PORT or off\n");
    return exit_usage;
  }
  if (http_at != "off")
    listeners.push_back({"HTTP API", http.host, http.port,
                         "http.listen in " + args.config + " or pass --http HOST:PORT|off"});
  if (cfg->cluster)
    listeners.push_back({"cluster listener", cfg->cluster->cfg.listen_host,
                         cfg->cluster->cfg.listen_port, "cluster.listen in " + args.config});
  for (auto& l : listeners)
    if (auto why = cannot_listen(l.host, l.port); !why.empty()) {
      std::fprintf(stderr,
                   "bulwark: UNAVAILABLE: the %s cannot listen on %s:%u (%s): change %s; "
                   "nothing was started or written\n",
                   l.what, l.host.c_str(), static_cast<unsigned>(l.port), why.c_str(),
                   l.option.c_str());
      return exit_runtime;
    }
  if (!args.fleet.empty())
    if (auto fleet = load_fleet(args.fleet); !fleet) {
      std::fprintf(stderr, "bulwark: INVALID_INPUT: %s\n", describe(fleet.error()).message.c_str());
      return exit_usage;
    }
  if (int rc = check_signal_source(args.config, args.fleet); rc != exit_ok)
    return rc;
  if (cfg->console.tokens.empty())
    std::fprintf(stderr,
                 "bulwark: warning: %s configures no console token, so nobody can sign in to "
                 "the console: add a [[console.tokens]] table (sha256, principal, role; see "
                 "docs/operations.md, \"Tokens\")\n",
                 args.config.c_str());
  return exit_ok;
}

/// SIGHUP: re-reads the configuration file and, if it is valid as a whole, replaces the
/// console's tokens with its `[[console.tokens]]` (the policy follows: the engine's
/// `reload_policy`); the rest changes at the next start. An invalid file changes nothing
/// (the message names the key).
void reload_tokens(const std::string& config, token_book& tokens) {
  auto cfg = load_config(config);
  if (!cfg) {
    std::fprintf(stderr, "bulwark: SIGHUP: INVALID_INPUT: %s; the %zu console tokens in use "
                         "stay\n",
                 describe(cfg.error()).message.c_str(), tokens.size());
    return;
  }
  tokens.replace(cfg->console.tokens);
  std::fprintf(stderr, "bulwark: SIGHUP: %zu console tokens read from %s (the governance "
                       "policy is reloaded next; the rest applies at the next start)\n",
               cfg->console.tokens.size(), config.c_str());
}

/// SIGHUP's policy reload: what changed, or why nothing did, on stderr.
void reload_policy_on_signal(engine& eng) {
  auto r = eng.reload_policy("signal", "signal");
  if (!r.status.ok)
    std::fprintf(stderr, "bulwark: SIGHUP: %s: %s; the policy in force stays\n",
                 r.status.code.c_str(), r.status.message.c_str());
  else if (!r.changed)
    std::fprintf(stderr, "bulwark: SIGHUP: policy %s unchanged\n", r.version.c_str());
  else
    std::fprintf(stderr, "bulwark: SIGHUP: policy %s in force (was %s; %zu changes journaled)\n",
                 r.version.c_str(), r.previous.c_str(), r.changes.size());
}

int run_node(const node_args& args) {
  std::string metrics_at;
  if (int rc = preflight(args, metrics_at); rc != exit_ok)
    return rc;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr); // every thread started later inherits it
  engine_options opts;
  opts.config_file = args.config;
  opts.data_dir = args.data;
  opts.network = true;
  // Refused before anything starts: an effector that cannot run is a configuration error.
  auto effectors = load_effectors(args.config);
  if (!effectors) {
    auto e = describe(effectors.error());
    std::fprintf(stderr, "bulwark: %s: %s\n", to_string(e.code), e.message.c_str());
    return exit_usage; // as every other configuration error
  }
  auto notifications = load_notifications(args.config);
  if (!notifications) {
    auto e = describe(notifications.error());
    std::fprintf(stderr, "bulwark: %s: %s\n", to_string(e.code), e.message.c_str());
    return exit_usage;
  }
  std::string error;
  auto eng = engine::start(opts, &error);
  if (!eng) {
    std::fprintf(stderr, "bulwark: %s\n", error.c_str());
    return error.rfind("INTEGRITY_VIOLATION", 0) == 0 ? exit_integrity : exit_runtime;
  }
  simulation sim;
  fleet_registrar later; // stops before the engine
  if (!args.fleet.empty())
    if (int rc = register_fleet(*eng, args.fleet, args.simulate, sim,
                                static_cast<bool>(eng->internals().cfg.cluster), later);
        rc != exit_ok)
      return rc;
  register_effectors(*eng, *effectors); // after --simulate: a configured effector wins
  auto& d = eng->internals();
  auto settings = d.cfg.console;
  if (!args.console.empty())
    parse_listen(args.console, settings); // checked by preflight
  console_deps deps{d.journal, d.authority, d.pipeline, d.breakers, d.store,
                    d.cfg.authority.policy.grants, d.cfg.journal.meter, d.rollbacks,
                    d.orchestrator, d.health_view, d.chaos, d.cluster, d.cluster_figures,
                    d.admission, nullptr, nullptr, nullptr};
  deps.view = d.cfg.journal.view;
  deps.tokens = std::make_shared<token_book>(settings.tokens); // SIGHUP replaces them
  deps.local_writes = d.local_writes;
  auto sink = std::make_shared<metric_sink>();
  sink->eng = eng.get();
  deps.feed_metric = feed_metric(sink);
  deps.reconcile = reconcile_of(sink);
  deps.reload = reload_of(sink);
  deps.policy_version = [eng = eng.get()] { return eng->policy_version(); };
  deps.report_lookback = d.cfg.incident.rca.lookback;
  deps.attempts = d.attempts;
  deps.approval_timeout = d.cfg.pipeline.approval_timeout;
  deps.load = [eng = eng.get(), gate = d.gate] {
    load_figures f;
    auto l = eng->load();
    f.telemetry_shed = l.telemetry_shed;
    f.quarantined_principals = l.quarantined.size();
    if (gate) {
      auto c = gate->refused();
      f.shed = c.queue_full, f.rate_limited = c.principal, f.quarantine_refused = c.quarantine;
    }
    return f;
  };
  // Webhooks hear of the events committed from now on; stopped before the engine.
  std::unique_ptr<notifier> notify;
  if (!notifications->webhooks.empty()) {
    notify = notifier::start(*d.sys, d.journal, d.store->head(), std::move(*notifications),
                             settings.node_id);
    deps.notifications = notify->reader();
  }
  std::unique_ptr<prometheus_source> source; // polls off the actors' threads
  if (int rc = start_signal_source(args.config, args.fleet, *eng, deps, source); rc != exit_ok)
    return rc;
  auto http_at = args.http.empty() ? d.cfg.http.listen : args.http;
  console_settings metrics_where, http_where;
  if (metrics_at != "off" && !parse_listen(metrics_at, metrics_where)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --metrics must be HOST:PORT or off\n");
    return exit_usage;
  }
  if (http_at != "off" && !parse_listen(http_at, http_where)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --http must be HOST:PORT or off\n");
    return exit_usage;
  }
  caf::actor broker;
  auto port = start_console(*d.sys, settings, deps, broker);
  if (!port) {
    bool bind_failed = code_of(port.error()) == ec::unavailable;
    std::fprintf(stderr, "bulwark: %s%s\n", describe(port.error()).message.c_str(),
                 bind_failed ? " (change console.listen or pass --console HOST:PORT)" : "");
    if (broker)
      caf::anon_send_exit(broker, caf::exit_reason::user_shutdown);
    return exit_runtime;
  }
  // The console behind its door under the `front` supervisor (with the HTTP API's feed,
  // once it runs): a restarted console listens on the port this one bound.
  auto bound = settings;
  bound.port = *port;
  node_front front{d, std::move(broker), bound, deps};
  auto console = front.console();
  // The metrics listener and the HTTP API: cpp-httplib servers on their own threads.
  std::unique_ptr<http_api> metrics, http;
  auto listen = [&](const console_settings& where, const http_settings& cfg,
                    http_api::scope what, std::unique_ptr<http_api>& out) {
    auto started = http_api::start(*d.sys, where.host, where.port, cfg, console, deps, what);
    if (!started) {
      std::fprintf(stderr, "bulwark: %s\n", describe(started.error()).message.c_str());
      return false;
    }
    out = std::move(*started);
    return true;
  };
  auto stop_all = [&] {
    front.stop(); // nothing restarts the console or the feed from now on
    if (http)
      http->stop();
    if (metrics)
      metrics->stop();
    http.reset();
    metrics.reset();
    std::lock_guard<std::mutex> guard{sink->mtx}; // no sample reaches a stopping engine
    sink->eng = nullptr;
  };
  std::string metrics_text = "off", http_text = "off";
  auto plain = d.cfg.http; // the metrics listener is plain HTTP, as before
  plain.tls_cert.clear();
  plain.tls_key.clear();
  // Scrapers are few (each open connection holds a thread): not the API's pool.
  plain.pool = std::min<size_t>(plain.pool, metrics_threads);
  if (metrics_at != "off") {
    if (!listen(metrics_where, plain, http_api::scope::metrics_only, metrics)) {
      stop_all();
      return exit_runtime;
    }
    metrics_text = metrics_where.host + ":" + std::to_string(metrics->port());
  }
  if (http_at != "off") {
    if (!listen(http_where, d.cfg.http, http_api::scope::api, http)) {
      stop_all();
      return exit_runtime;
    }
    http_text = http_where.host + ":" + std::to_string(http->port())
                + (d.cfg.http.tls_cert.empty() ? "" : " (TLS)");
  }
  auto front_children = http ? http->children() : std::vector<child_spec>{};
  if (notify)
    front_children.push_back(notify->child(d.journal));
  front.start(std::move(front_children));
  std::string cluster_text;
  if (d.cfg.cluster)
    cluster_text = ", cluster " + d.cfg.cluster->cfg.node_id + " on "
                   + d.cfg.cluster->cfg.listen_host + ":" + std::to_string(d.cluster_port);
  std::printf("bulwark node %s: journal %s (head %llu), console %s:%u%s, metrics %s, http %s%s\n",
              settings.node_id.c_str(), d.cfg.data_dir.c_str(),
              static_cast<unsigned long long>(eng->head().first), settings.host.c_str(), *port,
              settings.tls_cert.empty() ? "" : " (TLS)", metrics_text.c_str(), http_text.c_str(),
              cluster_text.c_str());
  std::fflush(stdout);
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    reload_tokens(args.config, *deps.tokens);
    reload_policy_on_signal(*eng);
  }
  spdlog::info("node: signal {}: stopping", sig);
  later.stop();
  sim.stop();
  source.reset(); // its last sample reaches a running engine
  stop_all();
  if (notify)
    notify->stop(); // no delivery thread outlives the engine
  // The journal runs on its own thread, which ends only when no handle to it is left.
  deps = console_deps{};
  console = nullptr;
  eng->stop(); // every acknowledged event is durable: appends are acked after commit
  return exit_ok;
}

} // namespace

void add_node_command(CLI::App& app, int& code) {
  auto args = std::make_shared<node_args>();
  auto* node = app.add_subcommand("node", "Run a node: engine, journal and operator console "
                                          "(stops cleanly on SIGINT/SIGTERM; SIGHUP re-reads "
                                          "the console tokens)");
  node->add_option("--config", args->config, "bulwark.toml")->required()->check(CLI::ExistingFile);
  node->add_option("--data", args->data, "Journal directory (overrides node.data)");
  node->add_option("--console", args->console, "Console listen address HOST:PORT "
                                                "(overrides console.listen; default 127.0.0.1:7401)");
  node->add_option("--metrics", args->metrics, "GET /metrics alone (no token) on HOST:PORT, or "
                                                "off (overrides metrics.listen; default "
                                                "127.0.0.1:9401)");
  node->add_option("--http", args->http, "HTTP API listen address HOST:PORT or off "
                                          "(overrides http.listen; default off)");
  node->add_option("--fleet", args->fleet, "Register the resources of this fleet file")
    ->check(CLI::ExistingFile);
  node->add_flag("--simulate", args->simulate,
                 "Serve every fleet service with a simulated world that reports its error "
                 "rates (for trials; a service with an [[effectors]] table uses that)");
  node->callback([args, &code] { code = run_node(*args); });
}

} // namespace bulwark::cli
