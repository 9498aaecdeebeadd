// The http effector and probe against a loopback server: statuses, headers, redirects,
// garbage, silence, refused connections and TLS with a CA file.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <atomic>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "effectors/configured_effectors.hpp"
#include "unit/effectors/effector_test_util.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

/// A cpp-httplib server on a free loopback port, run on its own thread.
struct test_server {
  std::unique_ptr<httplib::Server> svr;
  std::thread runner;
  int port = 0;

  explicit test_server(std::unique_ptr<httplib::Server> s = std::make_unique<httplib::Server>())
    : svr(std::move(s)) {
  }
  void start() {
    port = svr->bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    runner = std::thread{[this] { svr->listen_after_bind(); }};
    for (int i = 0; i < 200 && !svr->is_running(); ++i)
      std::this_thread::sleep_for(5ms);
  }
  ~test_server() {
    svr->stop();
    if (runner.joinable())
      runner.join();
  }
  std::string url(const std::string& path, const char* scheme = "http") const {
    return std::string{scheme} + "://127.0.0.1:" + std::to_string(port) + path;
  }
};

/// A raw TCP listener: answers each connection with `reply` (empty: never answers).
struct raw_server {
  int fd = -1;
  int port = 0;
  std::string reply;
  std::thread runner;
  std::atomic<bool> done{false};

  explicit raw_server(std::string r) : reply(std::move(r)) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    REQUIRE(::listen(fd, 8) == 0);
    if (!reply.empty())
      runner = std::thread{[this] {
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0)
          return;
        char buf[4096];
        ::recv(c, buf, sizeof buf, 0);
        ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(c);
      }};
  }
  ~raw_server() {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    if (runner.joinable())
      runner.join();
  }
};

endpoint_spec http_of(const std::string& url) {
  endpoint_spec s;
  s.kind = effector_kind::http;
  s.http.url = url;
  return s;
}

} // namespace

TEST_CASE("http: 2xx applies, JSON body, bearer token and Idempotency-Key are sent") {
  test_server server;
  std::mutex mtx;
  std::vector<std::map<std::string, std::string>> seen;
  server.svr->Post("/apply", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> guard{mtx};
    seen.push_back({{"auth", req.get_header_value("Authorization")},
                    {"key", req.get_header_value("Idempotency-Key")},
                    {"type", req.get_header_value("Content-Type")},
                    {"body", req.body}});
    res.status = 202;
    res.set_content("{\"accepted\":true}", "application/json");
  });
  server.start();
  auto spec = http_of(server.url("/apply"));
  spec.http.token = "eff-token";
  auto fx = make_effector(spec);
  auto req = change_request("fast");
  req.compensation = true;
  req.restore = "slow";
  auto r = fx(req);
  CHECK(r.ok);
  r = fx(req); // a retry: the same key
  CHECK(r.ok);
  auto forged = req;
  forged.idempotency_key = "k\r\nX-Injected: 1"; // a header must not be smuggled in
  r = fx(forged);
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error == "http: the idempotency key is not printable ASCII");
  std::lock_guard<std::mutex> guard{mtx};
  REQUIRE(seen.size() == 2);
  CHECK(seen[0]["auth"] == "Bearer eff-token");
  CHECK(seen[0]["key"] == "key-1");
  CHECK(seen[1]["key"] == "key-1");
  CHECK(seen[0]["type"] == "application/json");
  auto body = nlohmann::json::parse(seen[0]["body"]);
  CHECK(body["service"] == "web");
  CHECK(body["resource"] == "web-01");
  CHECK(body["key"] == "mode");
  CHECK(body["value"] == "fast");
  CHECK(body["compensation"] == true);
  CHECK(body["restore"] == "slow");
  CHECK(body["idempotency_key"] == "key-1");
  CHECK(body["timeout_ms"] == 5000);
}

TEST_CASE("http: 408, 429 and 5xx are retryable, other 4xx fail, the body's tail is quoted") {
  test_server server;
  server.svr->Post(R"(/status/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    res.status = std::stoi(req.matches[1]);
    res.set_content("reason " + std::string(req.matches[1]), "text/plain");
  });
  server.start();
  for (int status : {408, 429, 500, 502, 503}) {
    auto r = make_effector(http_of(server.url("/status/" + std::to_string(status))))(
      change_request("x"));
    CHECK_FALSE(r.ok);
    CHECK_MESSAGE(r.retryable, status);
    CHECK(r.error == "http: status " + std::to_string(status) + ": reason " + std::to_string(status));
  }
  for (int status : {400, 403, 404, 409, 422}) {
    auto r = make_effector(http_of(server.url("/status/" + std::to_string(status))))(
      change_request("x"));
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
    CHECK(r.error == "http: status " + std::to_string(status) + ": reason " + std::to_string(status));
  }
}

