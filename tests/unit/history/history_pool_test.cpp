// The console's history readers: the queue bound (OVERLOADED), deadlines counted from
// acceptance, cancellation when a connection goes away; and `log`'s arguments from the
// console and from GET /v1/events.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "actors/console/console_impl.hpp"
#include "actors/console/history_pool.hpp"
#include "actors/http/http_routes.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

/// A job that holds its reader until `open()`.
struct holder {
  std::mutex m;
  std::condition_variable cv;
  bool opened = false;
  std::atomic<int> entered{0};
  void wait() {
    ++entered;
    std::unique_lock<std::mutex> g{m};
    cv.wait(g, [this] { return opened; });
  }
  void open() {
    {
      std::lock_guard<std::mutex> g{m};
      opened = true;
    }
    cv.notify_all();
  }
  void until_entered(int n) {
    while (entered.load() < n)
      std::this_thread::yield();
  }
};

} // namespace

TEST_CASE("history pool: a full queue refuses the next query, a freed slot takes one again") {
  holder g;
  std::atomic<int> ran{0};
  history_pool pool{1, 2};
  auto busy = pool.submit([&](history_ticket&) { g.wait(); ++ran; }, 60s);
  REQUIRE(busy);
  g.until_entered(1); // the one reader is busy
  CHECK(pool.submit([&](history_ticket&) { ++ran; }, 60s));
  CHECK(pool.submit([&](history_ticket&) { ++ran; }, 60s));
  CHECK(pool.waiting() == 2);
  CHECK_FALSE(pool.submit([&](history_ticket&) { ++ran; }, 60s)); // the bound
  CHECK(pool.waiting() == 2);
  g.open();
  while (ran.load() < 3)
    std::this_thread::yield();
  CHECK(busy->finished);
  auto again = pool.submit([&](history_ticket&) { ++ran; }, 60s);
  CHECK(again);
  while (ran.load() < 4)
    std::this_thread::yield();
  CHECK(ran.load() == 4);
}

TEST_CASE("history pool: the deadline counts from acceptance, so a query that waited too long "
          "stops at once") {
  holder g;
  history_pool pool{1, 4};
  REQUIRE(pool.submit([&](history_ticket&) { g.wait(); }, 60s));
  g.until_entered(1);
  std::atomic<int> reason{-1};
  auto t = pool.submit([&](history_ticket& ticket) { reason = ticket.stop_reason(); }, 1ms);
  REQUIRE(t);
  std::this_thread::sleep_for(20ms); // past its deadline while it waits for the reader
  g.open();
  while (reason.load() < 0)
    std::this_thread::yield();
  CHECK(reason.load() == 1); // timed out
}

TEST_CASE("history pool: a connection that goes away cancels its queries") {
  holder g;
  history_pool pool{1, 4};
  REQUIRE(pool.submit([&](history_ticket&) { g.wait(); }, 60s));
  g.until_entered(1);
  std::atomic<int> reason{-1};
  {
    history_tickets conn;
    auto t = pool.submit([&](history_ticket& ticket) { reason = ticket.stop_reason(); }, 60s);
    REQUIRE(t);
    conn.add(t);
    CHECK(t->stop_reason() == 0);
  } // the connection's tickets are destroyed with it
  g.open();
  while (reason.load() < 0)
    std::this_thread::yield();
  CHECK(reason.load() == 2); // cancelled
}

TEST_CASE("history pool: finished tickets are forgotten by their connection") {
  history_pool pool{1, 4};
  std::shared_ptr<history_ticket> done, open;
  holder g;
  {
    history_tickets conn;
    done = pool.submit([](history_ticket&) {}, 60s);
    REQUIRE(done);
    conn.add(done);
    while (!done->finished)
      std::this_thread::yield();
    open = pool.submit([&](history_ticket&) { g.wait(); }, 60s);
    REQUIRE(open);
    conn.add(open);
    conn.prune();
  }
  CHECK_FALSE(done->cancelled); // forgotten: the connection's end does not touch it
  CHECK(open->cancelled);       // still running: cancelled with its connection
  g.open();
}

