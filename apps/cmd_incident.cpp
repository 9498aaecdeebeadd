// `bulwark incident report ID --data DIR [--json]`: an incident's postmortem, offline,
// from a journal directory alone.

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "actors/incident/postmortem_render.hpp"
#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "persistence/journal_store.hpp"

namespace bulwark::cli {

namespace {

struct report_args {
  std::string incident;
  std::string data;
  bool json = false;
  uint64_t lookback_ms = 600000;
};

int run_report(const report_args& args) {
  install_fault_handler();
  digest id;
  if (!parse_digest(args.incident, id)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: the incident id must be 64 hex characters\n");
    return exit_usage;
  }
  int code = exit_ok;
  auto store = open_read_only(args.data, code);
  if (!store)
    return code;
  auto r = read_postmortem(*store, id, std::chrono::milliseconds{args.lookback_ms});
  if (!r) { // an unknown incident is the caller's mistake: a usage error
    auto rc = fail(r.error());
    return code_of(r.error()) == ec::invalid_input ? exit_usage : rc;
  }
  if (args.json)
    std::cout << to_json(*r).dump(2) << '\n';
  else
    std::cout << to_markdown(*r);
  return exit_ok;
}

} // namespace

void add_incident_commands(CLI::App& app, int& code) {
  auto* incident = app.add_subcommand("incident", "Incident reports read from a journal");
  incident->require_subcommand(1);
  auto ra = std::make_shared<report_args>();
  auto* report = incident->add_subcommand("report", "An incident's postmortem (Markdown, or "
                                                    "JSON with --json), from the journal alone");
  report->add_option("ID", ra->incident, "The incident's digest (64 hex characters)")->required();
  report->add_option("--data", ra->data, "Journal directory")->required();
  report->add_flag("--json", ra->json, "The report as JSON");
  report->add_option("--lookback-ms", ra->lookback_ms,
                     "How far before the onset changes are listed (default 600000)");
  report->callback([ra, &code] { code = run_report(*ra); });
}

} // namespace bulwark::cli
