// Console benchmark: requests per second and latency over loopback for `status` and
// `approve`, with 1 and 100 connections, against an in-process node (engine + console);
// the same `status` over the HTTP API (keep-alive connections: libcurl clients, then
// "http-raw" clients that write a fixed request on a socket and read the answer by its
// Content-Length, as light as the console's line clients), and a level-4 proposal through
// the console and through HTTP.
//
// Usage: console_bench [--quick] [--http]   (--http: the HTTP `status` runs only, to profile)

#include <arpa/inet.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "actors/console/console.hpp"
#include "actors/http/http_api.hpp"
#include "bench/bench_util.hpp"
#include "bulwark/engine.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/sha256.hpp"

using namespace bulwark;
using namespace bulwark::bench;
using nlohmann::json;

namespace {

struct line_client {
  int fd = -1;
  std::string buf;
  explicit line_client(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      std::exit(2);
  }
  ~line_client() {
    ::close(fd);
  }
  std::string call(const std::string& line) {
    auto data = line + "\n";
    if (::send(fd, data.data(), data.size(), MSG_NOSIGNAL) < 0)
      std::exit(2);
    for (;;) {
      if (auto pos = buf.find('\n'); pos != std::string::npos) {
        auto out = buf.substr(0, pos);
        buf.erase(0, pos + 1);
        return out;
      }
      char tmp[65536];
      auto n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0)
        std::exit(2);
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
};

/// Runs `per` requests on each of `conns` connections; `make(c, i)` builds request i.
void run(const char* label, uint16_t port, size_t conns, size_t per,
         const std::function<std::string(size_t, size_t)>& make) {
  std::vector<std::vector<double>> lat(conns);
  std::vector<std::unique_ptr<line_client>> clients;
  for (size_t c = 0; c < conns; ++c) {
    clients.push_back(std::make_unique<line_client>(port));
    clients.back()->call(R"({"cmd":"auth","args":{"token":"bench-token"}})");
  }
  std::atomic<size_t> errors{0};
  std::vector<std::thread> threads;
  auto t0 = clock_type::now();
  for (size_t c = 0; c < conns; ++c)
    threads.emplace_back([&, c] {
      for (size_t i = 0; i < per; ++i) {
        auto start = clock_type::now();
        auto reply = clients[c]->call(make(c, i));
        lat[c].push_back(ms_since(start) * 1000);
        if (reply.find("\"ok\":true") == std::string::npos
            || reply.find("\"status\":\"failed\"") != std::string::npos) {
          if (errors++ == 0)
            std::printf("first error: %s\n", reply.c_str());
        }
      }
    });
  for (auto& t : threads)
    t.join();
  auto secs = ms_since(t0) / 1000;
  std::vector<double> all;
  for (auto& l : lat)
    all.insert(all.end(), l.begin(), l.end());
  std::printf("%-8s %3zu connections: %8.0f requests/s, p50 %6.0f us, p99 %6.0f us (%zu errors)\n",
              label, conns, static_cast<double>(all.size()) / secs, percentile(all, 50),
              percentile(all, 99), errors.load());
}

/// One keep-alive HTTP connection: a libcurl easy handle used by one thread.
struct http_client {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  std::string body;
  std::string base;
  http_client(uint16_t port, const std::string& token)
    : base("http://127.0.0.1:" + std::to_string(port)) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, +[](char* p, size_t, size_t n, void* out) {
      static_cast<std::string*>(out)->append(p, n);
      return n;
    });
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  }
  ~http_client() {
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
  }
  /// GET (empty `post`) or POST; returns the status (0 on a transport error).
  long call(const std::string& path, const std::string& post = {}) {
    body.clear();
    curl_easy_setopt(h, CURLOPT_URL, (base + path).c_str());
    if (post.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, post.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(post.size()));
    }
    if (curl_easy_perform(h) != CURLE_OK)
      return 0;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }
};

/// One keep-alive HTTP/1.1 connection that sends a fixed GET and reads the answer by its
/// Content-Length: a client as light as `line_client`, so the server's cost shows.
struct raw_http_client {
  line_client sock;
  std::string request;
  std::string body;
  raw_http_client(uint16_t port, const std::string& token, const std::string& path)
    : sock(port), request("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                          + token + "\r\n\r\n") {
  }
  /// The status (0 on a transport error or an answer it cannot read).
  long call() {
    if (::send(sock.fd, request.data(), request.size(), MSG_NOSIGNAL) < 0)
      return 0;
    auto& buf = sock.buf;
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos)
      if (!fill())
        return 0;
    auto head = buf.substr(0, end);
    auto at = head.find("Content-Length: ");
    if (head.compare(0, 9, "HTTP/1.1 ") != 0 || at == std::string::npos)
      return 0;
    auto length = std::stoul(head.substr(at + 16));
    while (buf.size() < end + 4 + length)
      if (!fill())
        return 0;
    body = buf.substr(end + 4, length);
    buf.erase(0, end + 4 + length);
    return std::stol(head.substr(9, 3));
  }
  bool fill() {
    char tmp[65536];
    auto n = ::recv(sock.fd, tmp, sizeof tmp, 0);
    if (n <= 0)
      return false;
    sock.buf.append(tmp, static_cast<size_t>(n));
    return true;
  }
};

