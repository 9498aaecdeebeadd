// The node's front supervisor: the console broker and the HTTP API's journal feed, killed
// through the console's `chaos kill` while clients keep submitting over the console and
// over HTTP. Every proposal a client saw succeed has exactly one journaled outcome, a
// dropped connection is only closed (nothing false is said on it), and the console's port
// and the event stream serve again.

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "integration/node_process.hpp"
#include "persistence/event_json.hpp"
#include "persistence/journal_store.hpp"

using namespace bulwark;
using namespace bulwark::test;

namespace {

const std::string front_conf =
  "[chaos]\nenabled = true\nconsole = true\n[blast_radius]\nmax_percent = 100.0\n"
  "[http]\nlisten = \"127.0.0.1:0\"\nread_timeout_ms = 1000\npool = 16\n";

json proposal(const std::string& key, int i) {
  return {{"idempotency_key", key},
          {"level", 4},
          {"services", {"coaster"}},
          {"regions", {"north"}},
          {"changes",
           {{{"resource", "coaster-north-0" + std::to_string(1 + i % 9)},
             {"key", "mode"},
             {"value", "v" + std::to_string(i)}}}}};
}

/// A signed-in console client, connected again (bounded) while the console restarts.
std::unique_ptr<client> signed_in(uint16_t port, const std::string& token) {
  for (int i = 0; i < 500; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) {
      auto c = std::make_unique<client>(port);
      if (c->auth(token)["ok"] == true)
        return c;
    }
    std::this_thread::sleep_for(20ms);
  }
  return nullptr;
}

