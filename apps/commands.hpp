#pragma once

/// The subcommands of `bulwark`; each adds itself to the CLI11 app and stores its exit
/// code in `code` when it runs.

namespace CLI {
class App;
} // namespace CLI

namespace bulwark::cli {

/// Adds `verify`, `replay` and `log`.
void add_journal_commands(CLI::App& app, int& code);

/// Adds `demo`.
void add_demo_command(CLI::App& app, int& code);

/// Adds `backup` and `restore`.
void add_backup_commands(CLI::App& app, int& code);

/// Adds `node`.
void add_node_command(CLI::App& app, int& code);

/// Adds `console`.
void add_console_command(CLI::App& app, int& code);

} // namespace bulwark::cli