TEST_CASE("console log: arguments by name, numbers or text, type as a list, bad ones refused") {
  console_request req;
  console_refusal why;
  history_filter f;
  req.cmd = "log";
  req.id = 7;
  req.args = {{"from", 5}, {"to", "9"}, {"type", {"grant_changed", "halt_engaged"}},
              {"principal", "alice"}, {"limit", 50}};
  REQUIRE(console_detail::parse_log_args(req, f, why));
  CHECK(f.from == 5);
  CHECK(f.to == 9);
  CHECK(f.types.count() == 2);
  CHECK(f.principal == "alice");
  CHECK(f.limit == 50);

  auto refused = [&](nlohmann::json args, const std::string& says) {
    history_filter g;
    g.from = 3;
    req.args = std::move(args);
    CHECK_FALSE(console_detail::parse_log_args(req, g, why));
    CHECK(why.code == ec::invalid_input);
    CHECK(why.id == 7);
    CHECK_MESSAGE(why.message.find(says) != std::string::npos, why.message);
    CHECK(g.from == 3); // unchanged
  };
  refused({{"from", 10}, {"to", 2}}, "inverted range: from 10 is after to 2");
  refused({{"since", "2026-12-06T08:00:00Z"}, {"until", "2026-12-06T07:00:00Z"}},
          "inverted range: since is after until");
  refused({{"type", "bogus"}}, "unknown event type 'bogus'");
  refused({{"type", {"grant_changed", 3}}}, "args.type must be a string or a number");
  refused({{"limit", 1000000}}, "limit must be 1 to 10000");
  refused({{"from", -1}}, "args.from must be a string or a number");
  refused({{"colour", "red"}}, "log: unknown argument 'colour'");
  // Every name the console knows is one the shared parser knows.
  for (auto* name : console_detail::log_arg_names) {
    history_filter g;
    std::string text;
    CHECK_MESSAGE(!set_history_arg(g, name, "", text), name);
    CHECK_MESSAGE(text.find("unknown argument") == std::string::npos, name);
  }
}

TEST_CASE("GET /v1/events: every query parameter becomes log's argument, unknown ones refused") {
  const http_route* route = nullptr;
  for (auto& r : http_routes())
    if (r.method == "GET" && r.path == "/v1/events")
      route = &r;
  REQUIRE(route);
  console_request req;
  console_refusal why;
  REQUIRE(http_request(*route, "", {{"from", "3"}, {"type", "grant_changed"},
                                    {"service", "gates"}, {"since", "2026-12-06T07:00:00Z"}},
                       "", req, why));
  CHECK(req.cmd == "log");
  CHECK(req.args["from"] == 3);
  CHECK(req.args["type"] == "grant_changed");
  CHECK(req.args["service"] == "gates");
  CHECK(req.args["limit"] == 1000); // the HTTP page when none is asked for
  REQUIRE(http_request(*route, "", {{"limit", "10000"}}, "", req, why));
  CHECK(req.args["limit"] == 10000);
  CHECK_FALSE(http_request(*route, "", {{"form", "3"}}, "", req, why));
  CHECK(why.message == "unknown query parameter 'form'");
}

TEST_CASE("console log: a page, a timeout and a cancellation each answer as documented") {
  history_filter f;
  f.from = 40;
  history_page page;
  page.head = 900;
  page.total = 861;
  page.scanned = 120;
  page.next = 160;
  journal_entry e;
  e.seq = seq_no{41};
  page.events.push_back(e);
  auto ok = console_detail::log_answer(3, f, page, 0, 5000ms);
  CHECK(ok.stop_detail.empty());
  auto answer = nlohmann::json::parse(ok.line);
  CHECK(answer["ok"] == true);
  CHECK(answer["result"]["events"].size() == 1);
  CHECK(answer["result"]["next"] == 160);
  CHECK(answer["result"]["scanned"] == 120);
  CHECK(answer["result"]["total"] == 861);

  page.stopped = true;
  auto late = console_detail::log_answer(3, f, page, 1, 5000ms);
  CHECK(late.stop_detail
        == "history query timed out (5000 ms) after 120 of 861 records from seq 40");
  auto error = nlohmann::json::parse(late.line)["error"];
  CHECK(error["code"] == "TIMEOUT");
  CHECK(error["retry_after"] == 1000);
  CHECK(error["message"].get<std::string>().find("narrow the range") != std::string::npos);

  auto gone = console_detail::log_answer(3, f, page, 2, 5000ms);
  CHECK(gone.stop_detail == "history query cancelled after 120 of 861 records from seq 40");
  CHECK(nlohmann::json::parse(gone.line)["error"]["code"] == "UNAVAILABLE");

  page.stopped = false;
  page.next = 0;
  auto last = nlohmann::json::parse(console_detail::log_answer(3, f, page, 0, 5000ms).line);
  CHECK(last["result"]["next"].is_null());
}
