// History queries on a real node over a journal of 200,000 records: progress events while
// a query reads, the bounded queue (OVERLOADED), a query over its time (TIMEOUT) and one
// whose connection closed (cancelled), each with its operational event in the journal.

#include <doctest/doctest.h>

#include "integration/node_process.hpp"
#include "persistence/journal_store.hpp"
#include "support/journal_fixture.hpp"

using namespace bulwark;
using namespace bulwark::test;

namespace {

constexpr size_t records = 200000;

/// Writes `records` seeded events into a new journal at `dir`, 20,000 per transaction.
void big_journal(const std::string& dir) {
  auto store = open_store(dir);
  auto events = random_events(11, records, 40);
  for (size_t i = 0; i < events.size(); i += 20000) {
    std::vector<event> batch(events.begin() + static_cast<std::ptrdiff_t>(i),
                             events.begin() + static_cast<std::ptrdiff_t>(i + 20000));
    REQUIRE(store->append(std::move(batch)));
  }
}

json log_line(int id, json args) {
  return {{"id", id}, {"cmd", "log"}, {"args", std::move(args)}};
}

} // namespace

TEST_CASE("node: a history query over 200,000 records streams progress events, then its page") {
  node_process node{"history_threads = 1\nhistory_queue = 1\n", false, big_journal};
  client c{node.port};
  REQUIRE(c.auth("viewer-token")["ok"] == true);
  c.send_raw(log_line(1, {{"principal", "nobody"}}).dump() + "\n");
  std::vector<json> progress;
  json answer;
  for (;;) {
    auto msg = c.read(60s);
    REQUIRE(msg.is_object());
    if (msg.contains("event")) {
      CHECK(msg["event"] == "progress");
      CHECK(msg["data"]["id"] == 1);
      progress.push_back(msg["data"]);
      continue;
    }
    answer = msg;
    break;
  }
  REQUIRE(answer["ok"] == true);
  auto head = answer["result"]["head"].get<uint64_t>();
  CHECK(head >= records);
  CHECK(answer["result"]["events"].empty());
  CHECK(answer["result"]["next"].is_null());
  CHECK(answer["result"]["scanned"] == head);
  REQUIRE(progress.size() == head / 50000);
  for (size_t i = 0; i < progress.size(); ++i) {
    CHECK(progress[i]["done"] == (i + 1) * 50000);
    CHECK(progress[i]["total"] == head);
    CHECK(progress[i]["matched"] == 0);
  }
}

TEST_CASE("node: with one reader and a queue of one, queries beyond it at once are OVERLOADED") {
  node_process node{"history_threads = 1\nhistory_queue = 1\n", false, big_journal};
  client c{node.port};
  REQUIRE(c.auth("viewer-token")["ok"] == true);
  // Four queries in one write: the first is accepted (it waits for the reader, then reads
  // every record); while the queue holds one, the next find it full. A query of a subject
  // reads 200,000 payloads: milliseconds of work against the microseconds between lines.
  std::string lines;
  for (int id = 1; id <= 4; ++id)
    lines += log_line(id, {{"resource", "nothing-" + std::to_string(id)}}).dump() + "\n";
  c.send_raw(lines);
  int ok = 0, overloaded = 0;
  while (ok + overloaded < 4) {
    auto msg = c.read(60s);
    REQUIRE(msg.is_object());
    if (msg.contains("event"))
      continue;
    if (msg["ok"] == true) {
      ++ok;
    } else {
      CHECK(msg["error"]["code"] == "OVERLOADED");
      CHECK(msg["error"]["retry_after"] == 1000);
      ++overloaded;
    }
  }
  CHECK(ok >= 1);
  CHECK(overloaded >= 1);
  // A freed reader takes queries again.
  auto again = c.call(log_line(5, {{"from", 1}, {"to", 3}}));
  CHECK(again["ok"] == true);
  CHECK(again["result"]["events"].size() == 3);
}

TEST_CASE("node: a query over its time ends TIMEOUT and is journaled as an operational event") {
  node_process node{"history_timeout_ms = 1\n", false, big_journal};
  client watcher{node.port}, c{node.port};
  REQUIRE(watcher.auth("viewer-token")["ok"] == true);
  REQUIRE(watcher.call({{"id", 1}, {"cmd", "subscribe"}})["ok"] == true);
  REQUIRE(c.auth("viewer-token")["ok"] == true);
  // 200,000 payloads cannot be searched within 1 ms: the deadline is checked every 1,024.
  auto answer = c.call(log_line(2, {{"principal", "nobody"}}));
  REQUIRE(answer["ok"] == false);
  CHECK(answer["error"]["code"] == "TIMEOUT");
  CHECK(answer["error"]["retry_after"] == 1000);
  auto message = answer["error"]["message"].get<std::string>();
  CHECK_MESSAGE(message.find("history query timed out (1 ms) after ") == 0, message);
  // The operational event: a console_access record of `log` naming the timeout.
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    auto msg = watcher.read(10s);
    REQUIRE(msg.is_object());
    if (msg.value("event", "") != "committed")
      continue;
    auto& e = msg["data"];
    if (e["type"] == "console_access" && e["payload"]["command"] == "log"
        && e["payload"]["detail"].get<std::string>().find("history query timed out") == 0) {
      CHECK(e["payload"]["principal"] == "watch");
      seen = true;
    }
  }
  CHECK(seen);
}

TEST_CASE("node: a query whose connection closes is cancelled and journaled as such") {
  node_process node{"history_threads = 1\n", false, big_journal};
  client watcher{node.port};
  REQUIRE(watcher.auth("viewer-token")["ok"] == true);
  REQUIRE(watcher.call({{"id", 1}, {"cmd", "subscribe"}})["ok"] == true);
  {
    client c{node.port};
    REQUIRE(c.auth("viewer-token")["ok"] == true);
    // A query that reads 200,000 payloads, then the connection closes at once.
    c.send_raw(log_line(2, {{"principal", "nobody"}}).dump() + "\n");
  }
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    auto msg = watcher.read(10s);
    REQUIRE(msg.is_object());
    if (msg.value("event", "") != "committed")
      continue;
    auto& e = msg["data"];
    if (e["type"] == "console_access" && e["payload"]["command"] == "log"
        && e["payload"]["detail"].get<std::string>().find("history query cancelled after ") == 0)
      seen = true;
  }
  CHECK(seen);
}