TEST_CASE("http: a redirect is not followed and fails") {
  test_server server;
  std::atomic<int> followed{0};
  server.svr->Post("/moved", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/elsewhere", 307);
  });
  server.svr->Post("/elsewhere", [&](const httplib::Request&, httplib::Response& res) {
    ++followed;
    res.status = 200;
  });
  server.start();
  auto r = make_effector(http_of(server.url("/moved")))(change_request("x"));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error == "http: status 307: redirect to /elsewhere not followed");
  CHECK(followed == 0);
}

TEST_CASE("http: a 2xx decides, whatever its body, a garbage answer is not HTTP") {
  test_server server;
  server.svr->Post("/odd", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(std::string("\x01\xff{not json", 11), "application/json");
  });
  server.start();
  CHECK(make_effector(http_of(server.url("/odd")))(change_request("x")).ok);
  raw_server garbage{"\x16\x03 garbage, not a status line\r\n\r\n"};
  auto r = make_effector(http_of("http://127.0.0.1:" + std::to_string(garbage.port) + "/"))(
    change_request("x"));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error.rfind("http: the answer is not HTTP: ", 0) == 0);
}

TEST_CASE("http: a server that never answers times out (retryable), refused is retryable") {
  raw_server silent{""};
  auto t0 = std::chrono::steady_clock::now();
  auto r = make_effector(http_of("http://127.0.0.1:" + std::to_string(silent.port) + "/"))(
    change_request("x", 300ms));
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK_FALSE(r.ok);
  CHECK(r.retryable);
  CHECK(r.error.rfind("http: timed out: ", 0) == 0);
  CHECK(took >= 250ms);
  CHECK(took < 3s);
  int port;
  { // a port nobody listens on
    raw_server closed{""};
    port = closed.port;
  }
  r = make_effector(http_of("http://127.0.0.1:" + std::to_string(port) + "/"))(
    change_request("x", 1s));
  CHECK_FALSE(r.ok);
  CHECK(r.retryable);
  CHECK(r.error.rfind("http: unreachable: ", 0) == 0);
}

TEST_CASE("http: TLS is verified against the configured CA file") {
  temp_dir dir;
  std::string out;
  auto make_cert = [&](const std::string& name) {
    return run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
                       " -addext subjectAltName=IP:127.0.0.1 -keyout " + dir.sub(name + ".key")
                         + " -out " + dir.sub(name + ".pem"),
                       &out);
  };
  REQUIRE_MESSAGE(make_cert("server") == 0, out);
  REQUIRE_MESSAGE(make_cert("other") == 0, out);
  test_server server{std::make_unique<httplib::SSLServer>(dir.sub("server.pem").c_str(),
                                                          dir.sub("server.key").c_str())};
  server.svr->Post("/apply", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
  });
  server.start();
  auto spec = http_of(server.url("/apply", "https"));
  spec.http.ca_file = dir.sub("server.pem");
  CHECK(make_effector(spec)(change_request("x")).ok);
  spec.http.ca_file = dir.sub("other.pem");
  auto r = make_effector(spec)(change_request("x"));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error.rfind("http: TLS failed: ", 0) == 0);
}

TEST_CASE("http probe: reads the value from a 2xx body, errors otherwise") {
  test_server server;
  server.svr->Post("/probe", [](const httplib::Request& req, httplib::Response& res) {
    auto j = nlohmann::json::parse(req.body);
    res.status = 200;
    res.set_content(j["key"] == "mode" ? "{\"value\":\"fast\"}" : "{\"value\":null}",
                    "application/json");
  });
  server.svr->Post("/garbage", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content("<html>", "text/html");
  });
  server.svr->Post("/busy", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
  });
  server.start();
  auto probe = make_probe(http_of(server.url("/probe")));
  auto p = probe(probe_request{"web", "web-01", "mode", 2s});
  CHECK(p.ok);
  REQUIRE(p.value);
  CHECK(*p.value == "fast");
  p = probe(probe_request{"web", "web-01", "other", 2s});
  CHECK(p.ok);
  CHECK_FALSE(p.value);
  p = make_probe(http_of(server.url("/garbage")))(probe_request{"web", "web-01", "mode", 2s});
  CHECK_FALSE(p.ok);
  CHECK(p.error == "the probe's answer is not a JSON object: <html>");
  p = make_probe(http_of(server.url("/busy")))(probe_request{"web", "web-01", "mode", 2s});
  CHECK_FALSE(p.ok);
  CHECK(p.retryable);
}
