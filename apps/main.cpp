// bulwark: the command-line front of the failure-containment engine.

#include <csignal>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "apps/cli.hpp"
#include "apps/commands.hpp"

int main(int argc, char** argv) {
  // Logs go to stderr, so stdout carries only results (and --json stays parseable); a
  // closed stdout or socket must not kill the process.
  spdlog::set_default_logger(spdlog::stderr_color_mt("bulwark"));
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"Bulwark: failure containment for automated operations.\n"
               "Decides how widely each proposed change may run, records every decision in a\n"
               "SHA-256 hash-chained LMDB journal, and rolls back the change that broke things.",
               "bulwark"};
  app.set_version_flag("--version", std::string{"bulwark "} + BULWARK_VERSION);
  app.require_subcommand(1);
  app.footer("Exit codes: 0 success, 1 usage error, 2 runtime error, 3 integrity violation.\n"
             "Run `bulwark COMMAND --help` for a command's options.");
  int code = bulwark::cli::exit_ok;
  bulwark::cli::add_journal_commands(app, code);
  bulwark::cli::add_incident_commands(app, code);
  bulwark::cli::add_demo_command(app, code);
  bulwark::cli::add_node_command(app, code);
  bulwark::cli::add_backup_commands(app, code);
  bulwark::cli::add_console_command(app, code);
  bulwark::cli::add_key_commands(app, code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    auto rc = app.exit(e);
    return rc == 0 ? 0 : bulwark::cli::exit_usage;
  }
  return code;
}
