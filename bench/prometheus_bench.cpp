// The prometheus source's cost per query: one instant query (libcurl GET on a kept
// connection), reading the answer, and handing the sample on, timed on the polling thread.
// A cpp-httplib server on loopback plays Prometheus with a one-sample vector (what a
// `sum(rate(...)) / sum(rate(...))` answers), so the figure is the source's own cost plus
// loopback HTTP, without PromQL evaluation; `--address URL` asks a real server instead,
// for the series web/eu of examples/ops-stack's fleet (the same query N times a round).
// Reading the answer alone (no HTTP) is measured apart.
//
// Usage: prometheus_bench [--quick] [--series N] [--address URL]

#include <atomic>
#include <cstring>
#include <ctime>
#include <thread>

#include <httplib.h>

#include "bench/bench_util.hpp"
#include "messages/error.hpp"
#include "signals/prometheus_source.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

const std::string answer =
  R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},)"
  R"("value":[1765000000.123,"0.012345679012345678"]}]}})";

double thread_cpu_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int series = 50;
  std::string address;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else if (std::strcmp(argv[i], "--series") == 0 && i + 1 < argc)
      series = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--address") == 0 && i + 1 < argc)
      address = argv[++i];
  }
  int rounds = quick ? 5 : 40;
  print_machine();
  httplib::Server svr;
  std::thread runner;
  if (address.empty()) {
    svr.set_tcp_nodelay(true); // as Go's net/http, which Prometheus serves with
    svr.Get("/api/v1/query", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(answer, "application/json");
    });
    int port = svr.bind_to_any_port("127.0.0.1");
    runner = std::thread{[&] { svr.listen_after_bind(); }};
    while (!svr.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    address = "http://127.0.0.1:" + std::to_string(port);
  }
  prometheus_settings s;
  s.address = address;
  s.timeout = std::chrono::seconds{5};
  s.error_rate = "sum(rate(http_errors_total{service=\"{{service}}\",region=\"{{region}}\"}[5s]))"
                 " / sum(rate(http_requests_total{service=\"{{service}}\",region=\"{{region}}\"}[5s]))";
  bool real = runner.get_id() == std::thread::id{};
  for (int i = 0; i < series; ++i)
    s.series.push_back({real ? "web" : "svc-" + std::to_string(i), "eu"});
  std::atomic<uint64_t> fed{0};
  signal_sinks sinks{[&fed](const metric_sample&) {
                       ++fed;
                       return true;
                     },
                     [] { return std::chrono::system_clock::now(); }, nullptr};
  auto src = prometheus_source::make(s, std::move(sinks));
  if (!src) {
    std::fprintf(stderr, "%s\n", describe(src.error()).message.c_str());
    return 1;
  }
  (*src)->poll_once(); // the connection is made once and kept
  std::vector<double> per_query;
  double cpu_total = 0;
  for (int r = 0; r < rounds; ++r) {
    auto cpu0 = thread_cpu_us();
    auto t0 = clock_type::now();
    (*src)->poll_once();
    per_query.push_back(us_since(t0) / series);
    cpu_total += thread_cpu_us() - cpu0;
  }
  auto report = (*src)->board()->get();
  uint64_t errors = 0;
  for (auto& [why, n] : report.errors)
    errors += n;
  double queries = static_cast<double>(rounds) * series;
  std::printf("prometheus source, %d series x %d rounds against %s: %llu samples, %llu without a "
              "value\n",
              series, rounds, address.c_str(), static_cast<unsigned long long>(fed.load()),
              static_cast<unsigned long long>(errors));
  std::printf("  per query (wall, mean of a round): p50 %.1f us, p99 %.1f us; polling-thread CPU "
              "%.1f us per query\n",
              percentile(per_query, 50), percentile(per_query, 99), cpu_total / queries);
  int n = quick ? 20000 : 200000;
  auto cpu0 = thread_cpu_us();
  double sum = 0;
  for (int i = 0; i < n; ++i)
    sum += read_query_answer(200, answer).value;
  std::printf("  reading one answer alone: %.2f us (CPU, mean of %d; checksum %.3f)\n",
              (thread_cpu_us() - cpu0) / n, n, sum);
  svr.stop();
  if (runner.joinable())
    runner.join();
  return 0;
}
