// A console client that repeats a request under its idempotency key learns the first
// outcome: after a lost answer, after a restart of the node, and when the repeat was
// rate-limited. The deadline (`timeout_ms`) is not part of a request's content.

#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "integration/node_process.hpp"

using json = nlohmann::json;
using bulwark::test::client;
using bulwark::test::node_process;

namespace {

json propose(int id, const std::string& key, int timeout_ms) {
  return {{"id", id},
          {"cmd", "propose"},
          {"args",
           {{"idempotency_key", key},
            {"level", 4},
            {"services", {"gates"}},
            {"regions", {"north"}},
            {"changes", {{{"resource", "gates-north-01"}, {"key", "mode"}, {"value", "closed"}}}},
            {"timeout_ms", timeout_ms}}}};
}

/// The `proposal_decided` records the journal holds for `digest`.
size_t decisions_of(client& c, const std::string& digest) {
  auto page = c.call({{"id", 900},
                      {"cmd", "log"},
                      {"args", {{"type", "proposal_decided"}, {"proposal", digest}}}});
  REQUIRE_MESSAGE(page["ok"] == true, page.dump());
  return page["result"]["events"].size();
}

} // namespace

TEST_CASE("a repeated request gets the first outcome: after a lost answer and a restart") {
  node_process node;
  std::string digest;
  uint64_t decided_seq = 0;
  {
    // The first client sends its proposal and goes away before the answer.
    client lost{node.port};
    REQUIRE(lost.auth("operator-token")["ok"] == true);
    lost.send_raw(propose(1, "lost-answer", 30000).dump() + "\n");
  }
  client c{node.port};
  REQUIRE(c.auth("operator-token")["ok"] == true);
  // The repeat, with another timeout (so another deadline): the same proposal.
  auto again = c.call(propose(2, "lost-answer", 20000));
  REQUIRE_MESSAGE(again["ok"] == true, again.dump());
  CHECK(again["id"] == 2);
  CHECK(again["result"]["status"] == "succeeded");
  digest = again["result"]["proposal"].get<std::string>();
  decided_seq = again["result"]["decided_seq"].get<uint64_t>();
  auto third = c.call(propose(3, "lost-answer", 30000));
  CHECK(third["result"]["proposal"] == digest);
  CHECK(third["result"]["decided_seq"] == decided_seq);
  CHECK(decisions_of(c, digest) == 1);

  // Other content under the used key is refused, naming the key.
  auto other = propose(4, "lost-answer", 30000);
  other["args"]["changes"][0]["value"] = "open";
  auto clash = c.call(other);
  CHECK(clash["ok"] == false);
  CHECK(clash["id"] == 4);
  CHECK(clash["error"]["code"] == "INVALID_INPUT");
  CHECK(clash["error"]["message"].get<std::string>().find("lost-answer") != std::string::npos);

  node.restart();
  client after{node.port};
  REQUIRE(after.auth("operator-token")["ok"] == true);
  auto repeat = after.call(propose(5, "lost-answer", 45000));
  REQUIRE_MESSAGE(repeat["ok"] == true, repeat.dump());
  CHECK(repeat["result"]["proposal"] == digest);
  CHECK(repeat["result"]["decided_seq"] == decided_seq);
  CHECK(repeat["result"]["status"] == "succeeded");
  CHECK(decisions_of(after, digest) == 1);
}

TEST_CASE("repeats past the rate limit: each answer names its id, one decision in all") {
  node_process node;
  client c{node.port};
  REQUIRE(c.auth("operator-token")["ok"] == true);
  // More repeats in one write than the connection's burst (1000).
  const int n = 1100;
  std::string lines;
  for (int id = 1; id <= n; ++id)
    lines += propose(id, "burst", 30000 + id).dump() + "\n";
  c.send_raw(lines);
  std::set<std::string> digests;
  std::set<int> ids;
  int limited = 0;
  while (ids.size() < static_cast<size_t>(n)) {
    auto msg = c.read(std::chrono::seconds{30});
    REQUIRE_MESSAGE(!msg.is_null(), "answers stopped after " << ids.size());
    if (msg.contains("event"))
      continue;
    REQUIRE(msg["id"].is_number_integer());
    ids.insert(msg["id"].get<int>());
    if (msg["ok"] == true) {
      digests.insert(msg["result"]["proposal"].get<std::string>());
      CHECK(msg["result"]["status"] == "succeeded");
    } else {
      REQUIRE_MESSAGE(msg["error"]["code"] == "RATE_LIMITED", msg.dump());
      CHECK(msg["error"]["retry_after"].is_number());
      ++limited;
    }
  }
  CHECK(limited > 0);
  REQUIRE(digests.size() == 1);
  // A refused repeat, sent again once the rate allows, gets the same outcome.
  json repeat;
  for (int i = 0; i < 100; ++i) {
    repeat = c.call(propose(n + 1, "burst", 10000));
    if (repeat["ok"] == true || repeat["error"]["code"] != "RATE_LIMITED")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  REQUIRE_MESSAGE(repeat["ok"] == true, repeat.dump());
  CHECK(repeat["result"]["proposal"] == *digests.begin());
  CHECK(decisions_of(c, *digests.begin()) == 1);
}
