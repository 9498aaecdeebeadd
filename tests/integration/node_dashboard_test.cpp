// The dashboard as a real node serves it: the page and its files without a token, with a
// Content-Security-Policy, nothing else under /ui/; and the running flight's phase, step
// and observation window that the page shows.

#include <doctest/doctest.h>

#include <thread>

#include <httplib.h>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;

namespace {

const std::string http_conf = "[http]\nlisten = \"127.0.0.1:0\"\npool = 16\n";

json parse(const httplib::Result& r) {
  REQUIRE(r);
  return json::parse(r->body, nullptr, false);
}

} // namespace

TEST_CASE("dashboard: GET / leads to /ui/, the page and its files are served with a CSP") {
  node_process node{http_conf};
  REQUIRE(node.http_port != 0);
  httplib::Client cli{"127.0.0.1", node.http_port};
  auto root = cli.Get("/");
  REQUIRE(root);
  CHECK(root->status == 303);
  CHECK(root->get_header_value("Location") == "/ui/");
  auto page = cli.Get("/ui/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->get_header_value("Content-Security-Policy").find("default-src 'none'") == 0);
  CHECK(page->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(page->body.find("<title>Bulwark dashboard</title>") != std::string::npos);
  for (auto* file : {"app.js", "api.js", "render.js", "panels.js", "incidents.js", "journal.js",
                     "dashboard.css", "index.html"}) {
    auto r = cli.Get((std::string{"/ui/"} + file).c_str());
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 200, file);
    CHECK_MESSAGE(!r->body.empty(), file);
  }
  CHECK(cli.Get("/ui/app.js")->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(cli.Get("/ui/dashboard.css")->get_header_value("Content-Type") == "text/css; charset=utf-8");
  // Nothing but the embedded files: unknown names, traversal, other methods.
  for (auto* bad : {"/ui/nope.js", "/ui/..%2F..%2Fetc%2Fpasswd", "/ui/../CMakeLists.txt",
                    "/ui/app.js/x", "/ui", "/index.html"}) {
    auto r = cli.Get(bad);
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 404, bad);
    CHECK_MESSAGE(parse(r)["error"]["code"] == "INVALID_INPUT", bad);
  }
  auto post = cli.Post("/ui/", "{}", "application/json");
  REQUIRE(post);
  CHECK(post->status == 404);
  // The page is public; what it shows is not: the API still wants a token.
  CHECK(cli.Get("/v1/status")->status == 401);
}

TEST_CASE("dashboard: a running level-3 flight shows its phase, step and observation window") {
  node_process node{http_conf};
  httplib::Headers op{{"Authorization", "Bearer operator-token"}};
  json done;
  std::thread submit([&] {
    httplib::Client mine{"127.0.0.1", node.http_port};
    mine.set_read_timeout(30, 0);
    auto body = json{{"idempotency_key", "dash-3"}, {"level", 3}, {"services", {"coaster"}},
                     {"regions", {"north"}},
                     {"changes", {{{"resource", "coaster-north-03"}, {"key", "mode"},
                                   {"value", "fast"}}}}};
    auto r = mine.Post("/v1/proposals", op, body.dump(), "application/json");
    if (r)
      done = json::parse(r->body, nullptr, false);
  });
  httplib::Client cli{"127.0.0.1", node.http_port};
  json flight;
  for (int i = 0; i < 200 && flight.is_null(); ++i) {
    auto list = parse(cli.Get("/v1/proposals", op));
    if (list.is_array() && !list.empty() && list[0]["phase"] == "observing")
      flight = list[0];
    else
      std::this_thread::sleep_for(20ms);
  }
  REQUIRE(!flight.is_null());
  CHECK(flight["awaiting_approval"] == false);
  CHECK(flight["applied"] == 1);
  CHECK(flight["expires"].is_null());
  CHECK(flight["window"]["service"] == "coaster");
  CHECK(flight["window"]["ms"] == 5000);
  CHECK(flight["window"]["from"].get<std::string>() < flight["window"]["until"].get<std::string>());
  submit.join();
  REQUIRE(done.is_object());
  CHECK(done["status"] != nullptr);
  // Finished: it is gone from the list.
  CHECK(parse(cli.Get("/v1/proposals", op)).empty());
}