/// `status` over HTTP with `raw_http_client`s, as `run` does over the console.
void run_raw_http(const char* label, uint16_t port, size_t conns, size_t per) {
  std::vector<std::vector<double>> lat(conns);
  std::vector<std::unique_ptr<raw_http_client>> clients;
  for (size_t c = 0; c < conns; ++c)
    clients.push_back(std::make_unique<raw_http_client>(port, "bench-token", "/v1/status"));
  std::atomic<size_t> errors{0};
  std::vector<std::thread> threads;
  auto t0 = clock_type::now();
  for (size_t c = 0; c < conns; ++c)
    threads.emplace_back([&, c] {
      for (size_t i = 0; i < per; ++i) {
        auto start = clock_type::now();
        auto status = clients[c]->call();
        lat[c].push_back(ms_since(start) * 1000);
        if (status != 200 && errors++ == 0)
          std::printf("first error: %ld %s\n", status, clients[c]->body.c_str());
      }
    });
  for (auto& t : threads)
    t.join();
  auto secs = ms_since(t0) / 1000;
  std::vector<double> all;
  for (auto& l : lat)
    all.insert(all.end(), l.begin(), l.end());
  std::printf("%-8s %3zu connections: %8.0f requests/s, p50 %6.0f us, p99 %6.0f us (%zu errors)\n",
              label, conns, static_cast<double>(all.size()) / secs, percentile(all, 50),
              percentile(all, 99), errors.load());
}

/// Like `run`, over HTTP: `make(c, i)` gives the path and the body ("" for a GET).
void run_http(const char* label, uint16_t port, size_t conns, size_t per,
              const std::function<std::pair<std::string, std::string>(size_t, size_t)>& make) {
  std::vector<std::vector<double>> lat(conns);
  std::vector<std::unique_ptr<http_client>> clients;
  for (size_t c = 0; c < conns; ++c)
    clients.push_back(std::make_unique<http_client>(port, "bench-token"));
  for (auto& c : clients) // connect first, as the console's clients authenticate first
    c->call("/healthz");
  std::atomic<size_t> errors{0};
  std::vector<std::thread> threads;
  auto t0 = clock_type::now();
  for (size_t c = 0; c < conns; ++c)
    threads.emplace_back([&, c] {
      for (size_t i = 0; i < per; ++i) {
        auto [path, post] = make(c, i);
        auto start = clock_type::now();
        auto status = clients[c]->call(path, post);
        lat[c].push_back(ms_since(start) * 1000);
        if (status != 200 && errors++ == 0)
          std::printf("first error: %ld %s\n", status, clients[c]->body.c_str());
      }
    });
  for (auto& t : threads)
    t.join();
  auto secs = ms_since(t0) / 1000;
  std::vector<double> all;
  for (auto& l : lat)
    all.insert(all.end(), l.begin(), l.end());
  std::printf("%-8s %3zu connections: %8.0f requests/s, p50 %6.0f us, p99 %6.0f us (%zu errors)\n",
              label, conns, static_cast<double>(all.size()) / secs, percentile(all, 50),
              percentile(all, 99), errors.load());
}

