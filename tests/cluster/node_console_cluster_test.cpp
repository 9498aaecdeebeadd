// Real `bulwark node` processes in a cluster, driven through their consoles (on both roles):
// routing, promotion, min_followers with a stopped follower, and a follower's pull in
// flight to a leader that dies.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cluster/cluster_processes.hpp"
#include "integration/node_process.hpp"
#include "persistence/make_event.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_plan;
using bulwark::test::processes::bulwark_bin;
using bulwark::test::processes::fleet_file;
using bulwark::test::processes::metrics_port;
using bulwark::test::processes::node_process;
using bulwark::test::processes::same_head;
using bulwark::test::processes::write_config;
using bulwark::test::run_command;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;

namespace {

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

/// GET /metrics on 127.0.0.1:port; the whole response.
std::string metrics_of(uint16_t port) {
  return test::client{port}.http_get("/metrics");
}

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
  // Until the old leader learns the new term it still writes, and every console command
  // is journaled: a command on it now could write a record the new leader does not have
  // (a fork, rightly raised). So its metrics, which journal nothing, are watched first.
  auto old_port = metrics_port(n1.first_line);
  CHECK(wait_until([&] {
    auto t = metrics_of(old_port);
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
    text = metrics_of(port);
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

TEST_CASE("a stopped follower counts toward min_followers no more: the leader refuses writes until it runs again") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto c1 = write_config(dir, plan, "n1");
  {
    std::ifstream in{c1};
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    text.replace(text.find("[cluster]\n"), 10, "[cluster]\nmin_followers = 1\n");
    std::ofstream{c1} << text;
  }
  auto c2 = write_config(dir, plan, "n2");
  node_process n1{c1, dir.sub("d1"), fleet_file};
  node_process n2{c2, dir.sub("d2")};
  auto grant = [&](int level) {
    return console(n1.first_line, "grant principal=ops level=" + std::to_string(level));
  };
  REQUIRE(wait_until([&] { return grant(2)["ok"] == true; }));
  // SIGSTOP keeps its connection open: only its silence tells.
  REQUIRE(::kill(n2.pid, SIGSTOP) == 0);
  nlohmann::json refused;
  CHECK(wait_until([&] {
    refused = grant(1);
    return refused["ok"] == false;
  }, std::chrono::seconds{20}));
  INFO(refused.dump());
  CHECK(refused["error"]["code"] == "UNAVAILABLE");
  CHECK(refused["error"]["message"].get<std::string>().find("fewer than 1 followers")
        != std::string::npos);
  auto peer_of_n1 = [&] { return console(n1.first_line, "cluster")["result"]["peers"][0]; };
  CHECK(peer_of_n1()["connected"] == true);
  CHECK(peer_of_n1()["in_step"] == false);
  REQUIRE(::kill(n2.pid, SIGCONT) == 0);
  CHECK(wait_until([&] { return grant(3)["ok"] == true; }));
  CHECK(peer_of_n1()["in_step"] == true);
  CHECK(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
}

TEST_CASE("a follower abandons its pull in flight to a leader that dies, and follows the promoted one") {
  temp_dir dir;
  auto plan = cluster_plan::make(3);
  auto c1 = write_config(dir, plan, "n1");
  auto c2 = write_config(dir, plan, "n2");
  auto c3 = write_config(dir, plan, "n3");
  node_process n1{c1, dir.sub("d1"), fleet_file};
  node_process n2{c2, dir.sub("d2")};
  node_process n3{c3, dir.sub("d3")};
  REQUIRE(wait_until([&] {
    return same_head(dir.sub("d1"), dir.sub("d2")) && same_head(dir.sub("d1"), dir.sub("d3"));
  }));
  // Stopped, the leader answers no pull: n3's next one waits. Killed, its connection drops.
  REQUIRE(::kill(n1.pid, SIGSTOP) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  n1.stop(SIGKILL);
  auto log3 = [&] {
    std::ifstream log{dir.sub("d3") + ".log"};
    return std::string{std::istreambuf_iterator<char>{log}, {}};
  };
  CHECK(wait_until([&] {
    return log3().find("abandoned the pull in flight to n1") != std::string::npos;
  }));
  nlohmann::json p;
  CHECK(wait_until([&] {
    p = console(n2.first_line, "cluster-promote term=2");
    return p["ok"] == true || p["error"]["code"] != "UNAVAILABLE";
  }));
  INFO(p.dump());
  REQUIRE(p["ok"] == true);
  CHECK(console(n2.first_line, "grant principal=ops level=2")["ok"] == true);
  CHECK(wait_until([&] { return same_head(dir.sub("d2"), dir.sub("d3")); }));
  auto s3 = console(n3.first_line, "cluster")["result"];
  CHECK(s3["leader"] == "n2");
  CHECK(s3["term"] == 2);
}
