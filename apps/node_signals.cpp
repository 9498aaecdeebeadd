#include "apps/node_signals.hpp"

#include <cstdio>
#include <set>

#include "apps/cli.hpp"
#include "engine/node_config.hpp"

namespace bulwark::cli {

namespace {

/// The settings with their series: as listed, else every (service, region) of the fleet.
caf::expected<std::optional<prometheus_settings>> settings_of(const std::string& config,
                                                              const std::string& fleet) {
  auto s = load_prometheus(config);
  if (!s || !*s || !(*s)->series.empty() || fleet.empty())
    return s;
  auto regs = load_fleet(fleet);
  if (!regs)
    return regs.error();
  std::set<signal_series> seen;
  for (auto& r : *regs)
    if (seen.insert({r.service, r.region}).second)
      (*s)->series.push_back({r.service, r.region});
  return s;
}

int usage(const caf::error& e) {
  std::fprintf(stderr, "bulwark: INVALID_INPUT: %s\n", describe(e).message.c_str());
  return exit_usage;
}

} // namespace

int check_signal_source(const std::string& config, const std::string& fleet) {
  auto s = settings_of(config, fleet);
  if (!s)
    return usage(s.error());
  if (*s) // expands every template for every series
    if (auto source = prometheus_source::make(**s, {}); !source)
      return usage(source.error());
  return exit_ok;
}

int start_signal_source(const std::string& config, const std::string& fleet, engine& eng,
                        console_deps& deps, std::unique_ptr<prometheus_source>& out) {
  auto s = settings_of(config, fleet);
  if (!s)
    return usage(s.error());
  if (!*s)
    return exit_ok;
  signal_sinks sinks{[&eng](const metric_sample& m) { return eng.feed_metric(m); },
                     [&eng] { return eng.now(); },
                     [&eng](double rounds) { eng.set_indicator("prometheus_failed_rounds", rounds); }};
  auto source = prometheus_source::make(std::move(**s), std::move(sinks));
  if (!source)
    return usage(source.error());
  out = std::move(*source);
  auto board = out->board();
  deps.signals = [board] { return signals_json(board->get()); };
  out->start();
  return exit_ok;
}

} // namespace bulwark::cli
