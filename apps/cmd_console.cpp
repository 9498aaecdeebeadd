// `bulwark console`: the operator's client for a node's console (docs/console-protocol.md).
//
// Interactive with line editing and history (libedit), or one command with -c. Input is
// `CMD key=value ...` (values that parse as JSON are sent as JSON) or a raw JSON request.
// The token comes from --token-file or BULWARK_TOKEN, never from the command line.
// --tls [--ca FILE] speaks TLS to a node whose console has a certificate.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <editline/readline.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "apps/console_client.hpp"

namespace bulwark::cli {

namespace {

using nlohmann::json;

struct console_args {
  std::string connect = "127.0.0.1:7401";
  std::string token_file;
  std::string command;
  bool json_output = false;
  console_tls tls;
};

/// Turns `cmd key=value ...` (or a JSON object) into a request with `id`.
bool to_request(const std::string& input, uint64_t id, json& out, std::string& error) {
  auto start = input.find_first_not_of(" \t");
  if (start != std::string::npos && input[start] == '{') {
    out = json::parse(input, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
      error = "not a JSON object";
      return false;
    }
    if (!out.contains("id"))
      out["id"] = id;
    return true;
  }
  std::istringstream in{input};
  std::string cmd, word;
  in >> cmd;
  json args = json::object();
  while (in >> word) {
    auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "arguments are key=value, got '" + word + "'";
      return false;
    }
    auto value = word.substr(eq + 1);
    auto parsed = json::parse(value, nullptr, false);
    args[word.substr(0, eq)] = parsed.is_discarded() ? json(value) : parsed;
  }
  out = json{{"id", id}, {"cmd", cmd}, {"args", args}};
  return true;
}

/// True for an answer that reports a failed outcome: a proposal (or a rollback) that
/// failed, was interrupted, denied, refused or expired.
bool failed_outcome(const json& response) {
  if (!response.value("ok", false) || !response["result"].is_object())
    return false;
  auto& r = response["result"];
  if (!r.contains("status") || !r["status"].is_string())
    return false;
  auto status = r["status"].get<std::string>();
  return status == "failed" || status == "interrupted" || status == "denied"
         || status == "refused" || status == "expired";
}

/// Prints a response for people (or raw with --json); returns whether it was ok.
bool show(const json& response, bool raw) {
  if (raw) {
    std::cout << response.dump() << std::endl;
    return response.value("ok", false);
  }
  if (response.value("ok", false)) {
    std::cout << response["result"].dump(2) << std::endl;
    return true;
  }
  auto& err = response["error"];
  std::cout << err.value("code", "ERROR") << ": " << err.value("message", "");
  if (err.contains("retry_after") && !err["retry_after"].is_null())
    std::cout << " (retry after " << err["retry_after"].dump() << " ms)";
  std::cout << std::endl;
  return false;
}

/// Sends one request and prints pushed lines until its response arrives. Returns the
/// exit code of `-c`: 0, `exit_runtime` for an error answer or a lost connection, or
/// `exit_outcome` for an answer reporting a failed outcome.
int exchange(console_connection& conn, const json& request, bool raw, bool& alive) {
  if (!conn.send(request.dump())) {
    alive = false;
    return exit_runtime;
  }
  std::string line;
  while (conn.receive(line)) {
    auto msg = json::parse(line, nullptr, false);
    if (msg.is_discarded())
      continue;
    if (msg.contains("event")) {
      if (msg["event"] == "progress")
        std::cerr << "\rprogress " << msg["data"].value("done", 0) << "/"
                  << msg["data"].value("total", 0) << std::flush;
      else
        std::cout << msg.dump() << std::endl;
      continue;
    }
    if (msg.value("id", json()) == request["id"] || msg["id"].is_null()) {
      bool ok = show(msg, raw);
      if (request.value("cmd", "") == "subscribe" && ok)
        continue; // keep printing pushed events until the connection ends
      return !ok ? exit_runtime : failed_outcome(msg) ? exit_outcome : exit_ok;
    }
  }
  alive = false;
  std::cerr << "bulwark: the node closed the connection" << std::endl;
  return exit_runtime;
}

std::string read_token(const console_args& args, std::string& error) {
  std::string token;
  if (!args.token_file.empty()) {
    std::ifstream in{args.token_file};
    if (!in || !std::getline(in, token))
      error = args.token_file + ": cannot read the token";
  } else if (const char* env = std::getenv("BULWARK_TOKEN")) {
    token = env;
  } else {
    error = "no token: use --token-file FILE or set BULWARK_TOKEN";
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  return token;
}

int run_console(const console_args& args) {
  // A write to a connection the node closed fails with EPIPE (SSL_write has no
  // MSG_NOSIGNAL), so the client can say so instead of dying silently.
  std::signal(SIGPIPE, SIG_IGN);
  std::string error;
  auto token = read_token(args, error);
  console_connection conn;
  if (!error.empty() || !conn.open(args.connect, args.tls, error)) {
    std::fprintf(stderr, "bulwark: %s\n", error.c_str());
    return exit_runtime;
  }
  bool alive = true;
  json auth{{"id", 0}, {"cmd", "auth"}, {"args", {{"token", token}}}};
  conn.send(auth.dump());
  std::string line;
  if (!conn.receive(line)) {
    std::fprintf(stderr, "bulwark: the node closed the connection\n");
    return exit_runtime;
  }
  auto answer = json::parse(line, nullptr, false);
  if (answer.is_discarded() || !answer.value("ok", false)) {
    if (!answer.is_discarded())
      show(answer, args.json_output);
    return exit_runtime;
  }
  if (args.command.empty())
    std::cout << "connected to " << answer["result"].value("node", "?") << " as "
              << answer["result"].value("principal", "?") << " ("
              << answer["result"].value("role", "?") << "); help lists commands" << std::endl;
  uint64_t id = 1;
  if (!args.command.empty()) {
    json req;
    if (!to_request(args.command, id, req, error)) {
      std::fprintf(stderr, "bulwark: %s\n", error.c_str());
      return exit_usage;
    }
    return exchange(conn, req, args.json_output, alive);
  }
  auto history = std::string{std::getenv("HOME") ? std::getenv("HOME") : "."} + "/.bulwark_history";
  read_history(history.c_str());
  while (alive) {
    char* raw = readline("bulwark> ");
    if (raw == nullptr)
      break;
    std::string input{raw};
    std::free(raw);
    if (input.find_first_not_of(" \t") == std::string::npos)
      continue;
    if (input == "quit" || input == "exit")
      break;
    add_history(input.c_str());
    json req;
    if (!to_request(input, ++id, req, error)) {
      std::cerr << error << std::endl;
      continue;
    }
    exchange(conn, req, args.json_output, alive);
  }
  write_history(history.c_str());
  return exit_ok;
}

} // namespace

void add_console_command(CLI::App& app, int& code) {
  auto args = std::make_shared<console_args>();
  auto* console = app.add_subcommand("console", "Operator console client (line editing, "
                                                "history; -c for one command)");
  console->add_option("--connect", args->connect, "Node console address HOST:PORT")
    ->capture_default_str();
  console->add_option("--token-file", args->token_file,
                      "File holding the token (else the BULWARK_TOKEN variable)");
  console->add_option("-c", args->command,
                      "Run one command, e.g. -c \"status\"; exit 0, 2 for an error answer, 4 "
                      "when its outcome failed (a proposal or rollback failed, interrupted, "
                      "denied, refused or expired)");
  console->add_flag("--json", args->json_output, "Print raw JSON responses");
  auto* tls = console->add_flag("--tls", args->tls.enabled,
                    "Connect with TLS and check the node's certificate and name");
  console->add_option("--ca", args->tls.ca_file,
                      "Trust the certificates in this PEM file (with --tls; default: the "
                      "system's)")
    ->check(CLI::ExistingFile)
    ->needs(tls);
  console->callback([args, &code] { code = run_console(*args); });
}

} // namespace bulwark::cli
