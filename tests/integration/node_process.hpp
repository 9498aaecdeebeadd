#pragma once

// Test support: a real `bulwark node` child process on loopback and a raw line client,
// shared by the console suites.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "persistence/sha256.hpp"
#include "support/temp_dir.hpp"

namespace bulwark::test {

using nlohmann::json;
using namespace std::chrono_literals;

inline std::string hash_of(const std::string& token) {
  return to_hex(sha256(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
}

/// A node child process with its console on a free loopback port.
struct node_process {
  test::temp_dir dir;
  pid_t pid = -1;
  uint16_t port = 0;
  uint16_t metrics_port = 0;
  uint16_t http_port = 0; ///< 0 unless [http] listen is set

  /// The configuration's keys before its tokens. Most console tests let their one
  /// operator approve its own proposals (`self_approval`); the tests of separation of
  /// duties keep the product's default, false.
  static std::string base_config(bool self_approval = true) {
    return std::string{"[node]\nid = \"test-node\"\n[authority]\nenforce_enabled = true\n"}
           + "allow_self_approval = " + (self_approval ? "true" : "false") + "\n"
           "admins = [\"root-admin\"]\n[authority.grants]\n\"op\" = 4\n"
           "\"root-admin\" = 4\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
           "[console]\nlisten = \"127.0.0.1:0\"\n";
  }

  /// A `[[console.tokens]]` table.
  static std::string token_table(const std::string& token, const std::string& principal,
                                 const std::string& role) {
    return "[[console.tokens]]\nsha256 = \"" + hash_of(token) + "\"\nprincipal = \""
           + principal + "\"\nrole = \"" + role + "\"\n";
  }

  std::string config_path() const {
    return dir.sub("bulwark.toml");
  }

  /// The node's stderr, when started with `capture_stderr`.
  std::string stderr_path() const {
    return dir.sub("node.stderr");
  }

  /// `prepare`, when given, runs on the journal directory before the node starts (to
  /// hand it a journal written beforehand).
  explicit node_process(const std::string& extra = "", bool capture_stderr = false,
                        const std::function<void(const std::string&)>& prepare = {},
                        bool self_approval = true)
      : capture_stderr_(capture_stderr) {
    if (prepare)
      prepare(dir.sub("journal"));
    auto cfg = config_path();
    std::ofstream{cfg} << base_config(self_approval) << extra << token_table("viewer-token", "watch", "viewer")
                       << token_table("operator-token", "op", "operator")
                       << token_table("admin-token", "root-admin", "admin");
    launch();
  }

  /// Stops the node (SIGTERM) and starts it again on the same journal and configuration;
  /// the ports are new.
  void restart() {
    stop();
    launch();
  }

  ~node_process() {
    stop();
  }

  bool alive() const {
    return ::kill(pid, 0) == 0;
  }

private:
  bool capture_stderr_ = false;

  void stop() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
      pid = -1;
    }
  }

  void launch() {
    auto cfg = config_path();
    auto capture_stderr = capture_stderr_;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      if (capture_stderr) {
        int err = ::open(stderr_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (err >= 0)
          ::dup2(err, STDERR_FILENO);
      }
      ::execl(BULWARK_BINARY, BULWARK_BINARY, "node", "--config", cfg.c_str(), "--data",
              dir.sub("journal").c_str(), "--fleet", BULWARK_SOURCE_DIR "/conf/fleet.toml",
              "--simulate", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n')
      line.push_back(c);
    ::close(fds[0]);
    // "... console 127.0.0.1:PORT, metrics 127.0.0.1:PORT"
    auto console_at = line.find("console ");
    REQUIRE_MESSAGE(console_at != std::string::npos, line);
    auto colon = line.find(':', console_at);
    port = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
    auto metrics_at = line.find("metrics ");
    REQUIRE_MESSAGE(metrics_at != std::string::npos, line);
    metrics_port = static_cast<uint16_t>(std::stoi(line.substr(line.find(':', metrics_at) + 1)));
    auto http_at = line.find(", http ");
    REQUIRE_MESSAGE(http_at != std::string::npos, line);
    if (line.compare(http_at + 7, 3, "off") != 0)
      http_port = static_cast<uint16_t>(std::stoi(line.substr(line.find(':', http_at) + 1)));
  }
};

/// A raw TCP client speaking lines.
struct client {
  int fd = -1;
  std::string buf;

  explicit client(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~client() {
    if (fd >= 0)
      ::close(fd);
  }
  void send_raw(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      auto n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return;
      off += static_cast<size_t>(n);
    }
  }
  /// Reads one JSON line; null json on timeout or close.
  json read(std::chrono::milliseconds timeout = 5s) {
    for (;;) {
      if (auto pos = buf.find('\n'); pos != std::string::npos) {
        auto line = buf.substr(0, pos);
        buf.erase(0, pos + 1);
        return json::parse(line, nullptr, false);
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
        return json();
      char tmp[65536];
      auto n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0)
        return json();
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
  /// Sends a request and returns the response with its id (skipping pushed events and
  /// answers to earlier lines).
  json call(const json& req) {
    send_raw(req.dump() + "\n");
    for (;;) {
      auto msg = read();
      if (msg.is_null() || msg.is_discarded())
        return msg;
      if (msg.contains("event"))
        continue;
      if (!req.contains("id") || msg["id"] == req["id"])
        return msg;
    }
  }
  /// Sends an HTTP/1.0 GET of `path` and returns everything the server sends until it
  /// closes the connection (status line, headers and body).
  std::string http_get(const std::string& path) {
    send_raw("GET " + path + " HTTP/1.0\r\n\r\n");
    std::string text;
    char tmp[65536];
    for (;;) {
      auto n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0)
        return text;
      text.append(tmp, static_cast<size_t>(n));
    }
  }
  /// Waits until the peer closes (reading and dropping what it sends first).
  bool closed(std::chrono::milliseconds timeout = 5s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    char tmp[65536];
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0)
        continue;
      auto n = ::recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN))
        return true;
    }
    return false;
  }
  json auth(const std::string& token) {
    return call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", token}}}});
  }
};

} // namespace bulwark::test
