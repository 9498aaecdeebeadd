// `bulwark console`: the operator's client for a node's console (docs/console-protocol.md).
//
// Interactive with line editing, history and tab completion (libedit), or one command
// with -c. Input is `CMD key=value ...` (values that parse as JSON are sent as JSON; quote
// text with blanks) or a raw JSON request. Interactive, answers and notices (a waiting
// proposal's outcome) are printed as they arrive, while the next command is typed.
// The token comes from --token-file or BULWARK_TOKEN, never from the command line.
// --tls [--ca FILE] speaks TLS to a node whose console has a certificate.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <poll.h>
#include <unistd.h>

#include <editline/readline.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "apps/console_client.hpp"
#include "apps/console_input.hpp"

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
         || status == "refused" || status == "expired" || status == "compensation_failed";
}

/// Prints a response for people (or raw with --json); returns whether it was ok.
bool show(const json& response, bool raw) {
  if (raw) {
    std::cout << response.dump() << std::endl;
    return response.value("ok", false);
  }
  if (response.value("ok", false)) {
    if (auto text = help_text(response["result"]); !text.empty())
      std::cout << text << "Tab completes commands and argument names; quote text with "
                           "blanks: reason=\"disk full\"" << std::endl;
    else
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

/// True for an answer saying the proposal waits for an approval (its outcome follows as
/// an `outcome` notice).
bool awaiting(const json& response) {
  return response.value("ok", false) && response["result"].is_object()
         && response["result"].value("status", "") == "awaiting_approval";
}

/// A pushed `outcome` notice as a response, to print it and judge it as one.
json notice_response(const json& data) {
  if (data.contains("code") && data["code"].is_string() && data.value("status", "") == "failed"
      && !data.contains("applied"))
    return json{{"id", data["id"]}, {"ok", false},
                {"error", {{"code", data["code"]}, {"message", data.value("message", "")}}}};
  return json{{"id", data["id"]}, {"ok", true}, {"result", data}};
}

/// Prints a pushed line other than an answer: progress on stderr, an outcome notice
/// like an answer, anything else as its JSON.
void show_push(const json& msg, bool raw) {
  auto& event = msg["event"];
  if (event == "progress") {
    std::cerr << "\rprogress " << msg["data"].value("done", 0) << "/"
              << msg["data"].value("total", 0) << std::flush;
  } else if (event == "outcome" && !raw) {
    std::cout << "outcome of " << msg["data"].value("proposal", "?") << ":" << std::endl;
    show(notice_response(msg["data"]), false);
  } else {
    std::cout << msg.dump() << std::endl;
  }
}

/// Sends one request (-c) and prints pushed lines until its response arrives; for a
/// proposal waiting for approval, until its outcome notice. Returns the exit code: 0,
/// `exit_runtime` for an error answer or a lost connection, or `exit_outcome` for an
/// answer reporting a failed outcome.
int exchange(console_connection& conn, const json& request, bool raw) {
  if (!conn.send(request.dump()))
    return exit_runtime;
  std::string line;
  bool waiting = false;
  while (conn.receive(line)) {
    auto msg = json::parse(line, nullptr, false);
    if (msg.is_discarded())
      continue;
    if (msg.contains("event")) {
      show_push(msg, raw);
      if (waiting && msg["event"] == "outcome" && msg["data"].value("id", json()) == request["id"]) {
        auto r = notice_response(msg["data"]);
        return !r.value("ok", false) ? exit_runtime : failed_outcome(r) ? exit_outcome : exit_ok;
      }
      continue;
    }
    if (msg.value("id", json()) == request["id"] || msg["id"].is_null()) {
      bool ok = show(msg, raw);
      if (request.value("cmd", "") == "subscribe" && ok)
        continue; // keep printing pushed events until the connection ends
      if (ok && awaiting(msg)) {
        waiting = true; // -c's exit code is the outcome's
        continue;
      }
      return !ok ? exit_runtime : failed_outcome(msg) ? exit_outcome : exit_ok;
    }
  }
  std::cerr << "bulwark: the node closed the connection" << std::endl;
  return exit_runtime;
}

/// The interactive session: libedit reads keys through its callback interface while the
/// connection's lines are printed as they come.
struct session {
  console_connection* conn = nullptr;
  bool raw = false;
  uint64_t id = 1;
  bool open = true;  ///< the connection is up
  bool quit = false; ///< the person is done
  std::vector<command_names> commands; ///< from `help`, for completion
  std::vector<std::string> matches;    ///< the completions being offered
};

session* active = nullptr; // libedit's callbacks take no context

char* next_match(const char*, int state) {
  static size_t at = 0;
  if (state == 0)
    at = 0;
  if (at >= active->matches.size())
    return nullptr;
  return strdup(active->matches[at++].c_str());
}

char** on_complete(const char* text, int, int end) {
  rl_attempted_completion_over = 1; // never complete file names
  active->matches = complete(std::string{rl_line_buffer, static_cast<size_t>(end)},
                             active->commands);
  bool argument = !active->matches.empty() && active->matches.front().back() == '=';
  rl_completion_append_character = argument ? '\0' : ' ';
  return rl_completion_matches(text, next_match);
}

void on_line(char* raw) {
  // libedit leaves character-at-a-time mode after each line: install the handler again.
  rl_callback_handler_install("bulwark> ", on_line);
  if (raw == nullptr) {
    active->quit = true;
    return;
  }
  std::string input{raw};
  std::free(raw);
  if (input.find_first_not_of(" \t") == std::string::npos)
    return;
  if (input == "quit" || input == "exit") {
    active->quit = true;
    return;
  }
  add_history(input.c_str());
  json req;
  std::string error;
  if (!to_request(input, ++active->id, req, error)) {
    std::cerr << error << std::endl;
    return;
  }
  if (!active->conn->send(req.dump()))
    active->open = false;
}

/// Prints a line from the node above the line being typed.
void print_incoming(const std::string& line, bool raw) {
  auto msg = json::parse(line, nullptr, false);
  if (msg.is_discarded())
    return;
  std::cout << "\r\033[K";
  if (msg.contains("event"))
    show_push(msg, raw);
  else
    show(msg, raw);
  rl_forced_update_display();
}

void interact(session& s) {
  active = &s;
  rl_attempted_completion_function = on_complete;
  rl_callback_handler_install("bulwark> ", on_line);
  std::string line;
  while (s.open && !s.quit) {
    while (s.conn->take_line(line))
      print_incoming(line, s.raw);
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {s.conn->fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0)
      continue;
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !s.conn->fill())
      s.open = false;
    if ((fds[0].revents & (POLLIN | POLLHUP)) != 0)
      rl_callback_read_char();
  }
  while (s.conn->take_line(line))
    print_incoming(line, s.raw);
  rl_callback_handler_remove();
  if (!s.open)
    std::cerr << std::endl << "bulwark: the node closed the connection" << std::endl;
  active = nullptr;
}

/// The commands this principal may use, with their arguments, for completion.
std::vector<command_names> fetch_commands(console_connection& conn) {
  if (!conn.send(json{{"id", 1}, {"cmd", "help"}}.dump()))
    return {};
  std::string line;
  while (conn.receive(line)) {
    auto msg = json::parse(line, nullptr, false);
    if (!msg.is_discarded() && msg.value("id", json()) == 1)
      return msg.value("ok", false) ? commands_from_help(msg["result"]) : std::vector<command_names>{};
  }
  return {};
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
  if (!args.command.empty()) {
    json req;
    if (!to_request(args.command, 1, req, error)) {
      std::fprintf(stderr, "bulwark: %s\n", error.c_str());
      return exit_usage;
    }
    return exchange(conn, req, args.json_output);
  }
  auto history = std::string{std::getenv("HOME") ? std::getenv("HOME") : "."} + "/.bulwark_history";
  read_history(history.c_str());
  session s;
  s.conn = &conn;
  s.raw = args.json_output;
  s.commands = fetch_commands(conn);
  interact(s);
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
