// Event types 35-37 (peer_changed, integrity_alert, leadership_changed): payloads encode
// and decode, pass check_payload, render as JSON, and change no projected state.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "actors/cluster/cluster_policy.hpp"
#include "messages/error.hpp"
#include "persistence/event_json.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"

using namespace bulwark;

namespace {

caf::timestamp t0() {
  return caf::timestamp{std::chrono::nanoseconds{1'700'000'000'000'000'000}};
}

digest filled(uint8_t b) {
  digest d;
  d.bytes.fill(b);
  return d;
}

} // namespace

TEST_CASE("cluster events pass check_payload, render as JSON and leave the state alone") {
  std::vector<event> events{
    make_event(event_type::peer_changed, t0(), peer_changed{"n2", true, "handshake passed",
                                                            seq_no{7}}),
    make_event(event_type::integrity_alert, t0(),
               integrity_alert{"n1", "n2", seq_no{100}, filled(1), filled(2), "fork"}),
    make_event(event_type::leadership_changed, t0(), leadership_changed{"n2", 3, "n1", "admin"}),
  };
  projection p;
  auto before = p.state();
  uint64_t seq = 0;
  for (auto& ev : events) {
    CHECK(!check_payload(ev));
    CHECK(!p.apply(seq_no{++seq}, ev));
  }
  CHECK(p.state().resources.size() == before.resources.size());
  CHECK(p.state().halted == before.halted);
  CHECK(p.state().proposals.size() == before.proposals.size());
  CHECK(p.state().counts.at(35) == 1);
  CHECK(p.state().counts.at(36) == 1);
  auto j = to_json(journal_entry{seq_no{2}, digest{}, events[1]});
  CHECK(j["type"] == "integrity_alert");
  CHECK(j["payload"]["peer_node"] == "n2");
  CHECK(j["payload"]["seq"] == 100);
  CHECK(j["payload"]["peer_chain"] == to_hex(filled(2)));
  auto k = to_json(journal_entry{seq_no{3}, digest{}, events[2]});
  CHECK(k["payload"]["term"] == 3);
  CHECK(k["payload"]["previous"] == "n1");
  // A truncated payload is refused before it could reach the journal.
  auto bad = events[0];
  bad.payload.resize(3);
  CHECK(is(check_payload(bad), ec::invalid_input));
}

TEST_CASE("cluster configuration errors name the key") {
  cluster_config cfg;
  cfg.node_id = "n1";
  cfg.cluster_id = "c";
  cfg.leader = "n1";
  cfg.peers = {{"n2", "127.0.0.1", 7001}, {"n3", "127.0.0.1", 7002}};
  CHECK(!check_config(cfg));
  auto refused = [](cluster_config c, const std::string& key) {
    auto err = check_config(c);
    CHECK(is(err, ec::invalid_input));
    CHECK(describe(err).message.find("cluster." + key) != std::string::npos);
  };
  auto c = cfg;
  c.node_id = "a b";
  refused(c, "node_id");
  c = cfg;
  c.cluster_id = "";
  refused(c, "cluster_id");
  c = cfg;
  c.leader = "n9";
  refused(c, "leader");
  c = cfg;
  c.peers.push_back({"n2", "127.0.0.1", 7003});
  refused(c, "peers");
  c = cfg;
  c.peers.push_back({"n1", "127.0.0.1", 7003});
  refused(c, "peers"); // itself as a peer
  c = cfg;
  c.peers[0].port = 0;
  refused(c, "peers");
  c = cfg;
  c.min_followers = 3;
  refused(c, "min_followers");
  c = cfg;
  c.sync_followers = 3; // more than the two peers: it could never be met
  refused(c, "sync_followers");
  c = cfg;
  c.sync_followers = 2;
  CHECK(!check_config(c)); // every peer may be a sync follower
  c = cfg;
  c.term = 0;
  refused(c, "term");
}

TEST_CASE("handshake: protocol, cluster id and node id are checked, with the reason") {
  cluster_config cfg;
  cfg.node_id = "n1";
  cfg.cluster_id = "park";
  cfg.leader = "n1";
  cfg.peers = {{"n2", "127.0.0.1", 7001}};
  auto hello = cluster_hello{cluster_protocol_version, "park", "n2", 1, "n1"};
  CHECK(!check_hello(cfg, hello));
  std::string n2 = "n2", n3 = "n3";
  CHECK(!check_hello(cfg, hello, &n2));
  auto msg = [&](cluster_hello h, const std::string* expected = nullptr) {
    auto err = check_hello(cfg, h, expected);
    CHECK(is(err, ec::invalid_input));
    return describe(err).message;
  };
  CHECK(msg(hello, &n3).find("says it is n2") != std::string::npos);
  auto h = hello;
  h.protocol = 99;
  CHECK(msg(h).find("protocol 99") != std::string::npos);
  h = hello;
  h.cluster_id = "other";
  CHECK(msg(h).find("belongs to cluster \"other\"") != std::string::npos);
  h = hello;
  h.node_id = "n7";
  CHECK(msg(h).find("unknown node id") != std::string::npos);
}

TEST_CASE("reconnect backoff doubles from the base up to the cap") {
  cluster_config cfg;
  cfg.backoff_base = std::chrono::milliseconds{100};
  cfg.backoff_cap = std::chrono::milliseconds{1000};
  CHECK(reconnect_backoff(cfg, 1) == std::chrono::milliseconds{100});
  CHECK(reconnect_backoff(cfg, 2) == std::chrono::milliseconds{200});
  CHECK(reconnect_backoff(cfg, 4) == std::chrono::milliseconds{800});
  CHECK(reconnect_backoff(cfg, 5) == std::chrono::milliseconds{1000});
  CHECK(reconnect_backoff(cfg, 60) == std::chrono::milliseconds{1000});
}

TEST_CASE("a peer head agrees, is ahead, or is a fork") {
  signed_head h;
  h.seq = seq_no{5};
  h.chain = filled(5);
  CHECK(compare_head(h, filled(5)) == head_verdict::agrees);
  CHECK(compare_head(h, filled(6)) == head_verdict::fork);
  CHECK(compare_head(h, caf::none) == head_verdict::ahead);
}

TEST_CASE("a promotion passes over silent peers only when the followers that answered hold every acknowledged record") {
  cluster_config cfg;
  cfg.node_id = "n2";
  cfg.leader = "n1";
  for (auto id : {"n1", "n3", "n4", "n5"})
    cfg.peers.push_back({id, "127.0.0.1", 7000});
  // Five nodes, n1 the old leader: four followers, n2 (this node) among them.
  cfg.sync_followers = 0;
  CHECK(!answered_cover_acknowledged(cfg, "n1", {"n3", "n4", "n5"})); // async: never
  cfg.sync_followers = 1; // each acknowledged record on 1 of 4: all four must answer
  CHECK(answered_cover_acknowledged(cfg, "n1", {"n3", "n4", "n5"}));
  CHECK(!answered_cover_acknowledged(cfg, "n1", {"n3", "n4"}));
  cfg.sync_followers = 2; // on 2 of 4: any three of them
  CHECK(answered_cover_acknowledged(cfg, "n1", {"n3", "n4"}));
  CHECK(!answered_cover_acknowledged(cfg, "n1", {"n3"}));
  // The old leader answering counts for nothing: it is not one of its followers.
  CHECK(!answered_cover_acknowledged(cfg, "n1", {"n1", "n3"}));
  cfg.sync_followers = 4; // on every follower: this node alone holds them all
  CHECK(answered_cover_acknowledged(cfg, "n1", {}));
}