json level4(const std::string& key, size_t i) {
  return {{"idempotency_key", key}, {"level", 4}, {"services", {"svc"}}, {"regions", {"north"}},
          {"changes", {{{"resource", "r-" + std::to_string(i % 1000)}, {"key", "mode"},
                        {"value", key}}}}};
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool http_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick")
      quick = true;
    else if (arg == "--http")
      http_only = true;
    else {
      std::printf("usage: console_bench [--quick] [--http]\n");
      return 2;
    }
  }
  print_machine();
  auto dir = (std::filesystem::temp_directory_path() / "bulwark-bench-console-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr)
    return 2;
  std::string token = "bench-token";
  std::ofstream{dir + "/bulwark.toml"}
    << "[authority]\nenforce_enabled = true\naudit_backlog = 4000000000\n"
       "rate_per_second = 1000000000.0\nburst = 1000000000.0\n"
       "approval_timeout_ms = 3600000\n[blast_radius]\nmax_percent = 100.0\nwindow_ms = 1\n"
       "[console]\nrate_per_second = 1000000.0\nburst = 1000000.0\n[[console.tokens]]\n"
       "sha256 = \"" << to_hex(sha256(reinterpret_cast<const uint8_t*>(token.data()), token.size()))
    << "\"\nprincipal = \"ops\"\nrole = \"operator\"\n";
  engine_options opts;
  opts.config_file = dir + "/bulwark.toml";
  opts.data_dir = dir + "/journal";
  opts.network = true;
  size_t approvals = quick ? 2000 : 10000;
  for (size_t p = 0; p < 100; ++p)
    opts.grants["agent-" + std::to_string(p)] = 1;
  opts.grants["ops"] = 4;
  std::string err;
  auto eng = engine::start(opts, &err);
  if (!eng) {
    std::printf("%s\n", err.c_str());
    return 2;
  }
  eng->register_effector("svc", [](const effect_request&) { return effect_result{}; });
  for (int i = 0; i < 1000; ++i)
    eng->register_resource("r-" + std::to_string(i), "svc", "north");
  auto& d = eng->internals();
  console_deps deps{d.journal, d.authority, d.pipeline, d.breakers, d.store,
                    d.cfg.authority.policy.grants, d.cfg.journal.meter, d.rollbacks,
                    d.orchestrator, d.health_view, d.chaos, {}, {}, d.admission, {}, {}, {}};
  auto settings = d.cfg.console;
  settings.port = 0;
  caf::actor console;
  auto port = start_console(*d.sys, settings, deps, console);
  if (!port)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  http_settings hs; // the default pool: 100 keep-alive connections each hold a server thread
  auto http = http_api::start(*d.sys, "127.0.0.1", 0, hs, console, deps);
  if (!http)
    return 2;
  auto http_port = (*http)->port();
  size_t per = quick ? 2000 : 20000;
  size_t fours = quick ? 500 : 2000;
  auto status = [](size_t, size_t) { return std::string{R"({"cmd":"status"})"}; };
  auto http_status = [](size_t, size_t) { return std::make_pair(std::string{"/v1/status"}, std::string{}); };
  if (!http_only) {
    run("status", *port, 1, per, status);
    run("status", *port, 100, per / 20, status);
  }
  run_http("http", http_port, 1, per, http_status);
  run_http("http", http_port, 100, per / 20, http_status);
  run_raw_http("http-raw", http_port, 1, per);
  run_raw_http("http-raw", http_port, 100, per / 20);
  if (http_only)
    fours = 0;
  // A level-4 proposal (runs at once) through each, one connection each, alternating so
  // both see the same disk and load.
  if (fours > 0) {
    line_client lc{*port};
    lc.call(R"({"cmd":"auth","args":{"token":"bench-token"}})");
    http_client hc{http_port, "bench-token"};
    std::vector<double> via_console, via_http;
    size_t errors = 0;
    auto console_one = [&](size_t i) {
      auto start = clock_type::now();
      auto reply = lc.call(json{{"cmd", "propose"}, {"args", level4("c4-" + std::to_string(i), i)}}.dump());
      via_console.push_back(ms_since(start) * 1000);
      errors += reply.find("\"status\":\"succeeded\"") == std::string::npos;
    };
    auto http_one = [&](size_t i) {
      auto start = clock_type::now();
      auto status = hc.call("/v1/proposals", level4("h4-" + std::to_string(i), i + 500).dump());
      via_http.push_back(ms_since(start) * 1000);
      errors += status != 200 || hc.body.find("\"status\":\"succeeded\"") == std::string::npos;
    };
    for (size_t i = 0; i < fours; ++i) { // which goes first alternates too
      if (i % 2 == 0) {
        console_one(i);
        http_one(i);
      } else {
        http_one(i);
        console_one(i);
      }
    }
    std::printf("level-4 proposal, alternating, %zu each: console p50 %6.0f us, p99 %6.0f us; "
                "http p50 %6.0f us, p99 %6.0f us (%zu errors)\n",
                fours, percentile(via_console, 50), percentile(via_console, 99),
                percentile(via_http, 50), percentile(via_http, 99), errors);
  }
  // Pending level-1 proposals to approve, one per request.
  std::vector<std::future<result>> waiting;
  if (http_only)
    approvals = 0;
  for (size_t i = 0; i < approvals; ++i) {
    proposal_request p;
    p.idempotency_key = "k" + std::to_string(i);
    p.principal = "agent-" + std::to_string(i % 100);
    p.level = 1;
    p.services = {"svc"};
    p.regions = {"north"};
    p.changes = {{"r-" + std::to_string(i % 1000), "mode", std::to_string(i)}};
    p.timeout = std::chrono::hours{1};
    waiting.push_back(eng->submit(p));
  }
  std::vector<std::string> digests;
  while (digests.size() < approvals) {
    digests.clear();
    for (auto& p : eng->pending())
      digests.push_back(p.proposal);
  }
  auto half = approvals / 2;
  if (approvals > 0) {
    run("approve", *port, 1, half / 4, [&](size_t, size_t i) {
      return json{{"cmd", "approve"}, {"args", {{"proposal", digests[i]}}}}.dump();
    });
    run("approve", *port, 100, half / 100, [&](size_t c, size_t i) {
      return json{{"cmd", "approve"}, {"args", {{"proposal", digests[half + c * (half / 100) + i]}}}}
        .dump();
    });
  }
  (*http)->stop();
  http->reset();
  curl_global_cleanup();
  caf::anon_send_exit(console, caf::exit_reason::user_shutdown);
  deps = console_deps{}; // release every handle before the engine stops
  console = nullptr;
  eng->stop();
  std::filesystem::remove_all(dir);
  return 0;
}
