#pragma once

/// The subcommands of `bulwark`; each adds itself to the CLI11 app and stores its exit
/// code in `code` when it runs.

#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace bulwark::cli {

/// Adds `verify`, `replay` and `log`.
void add_journal_commands(CLI::App& app, int& code);

/// Adds `incident report`.
void add_incident_commands(CLI::App& app, int& code);

/// Adds `demo`.
void add_demo_command(CLI::App& app, int& code);

/// Adds `backup`, `restore` and `cluster-rejoin`.
void add_backup_commands(CLI::App& app, int& code);

/// Adds `node`.
void add_node_command(CLI::App& app, int& code);

/// Adds `console`.
void add_console_command(CLI::App& app, int& code);

/// Adds `keygen` and `head` (node keys and signed heads).
void add_key_commands(CLI::App& app, int& code);

/// Checks a signed head file against the journal in `data` with the signer's public key:
/// 0 when the journal holds that chain at that seq and the signature checks, 3 otherwise.
int run_verify_head(const std::string& data, const std::string& head_file,
                    const std::string& pubkey_file);

} // namespace bulwark::cli