/// Waits (bounded: 30 s) until `pred` holds.
bool wait_until_true(const std::function<bool()>& pred) {
  for (int i = 0; i < 1500; ++i) {
    if (pred())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

/// What the clients saw.
struct tally {
  std::mutex mtx;
  std::map<std::string, std::string> acked; ///< idempotency key -> proposal digest
  std::map<std::string, int> refused;       ///< error code -> count
  int dropped = 0;                          ///< console connections closed under a request
  int console_acked = 0;
};

/// Journaled outcomes per proposal digest, and restarts per "supervisor/child".
struct journal_view {
  std::map<std::string, int> outcomes;
  std::map<std::string, int> restarted;
};

journal_view read_journal(const std::string& dir) {
  store_options so;
  so.dir = dir;
  so.read_only = true;
  auto store = journal_store::open(so);
  REQUIRE(store);
  journal_view out;
  REQUIRE(!(*store)->read(seq_no{1}, (*store)->head(), [&](journal_entry&& e) {
    auto j = to_json(e);
    if (j["type"] == "proposal_finished")
      ++out.outcomes[j["payload"]["proposal"].get<std::string>()];
    if (j["type"] == "actor_restarted")
      ++out.restarted[j["payload"]["supervisor"].get<std::string>() + "/"
                      + j["payload"]["child"].get<std::string>()];
    return true;
  }));
  CHECK((*store)->verify(seq_no{1}, seq_no{UINT64_MAX}).ok);
  return out;
}

/// Sends `chaos kill target` from a fresh admin connection (the answer may not come: the
/// console may be the one killed).
void chaos_kill(uint16_t port, const std::string& target) {
  auto admin = signed_in(port, "admin-token");
  REQUIRE(admin);
  admin->send_raw(json{{"id", 1}, {"cmd", "chaos"},
                       {"args", {{"fault", "kill"}, {"target", target}}}}
                    .dump()
                  + "\n");
  auto answer = admin->read(2s);
  if (target != "console") // the console answers for the others
    CHECK_MESSAGE(answer["ok"] == true, answer.dump());
}

} // namespace

TEST_CASE("node: the console and the HTTP feed killed under load, acknowledged proposals each "
          "have one outcome, the port serves again") {
  node_process node{front_conf};
  REQUIRE(node.http_port != 0);
  tally seen;
  std::atomic<bool> stop{false};
  std::thread console_load([&] {
    auto c = signed_in(node.port, "operator-token");
    for (int i = 0; i < 400 && !stop && c; ++i) {
      auto key = "c-" + std::to_string(i);
      auto req = json{{"id", i + 10}, {"cmd", "propose"}, {"args", proposal(key, i)}};
      auto answer = c->call(req);
      std::lock_guard<std::mutex> guard{seen.mtx};
      if (answer.is_null() || answer.is_discarded()) {
        ++seen.dropped; // closed under the request: no answer, so no claim either way
        c = signed_in(node.port, "operator-token");
      } else if (answer["ok"] == true) {
        CHECK(answer["result"]["status"] == "succeeded");
        seen.acked[key] = answer["result"]["proposal"].get<std::string>();
        ++seen.console_acked;
      } else {
        ++seen.refused[answer["error"]["code"].get<std::string>()];
      }
    }
  });
  std::thread http_load([&] {
    httplib::Client cli{"127.0.0.1", node.http_port};
    cli.set_read_timeout(20, 0);
    httplib::Headers auth{{"Authorization", "Bearer operator-token"}};
    for (int i = 0; i < 400 && !stop; ++i) {
      auto key = "h-" + std::to_string(i);
      auto r = cli.Post("/v1/proposals", auth, proposal(key, i).dump(), "application/json");
      if (!r) { // the HTTP server never closes under a console restart
        std::lock_guard<std::mutex> guard{seen.mtx};
        ++seen.refused["no HTTP answer"];
        continue;
      }
      auto body = json::parse(r->body, nullptr, false);
      std::lock_guard<std::mutex> guard{seen.mtx};
      if (r->status == 200) {
        CHECK(body["status"] == "succeeded");
        seen.acked[key] = body["proposal"].get<std::string>();
      } else {
        ++seen.refused[body["error"]["code"].get<std::string>()];
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  auto acked_by_console = [&] {
    std::lock_guard<std::mutex> guard{seen.mtx};
    return seen.console_acked;
  };
  REQUIRE(wait_until_true([&] { return acked_by_console() >= 10; }));
  chaos_kill(node.port, "console");
  auto before = acked_by_console();
  // The port serves again: the same clients go on through the restarted console.
  REQUIRE(wait_until_true([&] { return acked_by_console() >= before + 10; }));
  chaos_kill(node.port, "http_feed");
  stop = true;
  console_load.join();
  http_load.join();
  // The restarted feed serves the event stream: a request made now arrives as an event.
  std::atomic<bool> got{false};
  std::thread reader([&] {
    httplib::Client cli{"127.0.0.1", node.http_port};
    cli.set_read_timeout(10, 0);
    std::string text;
    cli.Get("/v1/events/stream", {{"Authorization", "Bearer viewer-token"}},
            [&](const char* data, size_t len) {
              text.append(data, len);
              got = text.find("\"command\":\"grants\"") != std::string::npos;
              return !got;
            });
  });
  httplib::Client viewer{"127.0.0.1", node.http_port};
  httplib::Headers auth{{"Authorization", "Bearer viewer-token"}};
  for (int i = 0; i < 100 && !got; ++i) {
    std::this_thread::sleep_for(50ms);
    auto r = viewer.Get("/v1/grants", auth);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  reader.join();
  CHECK(got);
  auto late = signed_in(node.port, "viewer-token");
  REQUIRE(late);
  CHECK(late->call({{"id", 1}, {"cmd", "status"}})["ok"] == true);
  late.reset();
  ::kill(node.pid, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(node.pid, &status, 0) == node.pid);
  node.pid = -1;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto view = read_journal(node.dir.sub("journal"));
  CHECK(view.restarted["front/console"] == 1);
  CHECK(view.restarted["front/http_feed"] == 1);
  CHECK(seen.dropped >= 1); // the kill closed the console's connections
  CHECK(seen.acked.size() >= 20);
  for (auto& [key, digest] : seen.acked) {
    CAPTURE(key);
    CHECK(view.outcomes[digest] == 1);
  }
  for (auto& [digest, n] : view.outcomes)
    CHECK(n == 1);
  for (auto& [code, n] : seen.refused) {
    CAPTURE(code);
    CHECK(code == "UNAVAILABLE"); // the console was restarting: said so, nothing else
  }
}
