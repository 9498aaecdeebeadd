// Real `bulwark node` processes forming a cluster on 127.0.0.1: three nodes replicate and
// end with equal heads and state digests; a follower killed with SIGKILL and restarted
// catches up; a follower journal tampered on disk is refused at its next start; garbage
// sent to a node's cluster port is dropped while the node keeps serving.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <tuple>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cluster/cluster_node.hpp"
#include "persistence/make_event.hpp"
#include "persistence/sha256.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_plan;
using bulwark::test::run_command;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;

namespace {

const std::string bulwark_bin = BULWARK_BINARY;
const std::string fleet_file = BULWARK_SOURCE_DIR "/conf/fleet.toml";

/// The SHA-256 of a console token, e.g. "root-token" (role admin, principal root).
std::string token_hash(const std::string& token = "root-token") {
  return to_hex(sha256(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
}

/// Runs one console command against the node whose ready line is `line`; returns the JSON.
/// Runs one console command and returns its whole output (no assertions: any thread).
std::string console_output(const std::string& line, const std::string& command,
                           const std::string& token = "root-token") {
  auto at = line.find("console ");
  if (at == std::string::npos)
    return "no console address in the ready line";
  auto port = std::stoi(line.substr(line.find(':', at) + 1));
  std::string out;
  run_command("BULWARK_TOKEN=" + token + " " + bulwark_bin + " console --json --connect 127.0.0.1:"
                + std::to_string(port) + " -c '" + command + "' 2>&1", &out);
  return out;
}

nlohmann::json console(const std::string& line, const std::string& command,
                       const std::string& token = "root-token") {
  REQUIRE(line.find("console ") != std::string::npos);
  auto out = console_output(line, command, token);
  // The last line is the answer to the command (the first answers the auth).
  auto end = out.find_last_not_of('\n');
  auto start = out.rfind('\n', end);
  auto j = nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1),
                                 nullptr, false);
  INFO(out);
  REQUIRE(!j.is_discarded());
  return j;
}

/// GET /metrics on 127.0.0.1:port; returns the whole response.
std::string http_get(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

/// Writes the node's bulwark.toml (with [cluster]) and its keys into `dir`.
std::string write_config(const temp_dir& dir, const cluster_plan& plan, const std::string& id) {
  auto cfg = plan.config_of(id);
  (void) plan.keys.at(id)->write_private(dir.sub(id + ".key"));
  std::ofstream f{dir.sub(id + ".toml")};
  f << "[authority]\nenforce_enabled = true\nadmins = [\"root\"]\n[authority.grants]\n"
    << "\"root\" = 4\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
    << "[[console.tokens]]\nsha256 = \"" << token_hash() << "\"\nprincipal = \"root\"\n"
    << "role = \"admin\"\n";
  // More sessions for the role tests: a viewer, an operator, and an admin session of a
  // principal that is not one of the authority's admins.
  for (auto [token, principal, role] : {std::tuple{"view-token", "watcher", "viewer"},
                                        std::tuple{"ops-token", "ops", "operator"},
                                        std::tuple{"lead-token", "lead", "admin"}})
    f << "[[console.tokens]]\nsha256 = \"" << token_hash(token) << "\"\nprincipal = \""
      << principal << "\"\nrole = \"" << role << "\"\n";
  f << "[cluster]\nnode_id = \"" << id << "\"\ncluster_id = \"" << cfg.cluster_id
    << "\"\nlisten = \"127.0.0.1:" << cfg.listen_port << "\"\nleader = \"" << cfg.leader
    << "\"\nkey = \"" << id << ".key\"\nmax_batch = 100\npeers = [";
  for (size_t i = 0; i < cfg.peers.size(); ++i)
    f << (i ? ", " : "") << '"' << cfg.peers[i].node_id << "@127.0.0.1:" << cfg.peers[i].port
      << '"';
  f << "]\n[cluster.pubkeys]\n";
  for (auto& p : cfg.peers) {
    (void) ed25519_key::from_raw_public(plan.pubkeys.at(p.node_id))
      ->write_public(dir.sub(id + "-" + p.node_id + ".pub"));
    f << p.node_id << " = \"" << id << "-" << p.node_id << ".pub\"\n";
  }
  return dir.sub(id + ".toml");
}

/// One `bulwark node` child process.
struct node_process {
  pid_t pid = -1;
  std::string first_line;

  node_process(const std::string& config, const std::string& data,
               const std::string& fleet = "") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      // Logs and errors go to DATA.log, so a closed pipe never meets a late log line.
      int log = ::open((data + ".log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, STDERR_FILENO);
      ::close(fds[0]);
      std::vector<const char*> argv{bulwark_bin.c_str(), "node", "--config", config.c_str(),
                                    "--data", data.c_str(), "--console", "127.0.0.1:0"};
      if (!fleet.empty()) {
        argv.push_back("--fleet");
        argv.push_back(fleet.c_str());
        argv.push_back("--simulate");
      }
      argv.push_back(nullptr);
      ::execv(bulwark_bin.c_str(), const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
    ::close(fds[1]);
    // Up once it prints its ready line; a node that cannot start closes stdout instead.
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n')
      line.push_back(c);
    first_line = line;
    ::close(fds[0]);
  }

  ~node_process() { stop(SIGTERM); }

  /// Sends `sig` and reaps the process; returns its exit status.
  int stop(int sig) {
    if (pid <= 0)
      return -1;
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }

  /// Waits for the process to exit by itself; returns its exit code.
  int wait_exit() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

/// `bulwark replay --json` of a journal (read-only; fine beside a running node).
nlohmann::json replay_json(const std::string& data) {
  std::string out;
  if (run_command(bulwark_bin + " replay --json --data " + data + " 2>/dev/null", &out) != 0)
    return nlohmann::json{{"seq", -1}};
  auto j = nlohmann::json::parse(out, nullptr, false);
  return j.is_discarded() ? nlohmann::json{{"seq", -1}} : j;
}

bool same_head(const std::string& a, const std::string& b) {
  auto x = replay_json(a);
  auto y = replay_json(b);
  return x["seq"] != -1 && x["seq"] == y["seq"] && x["chain"] == y["chain"];
}

} // namespace

TEST_CASE("three node processes replicate and end with equal heads and state digests") {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  auto c1 = write_config(dir, plan, "n1");
  auto c2 = write_config(dir, plan, "n2");
  auto c3 = write_config(dir, plan, "n3");
  {
    node_process n2{c2, dir.sub("d2")};
    node_process n3{c3, dir.sub("d3")};
    node_process n1{c1, dir.sub("d1"), fleet_file};
    REQUIRE_MESSAGE(n1.first_line.find("cluster n1") != std::string::npos, n1.first_line);
    CHECK(replay_json(dir.sub("d1"))["seq"] >= 400); // the fleet's registrations
    CHECK(wait_until([&] {
      return same_head(dir.sub("d1"), dir.sub("d2")) && same_head(dir.sub("d1"), dir.sub("d3"));
    }));
  }
  auto r1 = replay_json(dir.sub("d1"));
  auto r2 = replay_json(dir.sub("d2"));
  auto r3 = replay_json(dir.sub("d3"));
  CHECK(r1["resources"] == 400);
  // A follower may miss the leader's last peer_changed events (written while it stopped).
  CHECK(r2["seq"] <= r1["seq"]);
  for (auto* r : {&r2, &r3}) {
    std::string out;
    REQUIRE(run_command(bulwark_bin + " replay --json --data " + dir.sub("d1") + " --to "
                          + std::to_string((*r)["seq"].get<uint64_t>()), &out) == 0);
    auto at = nlohmann::json::parse(out);
    CHECK(at["chain"] == (*r)["chain"]);
    CHECK(at["state_digest"] == (*r)["state_digest"]);
  }
  // The independent verifier decodes the cluster event types too.
  std::string out;
  CHECK_MESSAGE(run_command("/usr/bin/python3 " BULWARK_SOURCE_DIR "/tests/tools/verify_journal.py "
                              + dir.sub("d2"), &out) == 0, out);
}

TEST_CASE("a follower killed with SIGKILL and restarted catches up, a tampered one is refused") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto c1 = write_config(dir, plan, "n1");
  auto c2 = write_config(dir, plan, "n2");
  auto n1 = std::make_unique<node_process>(c1, dir.sub("d1"), fleet_file);
  {
    node_process n2{c2, dir.sub("d2")};
    REQUIRE(wait_until([&] { return replay_json(dir.sub("d2"))["seq"] >= 400; }));
    n2.stop(SIGKILL);
  }
  auto killed_at = replay_json(dir.sub("d2"))["seq"];
  // The leader moves on: restarted with a second fleet of 30 resources.
  n1.reset();
  auto extra = dir.sub("extra.toml");
  {
    std::ofstream f{extra};
    for (int i = 0; i < 30; ++i)
      f << "[[resource]]\nid = \"extra-" << i << "\"\nservice = \"shops\"\nregion = \"north\"\n";
  }
  n1 = std::make_unique<node_process>(c1, dir.sub("d1"), extra);
  CHECK(replay_json(dir.sub("d1"))["resources"] == 430);
  {
    node_process n2{c2, dir.sub("d2")};
    CHECK(replay_json(dir.sub("d2"))["seq"] == killed_at); // nothing lost, nothing extra
    CHECK(wait_until([&] { return replay_json(dir.sub("d2"))["resources"] == 430; }));
    CHECK(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
  }
  // Tamper one record of the stopped follower's journal: it refuses to start.
  test::tamper_value(dir.sub("d2"), 100, [](std::vector<uint8_t>& v) { v.back() ^= 0x01; });
  node_process bad{c2, dir.sub("d2")};
  CHECK(bad.wait_exit() == 3);
  std::ifstream log{dir.sub("d2") + ".log"};
  std::string text{std::istreambuf_iterator<char>{log}, {}};
  CHECK(text.find("INTEGRITY_VIOLATION") != std::string::npos);
}

TEST_CASE("garbage and oversized frames sent to a node's cluster port are dropped") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto c1 = write_config(dir, plan, "n1");
  auto c2 = write_config(dir, plan, "n2");
  node_process n1{c1, dir.sub("d1"), fleet_file};
  for (int round = 0; round < 3; ++round) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(plan.nodes[0].port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::vector<uint8_t> junk(round == 2 ? (1 << 20) : 4096);
    for (size_t i = 0; i < junk.size(); ++i)
      junk[i] = static_cast<uint8_t>(i * 131 + round);
    if (round == 1) // a frame header claiming a huge payload
      std::fill(junk.begin(), junk.begin() + 64, 0xFF);
    (void) ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  // The leader still serves: a follower started now replicates everything.
  node_process n2{c2, dir.sub("d2")};
  CHECK(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
  CHECK(::kill(n1.pid, 0) == 0);
}

TEST_CASE("console: cluster status, proposals routed to the leader, cluster-promote") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto c1 = write_config(dir, plan, "n1");
  auto c2 = write_config(dir, plan, "n2");
  node_process n1{c1, dir.sub("d1"), fleet_file};
  node_process n2{c2, dir.sub("d2")};
  REQUIRE(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
  nlohmann::json s;
  CHECK(wait_until([&] {
    s = console(n2.first_line, "cluster");
    return s["ok"] == true && s["result"]["peers"][0]["connected"] == true;
  }));
  INFO(s.dump());
  CHECK(s["result"]["role"] == "follower");
  CHECK(s["result"]["leader"] == "n1");
  CHECK(s["result"]["writable"] == false);
  // A proposal given to the follower runs on the leader.
  auto r = console(n2.first_line,
                   "propose idempotency_key=k1 level=4 services=[\"coaster\"] "
                   "regions=[\"north\"] changes=[{\"resource\":\"coaster-north-01\","
                   "\"key\":\"mode\",\"value\":\"slow\"}]");
  INFO(r.dump());
  CHECK(r["ok"] == true);
  CHECK(r["result"]["status"] == "succeeded");
  CHECK(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
  // Reads on the follower say which seq they reflect.
  auto head = test::open_store(dir.sub("d2"))->head().value;
  auto st = console(n2.first_line, "status");
  INFO(st.dump());
  CHECK(st["result"]["cluster"]["role"] == "follower");
  // (at least: the follower's own console accesses, journaled by the leader, come back)
  CHECK(st["result"]["cluster"]["head_seq"].get<uint64_t>() >= head);
  CHECK(st["result"]["cluster"]["writable"] == false);
  CHECK(st["result"]["cluster"]["replication_stopped"] == false);
  CHECK(console(n2.first_line, "grants")["result"]["head_seq"].get<uint64_t>() >= head);
  CHECK(console(n1.first_line, "status")["result"]["cluster"]["role"] == "leader");
  // A level-1 proposal and its approval, both given to the follower, run on the leader.
  auto waiting = std::async(std::launch::async, [&] {
    return console_output(n2.first_line,
                          "propose idempotency_key=k2 level=1 services=[\"coaster\"] "
                          "regions=[\"north\"] changes=[{\"resource\":\"coaster-north-02\","
                          "\"key\":\"mode\",\"value\":\"slow\"}]");
  });
  nlohmann::json pending;
  CHECK(wait_until([&] {
    pending = console(n1.first_line, "proposals");
    return pending["result"].size() == 1;
  }));
  CHECK(console(n2.first_line, "proposals")["result"].empty()); // it waits on the leader
  REQUIRE(pending["result"].size() == 1);
  auto digest = pending["result"][0]["proposal"].get<std::string>();
  auto ap = console(n2.first_line, "approve proposal=" + digest);
  INFO(ap.dump());
  CHECK(ap["ok"] == true);
  CHECK(ap["result"]["seq"].get<uint64_t>() > head);
  REQUIRE(waiting.wait_for(std::chrono::seconds{30}) == std::future_status::ready);
  auto done = waiting.get();
  INFO(done);
  CHECK(done.find("\"status\":\"succeeded\"") != std::string::npos);
  CHECK(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
  // Promotion: terms only grow; the old leader follows the new one.
  auto bad = console(n2.first_line, "cluster-promote term=1");
  CHECK(bad["ok"] == false);
  // The refused promotion's access record reached the follower a moment later: an
  // operator retries on UNAVAILABLE once the follower has caught up.
  nlohmann::json p;
  CHECK(wait_until([&] {
    if (!same_head(dir.sub("d1"), dir.sub("d2")))
      return false;
    p = console(n2.first_line, "cluster-promote term=2");
    return p["ok"] == true || p["error"]["code"] != "UNAVAILABLE";
  }));
  INFO(p.dump());
  CHECK(p["result"]["term"] == 2);
  auto metrics_port = [](const std::string& first_line) {
    auto at = first_line.find("metrics ");
    REQUIRE(at != std::string::npos);
    auto where = first_line.substr(at + 8, first_line.find(',', at) - at - 8);
    return static_cast<uint16_t>(std::stoi(where.substr(where.find(':') + 1)));
  };
  // Until the old leader learns the new term it still writes, and every console command
  // is journaled: a command on it now could write a record the new leader does not have
  // (a fork, rightly raised). So its metrics, which journal nothing, are watched first.
  auto old_port = metrics_port(n1.first_line);
  CHECK(wait_until([&] {
    auto t = http_get(old_port);
    return t.find("bulwark_cluster_term 2") != std::string::npos
           && t.find("bulwark_cluster_leader 0") != std::string::npos;
  }));
  CHECK(wait_until([&] {
    auto x = console(n1.first_line, "cluster");
    return x["result"]["role"] == "follower" && x["result"]["leader"] == "n2";
  }));
  CHECK(console(n2.first_line, "cluster")["result"]["role"] == "leader");
  // The metrics endpoint shows the cluster figures.
  auto port = metrics_port(n2.first_line);
  std::string text;
  // The gauges follow the promotion a moment later.
  CHECK(wait_until([&] {
    text = http_get(port);
    return text.find("bulwark_cluster_term 2") != std::string::npos
           && text.find("bulwark_cluster_peers_connected 1") != std::string::npos;
  }));
  CHECK(text.find("bulwark_cluster_leader 1") != std::string::npos);
  CHECK(text.find("bulwark_cluster_term 2") != std::string::npos);
  CHECK(text.find("bulwark_cluster_integrity_alerts 0") != std::string::npos);
  CHECK(text.find("bulwark_cluster_peers_connected 1") != std::string::npos);
  CHECK(text.find("bulwark_cluster_head_seq ") != std::string::npos);
  CHECK(text.find("bulwark_cluster_alerts_unreported 0") != std::string::npos);
}

namespace {

/// Events of `type` in the journal in `data` (read-only, beside the running node).
size_t count_events(const std::string& data, const std::string& type) {
  auto store = test::open_store(data);
  size_t n = 0;
  auto err = store->read(seq_no{1}, seq_no{UINT64_MAX}, [&](journal_entry&& e) {
    n += to_string(e.ev.type) == type ? 1 : 0;
    return true;
  });
  REQUIRE(!err);
  return n;
}

/// Counts console_access records of `command` that follower `node`'s console gave.
size_t accesses_via(const std::string& data, const std::string& node, const std::string& command) {
  auto store = test::open_store(data);
  size_t n = 0;
  REQUIRE(!store->read(seq_no{1}, seq_no{UINT64_MAX}, [&](journal_entry&& e) {
    console_access x;
    n += e.ev.type == event_type::console_access && !payload_of(e.ev, x)
             && x.command == command && x.remote.rfind(node + " 127.0.0.1:", 0) == 0;
    return true;
  }));
  return n;
}

} // namespace

TEST_CASE("console: mutating commands given to a follower run on the leader, roles kept") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto c1 = write_config(dir, plan, "n1");
  auto c2 = write_config(dir, plan, "n2");
  node_process n1{c1, dir.sub("d1"), fleet_file};
  node_process n2{c2, dir.sub("d2")};
  REQUIRE(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
  REQUIRE(wait_until([&] {
    return console(n2.first_line, "cluster")["result"]["peers"][0]["connected"] == true;
  }));
  // Refusals: the follower answers exactly as the leader does to the same session.
  auto same = [&](const std::string& cmd, const std::string& token) {
    auto a = console(n2.first_line, cmd, token);
    auto b = console(n1.first_line, cmd, token);
    INFO(cmd << " as " << token << ": " << a.dump() << " / " << b.dump());
    CHECK(a["ok"] == false);
    CHECK(a["error"]["code"] == b["error"]["code"]);
    CHECK(a["error"]["message"] == b["error"]["message"]);
    return a["error"]["code"];
  };
  auto e64 = std::string(64, 'e');
  CHECK(same("halt reason=drill", "view-token") == "AUTHORITY_DENIED");
  CHECK(same("halt reason=drill", "ops-token") == "AUTHORITY_DENIED");
  CHECK(same("halt reason=drill", "lead-token") == "AUTHORITY_DENIED"); // not an authority admin
  CHECK(same("grant principal=ops level=2", "lead-token") == "AUTHORITY_DENIED");
  CHECK(same("breaker-force service=coaster state=open", "lead-token") == "AUTHORITY_DENIED");
  CHECK(same("deny proposal=" + e64, "view-token") == "AUTHORITY_DENIED");
  CHECK(same("approve proposal=" + e64, "ops-token") == "INVALID_INPUT"); // nothing waits
  CHECK(same("promote candidate=" + std::string(64, 'd'), "ops-token") != nullptr);
  CHECK(same("rollback seqs=[1]", "ops-token") != nullptr);
  CHECK(same("requeue letter=999999", "ops-token") != nullptr);
  CHECK(same("discard letter=999999", "view-token") == "AUTHORITY_DENIED");
  CHECK(same("breaker-force service=teacups state=open", "root-token") == "INVALID_INPUT");
  CHECK(count_events(dir.sub("d1"), "halt_engaged") == 0);
  CHECK(count_events(dir.sub("d1"), "grant_changed") == 0);
  // An admin session on the follower: halt, release, grant and breaker overrides run on the
  // leader, and its journal, replicated back, holds each once.
  auto h = console(n2.first_line, "halt reason=drill");
  INFO(h.dump());
  CHECK(h["ok"] == true);
  CHECK(h["result"]["seq"].get<uint64_t>() > 0);
  CHECK(wait_until([&] { return console(n2.first_line, "grants")["result"]["halted"] == true; }));
  CHECK(console(n1.first_line, "grants")["result"]["halted"] == true);
  CHECK(console(n2.first_line, "release reason=over")["ok"] == true);
  auto g = console(n2.first_line, "grant principal=ops level=2");
  CHECK(g["ok"] == true);
  auto bf = console(n2.first_line, "breaker-force service=coaster state=open");
  INFO(bf.dump());
  CHECK(bf["result"]["state"] == "forced-open");
  auto breakers = console(n1.first_line, "breakers")["result"];
  bool forced = false;
  for (auto& b : breakers)
    forced |= b["service"] == "coaster" && b["state"] == "forced-open";
  CHECK(forced);
  CHECK(console(n2.first_line, "breaker-release service=coaster")["ok"] == true);
  CHECK(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
  for (auto d : {"d1", "d2"}) {
    CHECK(count_events(dir.sub(d), "halt_engaged") == 1);
    CHECK(count_events(dir.sub(d), "halt_released") == 1);
    CHECK(count_events(dir.sub(d), "grant_changed") == 1);
  }
  CHECK(console(n2.first_line, "grants")["result"]["journaled"]["ops"]["level"] == 2);
  // The follower's console trail, refusals included, is journaled by the leader under the
  // follower's id and replicated back: four sessions asked n2 to halt.
  CHECK(wait_until([&] { return accesses_via(dir.sub("d1"), "n2", "halt") == 4; }));
  CHECK(wait_until([&] { return accesses_via(dir.sub("d2"), "n2", "halt") == 4; }));
  CHECK(accesses_via(dir.sub("d1"), "n2", "auth") >= 4);
  // The leader gone: the follower refuses with UNAVAILABLE and retry_after, changes nothing.
  n1.stop(SIGTERM);
  CHECK(wait_until([&] {
    return console(n2.first_line, "cluster")["result"]["peers"][0]["connected"] == false;
  }));
  for (auto cmd : {"halt reason=drill", "grant principal=ops level=1",
                   "breaker-force service=coaster state=open"}) {
    auto u = console(n2.first_line, cmd);
    INFO(cmd << ": " << u.dump());
    CHECK(u["error"]["code"] == "UNAVAILABLE");
    CHECK(u["error"]["retry_after"].is_number());
  }
  CHECK(count_events(dir.sub("d2"), "halt_engaged") == 1);
  CHECK(count_events(dir.sub("d2"), "grant_changed") == 1);
  CHECK(console(n2.first_line, "grants")["ok"] == true); // reads go on
  // Its console's accesses wait for the leader, counted in `cluster`.
  CHECK(console(n2.first_line, "cluster")["result"]["access_unreported"].get<uint64_t>() > 0);
}
