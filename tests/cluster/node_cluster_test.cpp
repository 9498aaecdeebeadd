// Real `bulwark node` processes forming a cluster on 127.0.0.1: three nodes replicate and
// end with equal heads and state digests; a follower killed with SIGKILL and restarted
// catches up; a follower journal tampered on disk is refused at its next start; a follower
// started with --fleet before its leader starts and registers the fleet once the leader
// answers; garbage sent to a node's cluster port is dropped while the node keeps serving.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cluster/cluster_processes.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::cluster_plan;
using bulwark::test::processes::bulwark_bin;
using bulwark::test::processes::fleet_file;
using bulwark::test::processes::node_process;
using bulwark::test::processes::replay_json;
using bulwark::test::processes::same_head;
using bulwark::test::processes::write_config;
using bulwark::test::run_command;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;


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
    // Nothing lost (it may have caught up with the leader already); nothing extra: its
    // head becomes the leader's, chain included.
    CHECK(replay_json(dir.sub("d2"))["seq"].get<uint64_t>() >= killed_at.get<uint64_t>());
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

TEST_CASE("a follower started with --fleet while its leader is down starts, waits, and registers the fleet once the leader answers") {
  temp_dir dir;
  auto plan = cluster_plan::make(2);
  auto c1 = write_config(dir, plan, "n1");
  auto c2 = write_config(dir, plan, "n2");
  auto log_of = [&](const std::string& name) {
    std::ifstream log{dir.sub(name) + ".log"};
    return std::string{std::istreambuf_iterator<char>{log}, {}};
  };
  node_process n2{c2, dir.sub("d2"), fleet_file}; // the leader (n1) is not running
  REQUIRE_MESSAGE(n2.first_line.find("cluster n2") != std::string::npos, n2.first_line);
  CHECK(log_of("d2").find("the leader does not take writes yet (unreachable, or short of "
                          "followers in step): 400 of the 400 resources")
        != std::string::npos);
  CHECK(replay_json(dir.sub("d2"))["resources"] == 0);
  node_process n1{c1, dir.sub("d1")}; // without a fleet of its own
  REQUIRE_MESSAGE(n1.first_line.find("cluster n1") != std::string::npos, n1.first_line);
  CHECK(wait_until([&] { return replay_json(dir.sub("d1"))["resources"] == 400; }));
  CHECK(wait_until([&] { return same_head(dir.sub("d1"), dir.sub("d2")); }));
  CHECK(wait_until([&] {
    return log_of("d2").find("the 400 resources of") != std::string::npos;
  }));
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

