// `bulwark node`: a long-running node with the engine, its journal and the operator
// console, until SIGINT or SIGTERM.

#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "caf/actor.hpp"
#include "caf/send.hpp"

#include "actors/console/console.hpp"
#include "actors/http/http_api.hpp"
#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "apps/demo_world.hpp"
#include "bulwark/engine.hpp"
#include "engine/engine_impl.hpp"
#include "engine/node_config.hpp"

namespace bulwark::cli {

namespace {

struct node_args {
  std::string config;
  std::string data;
  std::string console;
  std::string fleet;
  std::string metrics;
  std::string http;
  bool simulate = false;
};

/// Registers the fleet file's resources that the journal does not know yet.
int register_fleet(engine& eng, const std::string& path, bool simulate, demo_world& world) {
  auto fleet = load_fleet(path);
  if (!fleet)
    return fail(fleet.error());
  std::set<std::string> services;
  for (auto& r : *fleet) {
    services.insert(r.service);
    std::map<std::string, std::string> attrs(r.attributes.begin(), r.attributes.end());
    auto res = eng.register_resource(r.resource.value, r.service, r.region, attrs);
    if (!res.ok && res.message.find("registered already") == std::string::npos) {
      std::fprintf(stderr, "bulwark: %s: %s\n", res.code.c_str(), res.message.c_str());
      return exit_runtime;
    }
  }
  if (simulate)
    for (auto& s : services)
      eng.register_effector(s, [&world](const effect_request& r) { return world.apply(r); });
  return exit_ok;
}

/// The engine as `report` and `POST /v1/metrics` reach it: cleared (under the lock, so a
/// sample in flight finishes first) before the engine stops.
struct metric_sink {
  std::mutex mtx;
  engine* eng = nullptr;
};

/// Each sample goes the way of `engine::feed_metric`; refused once the node stops.
std::function<bool(const metric_in&)> feed_metric(std::shared_ptr<metric_sink> sink) {
  return [sink](const metric_in& m) {
    auto at = std::chrono::duration_cast<std::chrono::system_clock::duration>(
      m.at.time_since_epoch());
    std::lock_guard<std::mutex> guard{sink->mtx};
    return sink->eng != nullptr
           && sink->eng->feed_metric(metric_sample{m.service, m.region, m.error_rate,
                                                   m.latency_ms,
                                                   std::chrono::system_clock::time_point{at}});
  };
}

int run_node(const node_args& args) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr); // every thread started later inherits it
  engine_options opts;
  opts.config_file = args.config;
  opts.data_dir = args.data;
  opts.network = true;
  std::string error;
  auto eng = engine::start(opts, &error);
  if (!eng) {
    std::fprintf(stderr, "bulwark: %s\n", error.c_str());
    return error.rfind("INTEGRITY_VIOLATION", 0) == 0 ? exit_integrity : exit_runtime;
  }
  demo_world world{1};
  if (!args.fleet.empty())
    if (int rc = register_fleet(*eng, args.fleet, args.simulate, world); rc != exit_ok)
      return rc;
  auto& d = eng->internals();
  auto settings = d.cfg.console;
  if (!args.console.empty() && !parse_listen(args.console, settings)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --console must be HOST:PORT\n");
    return exit_usage;
  }
  console_deps deps{d.journal, d.authority, d.pipeline, d.breakers, d.store,
                    d.cfg.authority.policy.grants, d.cfg.journal.meter, d.rollbacks,
                    d.orchestrator, d.health_view, d.chaos, d.cluster, d.cluster_figures,
                    d.admission, nullptr};
  auto sink = std::make_shared<metric_sink>();
  sink->eng = eng.get();
  deps.feed_metric = feed_metric(sink);
  auto metrics_at = args.metrics.empty() ? d.cfg.metrics_listen : args.metrics;
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
  caf::actor console;
  auto port = start_console(*d.sys, settings, deps, console);
  if (!port) {
    std::fprintf(stderr, "bulwark: %s\n", describe(port.error()).message.c_str());
    return exit_runtime;
  }
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
    if (http)
      http->stop();
    if (metrics)
      metrics->stop();
    http.reset();
    metrics.reset();
    caf::anon_send_exit(console, caf::exit_reason::user_shutdown);
    std::lock_guard<std::mutex> guard{sink->mtx}; // no sample reaches a stopping engine
    sink->eng = nullptr;
  };
  std::string metrics_text = "off", http_text = "off";
  auto plain = d.cfg.http; // the metrics listener is plain HTTP, as before
  plain.tls_cert.clear();
  plain.tls_key.clear();
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
  sigwait(&signals, &sig);
  spdlog::info("node: signal {}: stopping", sig);
  stop_all();
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
                                          "(stops cleanly on SIGINT/SIGTERM)");
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
                 "Serve every fleet service with a simulated effector (for trials)");
  node->callback([args, &code] { code = run_node(*args); });
}

} // namespace bulwark::cli
