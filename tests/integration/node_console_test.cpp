// A real `bulwark node` process on loopback, driven by test clients over TCP: auth,
// roles, the approval flow, subscriptions, the access trail, and hostile input.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <map>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "persistence/sha256.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string hash_of(const std::string& token) {
  return to_hex(sha256(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
}

/// A node child process with its console on a free loopback port.
struct node_process {
  test::temp_dir dir;
  pid_t pid = -1;
  uint16_t port = 0;
  uint16_t metrics_port = 0;

  explicit node_process(const std::string& extra = "") {
    auto cfg = dir.sub("bulwark.toml");
    std::ofstream{cfg} << "[node]\nid = \"test-node\"\n[authority]\nenforce_enabled = true\n"
                          "admins = [\"root-admin\"]\n[authority.grants]\n\"op\" = 4\n"
                          "\"root-admin\" = 4\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
                          "[console]\nlisten = \"127.0.0.1:0\"\n"
                       << extra
                       << "[[console.tokens]]\nsha256 = \"" << hash_of("viewer-token")
                       << "\"\nprincipal = \"watch\"\nrole = \"viewer\"\n"
                          "[[console.tokens]]\nsha256 = \"" << hash_of("operator-token")
                       << "\"\nprincipal = \"op\"\nrole = \"operator\"\n"
                          "[[console.tokens]]\nsha256 = \"" << hash_of("admin-token")
                       << "\"\nprincipal = \"root-admin\"\nrole = \"admin\"\n";
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
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
  }

  ~node_process() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }

  bool alive() const {
    return ::kill(pid, 0) == 0;
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

json propose(int level, const std::string& key, const std::string& resource) {
  return {{"cmd", "propose"},
          {"args",
           {{"idempotency_key", key},
            {"level", level},
            {"services", {"coaster"}},
            {"regions", {"north"}},
            {"changes", {{{"resource", resource}, {"key", "mode"}, {"value", "fast"}}}}}}};
}

} // namespace

TEST_CASE("authentication: nothing before auth, bad tokens refused, three strikes close") {
  node_process node;
  client c{node.port};
  auto early = c.call({{"id", 1}, {"cmd", "status"}});
  CHECK(early["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(c.auth("wrong")["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(c.auth("wrong")["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(c.auth("wrong")["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(c.closed());
  client d{node.port};
  auto ok = d.auth("viewer-token");
  CHECK(ok["ok"] == true);
  CHECK(ok["result"]["role"] == "viewer");
}

TEST_CASE("roles: viewers read, operators approve, admins halt") {
  node_process node;
  client viewer{node.port}, op{node.port}, admin{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto zero = std::string(64, '0');
  for (auto* cmd : {"status", "proposals", "grants", "breakers", "health", "warnings", "help"})
    CHECK(viewer.call({{"id", 1}, {"cmd", cmd}})["ok"] == true);
  auto denied = viewer.call({{"id", 2}, {"cmd", "approve"}, {"args", {{"proposal", zero}}}});
  CHECK(denied["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(viewer.call({{"id", 3}, {"cmd", "halt"}, {"args", {{"reason", "x"}}}})["error"]["code"]
        == "AUTHORITY_DENIED");
  // An operator may use the command (it fails on the digest, not on the role).
  CHECK(op.call({{"id", 4}, {"cmd", "approve"}, {"args", {{"proposal", zero}}}})["error"]["code"]
        == "INVALID_INPUT");
  CHECK(op.call({{"id", 5}, {"cmd", "halt"}, {"args", {{"reason", "x"}}}})["error"]["code"]
        == "AUTHORITY_DENIED");
  CHECK(op.call({{"id", 6}, {"cmd", "breaker-force"},
                 {"args", {{"service", "pos"}, {"state", "open"}}}})["error"]["code"]
        == "AUTHORITY_DENIED");
  CHECK(admin.call({{"id", 7}, {"cmd", "halt"}, {"args", {{"reason", "drill"}}}})["ok"] == true);
  CHECK(admin.call({{"id", 8}, {"cmd", "release"}, {"args", {{"reason", "done"}}}})["ok"] == true);
  CHECK(admin.call({{"id", 9}, {"cmd", "grant"},
                    {"args", {{"principal", "op"}, {"level", 2}}}})["ok"] == true);
}

TEST_CASE("approval flow through the console, with subscription order and the access trail") {
  node_process node;
  client op{node.port}, watcher{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(watcher.auth("viewer-token")["ok"] == true);
  REQUIRE(watcher.call({{"id", 1}, {"cmd", "subscribe"}})["ok"] == true);
  auto req = propose(1, "console-1", "coaster-north-01");
  req["id"] = 10;
  op.send_raw(req.dump() + "\n");
  json pending;
  for (int i = 0; i < 50 && pending.is_null(); ++i) {
    auto list = watcher.call({{"id", 2}, {"cmd", "proposals"}});
    if (list["ok"] == true && !list["result"].empty())
      pending = list["result"][0];
    else
      std::this_thread::sleep_for(20ms);
  }
  REQUIRE(!pending.is_null());
  CHECK(pending["awaiting_approval"] == true);
  op.send_raw(json{{"id", 11}, {"cmd", "approve"}, {"args", {{"proposal", pending["proposal"]}}}}
                .dump()
              + "\n");
  json done, approved;
  for (int i = 0; i < 2; ++i) {
    auto msg = op.read();
    REQUIRE(!msg.is_null());
    (msg["id"] == 10 ? done : approved) = msg;
  }
  CHECK(approved["ok"] == true);
  REQUIRE(done["ok"] == true);
  CHECK(done["result"]["status"] == "succeeded");
  // The watcher received every committed event in seq order.
  uint64_t last = 0;
  int seen = 0;
  for (;;) {
    auto msg = watcher.read(1s);
    if (msg.is_null())
      break;
    if (msg.value("event", "") != "committed")
      continue;
    auto seq = msg["data"]["seq"].get<uint64_t>();
    CHECK(seq > last);
    last = seq;
    ++seen;
  }
  CHECK(seen >= 5);
  // The access trail names who did what from where.
  auto log = watcher.call({{"id", 3}, {"cmd", "log"}, {"args", {{"from", 401}}}});
  REQUIRE(log["ok"] == true);
  bool found_approve = false;
  for (auto& e : log["result"]["events"])
    if (e["type"] == "console_access" && e["payload"]["command"] == "approve"
        && e["payload"]["principal"] == "op"
        && e["payload"]["remote"].get<std::string>().rfind("127.0.0.1:", 0) == 0)
      found_approve = true;
  CHECK(found_approve);
}

TEST_CASE("hostile input gets clear errors or a closed connection; the node keeps serving") {
  node_process node{"max_connections = 64\nidle_timeout_ms = 1500\n"};
  client c{node.port};
  REQUIRE(c.auth("viewer-token")["ok"] == true);
  c.send_raw("this is not json\n");
  CHECK(c.read()["error"]["code"] == "INVALID_INPUT");
  c.send_raw("{\"cmd\": 42}\n");
  CHECK(c.read()["error"]["message"] == "cmd must be a string");
  c.send_raw("{\"id\":5,\"cmd\":\"log\",\"args\":{\"from\":\"x\"}}\n");
  CHECK(c.read()["error"]["code"] == "INVALID_INPUT");
  c.send_raw("{\"cmd\":\"rm -rf\"}\n");
  CHECK(c.read()["error"]["message"].get<std::string>().find("unknown command") == 0);
  std::mt19937 rng{3};
  std::string garbage;
  for (int i = 0; i < 4096; ++i)
    garbage.push_back(static_cast<char>(rng()));
  garbage.push_back('\n');
  c.send_raw(garbage);
  CHECK(c.call({{"id", 6}, {"cmd", "status"}})["ok"] == true); // still usable

  client big{node.port};
  big.send_raw(std::string(1 << 20, 'a') + "\n");
  CHECK(big.closed());

  { // half a line, then gone
    client half{node.port};
    half.send_raw("{\"cmd\":\"sta");
  }
  std::vector<std::unique_ptr<client>> many;
  for (int i = 0; i < 500; ++i)
    many.push_back(std::make_unique<client>(node.port));
  int refused = 0;
  for (auto& m : many)
    if (m->closed(200ms))
      ++refused;
  CHECK(refused >= 500 - 64);
  many.clear();

  client slow{node.port};
  slow.send_raw("{\"cmd\":");
  std::this_thread::sleep_for(1s);
  slow.send_raw("\"sta");
  CHECK(slow.closed(4s)); // a trickle without a full line hits the idle timeout
  std::this_thread::sleep_for(300ms);
  client after{node.port};
  REQUIRE(after.auth("admin-token")["ok"] == true);
  CHECK(after.call({{"id", 1}, {"cmd", "status"}})["result"]["node"] == "test-node");
  CHECK(node.alive());
  // A backup taken while the node runs shows up in status as the last verified backup.
  CHECK(after.call({{"id", 2}, {"cmd", "status"}})["result"]["last_verified_backup_age_s"].is_null());
  std::string out;
  REQUIRE(test::run_command(std::string{BULWARK_BINARY} + " backup --data " + node.dir.sub("journal")
                              + " --out " + node.dir.sub("b.mdb"), &out) == 0);
  auto age = after.call({{"id", 3}, {"cmd", "status"}})["result"]["last_verified_backup_age_s"];
  REQUIRE(age.is_number());
  CHECK(age.get<int64_t>() < 60);
}

TEST_CASE("a second node on the same data directory is refused") {
  node_process node;
  std::string out;
  auto rc = test::run_command(std::string{BULWARK_BINARY} + " node --config " + node.dir.sub("bulwark.toml")
                                + " --data " + node.dir.sub("journal") + " --console 127.0.0.1:0",
                              &out);
  CHECK(rc == 2);
  CHECK(out.find("another Bulwark process") != std::string::npos);
}

TEST_CASE("the metrics endpoint serves Prometheus text that parses") {
  node_process node;
  client c{node.metrics_port};
  c.send_raw("GET /metrics HTTP/1.0\r\n\r\n");
  std::string text;
  char tmp[65536];
  for (;;) {
    auto n = ::recv(c.fd, tmp, sizeof tmp, 0);
    if (n <= 0)
      break;
    text.append(tmp, static_cast<size_t>(n));
  }
  REQUIRE(text.rfind("HTTP/1.0 200 OK", 0) == 0);
  auto body = text.substr(text.find("\r\n\r\n") + 4);
  std::map<std::string, double> samples;
  std::istringstream in{body};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    auto space = line.rfind(' ');
    REQUIRE_MESSAGE(space != std::string::npos, line);
    auto name = line.substr(0, space);
    CHECK(name.find_first_of(" \t") == std::string::npos);
    samples[name] = std::stod(line.substr(space + 1));
  }
  CHECK(samples.at("bulwark_journal_head_seq") >= 400);
  CHECK(samples.at("bulwark_resources") == 400);
  CHECK(samples.at("bulwark_halted") == 0);
  CHECK(samples.at("bulwark_events_total{type=\"resource_registered\"}") == 400);
  CHECK(samples.count("bulwark_breaker_state{service=\"coaster\"}") == 1);
  CHECK(samples.count("bulwark_pending_approvals") == 1);
  // Health (#7): the degradation level, each failure mode and the sampled indicators.
  CHECK(samples.at("bulwark_degradation") >= 0);
  CHECK(samples.count("bulwark_failure_mode_level{mode=\"JOURNAL-SPACE\"}") == 1);
  CHECK(samples.count("bulwark_failure_mode_level{mode=\"VAL-4\"}") == 1);
  CHECK(samples.count(
          "bulwark_health_indicator{mode=\"JOURNAL-SPACE\",indicator=\"journal_space_pct\"}")
        == 1);
}

TEST_CASE("health and warnings: the failure-mode registry over the console") {
  node_process node;
  client viewer{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  auto h = viewer.call({{"id", 1}, {"cmd", "health"}});
  REQUIRE(h["ok"] == true);
  auto& r = h["result"];
  CHECK(r["degradation"] == "normal");
  CHECK(r["modes"].size() == 9);
  CHECK(r["status"]["node"] == "test-node");
  bool space = false;
  for (auto& i : r["indicators"])
    if (i["id"] == "journal_space_pct") {
      space = true;
      CHECK(i["warning"] == 80);
      CHECK(i["critical"] == 90);
      CHECK(i["trend"].is_string());
      CHECK(i["history"].is_array());
    }
  CHECK(space);
  auto w = viewer.call({{"id", 2}, {"cmd", "warnings"}});
  REQUIRE(w["ok"] == true);
  CHECK(w["result"].is_array());
  auto help = viewer.call({{"id", 3}, {"cmd", "help"}});
  bool listed = false;
  for (auto& c : help["result"])
    listed |= c["cmd"] == "warnings";
  CHECK(listed);
}

TEST_CASE("SIGTERM stops a node promptly, with an approval pending, and the journal verifies") {
  node_process node;
  {
    client op{node.port};
    REQUIRE(op.auth("operator-token")["ok"] == true);
    auto req = propose(1, "pending-1", "coaster-north-02");
    req["id"] = 1;
    op.send_raw(req.dump() + "\n");
    for (int i = 0; i < 100; ++i) {
      auto list = op.call({{"id", 2}, {"cmd", "proposals"}});
      if (list["ok"] == true && !list["result"].empty())
        break;
      std::this_thread::sleep_for(20ms);
    }
  }
  ::kill(node.pid, SIGTERM);
  int status = -1;
  bool exited = false;
  for (int i = 0; i < 100 && !exited; ++i) {
    exited = ::waitpid(node.pid, &status, WNOHANG) == node.pid;
    if (!exited)
      std::this_thread::sleep_for(50ms);
  }
  REQUIRE(exited);
  node.pid = -1;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::string out;
  CHECK(test::run_command(std::string{BULWARK_BINARY} + " verify --data " + node.dir.sub("journal"),
                          &out) == 0);
}
