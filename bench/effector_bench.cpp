// Effector benchmark: what a configured effector costs per call, measured at the effector
// function the engine's breaker calls (the breaker's own cost is breaker_bench's).
//
// exec: spawn to result of /bin/true, of a shell script that exits 0, and of a script
// that runs cat to read the request; a bare posix_spawn + waitpid of /bin/true (no pipes,
// no group, no request) is the floor, so the effector's own overhead is the difference.
// http: one POST per call to a cpp-httplib server on loopback, with the connection kept
// (the effector reuses its handles), and a fresh endpoint per call (a new connection).
// Both take turns with an embedded effector (a C++ function in the process that reads the
// request and answers applied), the cost of a call with no process and no socket.
//
// Usage: effector_bench [--quick]

#include <fstream>
#include <functional>
#include <thread>

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <httplib.h>

#include "bench/bench_util.hpp"
#include "effectors/configured_effectors.hpp"

using namespace bulwark;
using namespace bulwark::bench;

namespace {

/// An embedded effector: a function in the process; it reads the request so it is a call.
effector embedded_effector() {
  return [](const effect_request& r) {
    effect_result out;
    out.ok = !r.resource.empty();
    return out;
  };
}

void report(const char* what, int n, std::vector<double> lat) {
  double sum = 0;
  for (auto x : lat)
    sum += x;
  auto p50 = percentile(lat, 50), p99 = percentile(lat, 99);
  std::printf("  %-46s n=%5d  p50 %8.1f us  p99 %8.1f us  mean %8.1f us\n", what, n, p50, p99,
              sum / static_cast<double>(lat.size()));
}

endpoint_spec exec_spec_of(const std::string& dir, std::vector<std::string> argv) {
  endpoint_spec s;
  s.kind = effector_kind::exec;
  s.exec.argv = std::move(argv);
  s.exec.workdir = dir;
  s.exec.env = {"PATH=/usr/bin:/bin"};
  return s;
}

std::string write_script(const temp_root& dir, const std::string& name, const std::string& body) {
  auto path = dir.sub(name);
  std::ofstream{path} << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

/// posix_spawn and waitpid of `argv` alone: no pipes, no group, no request.
bool bare_spawn(char** argv) {
  char* envp[] = {nullptr};
  pid_t pid;
  int status = 0;
  return posix_spawn(&pid, argv[0], nullptr, nullptr, argv, envp) == 0
         && ::waitpid(pid, &status, 0) == pid;
}

int bench_exec(int n, const temp_root& dir) {
  effect_request req{"web", "web-01", "mode", "fast", false, std::nullopt, "bench-key",
                     std::chrono::seconds{5}};
  char* true_argv[] = {const_cast<char*>("/bin/true"), nullptr};
  std::vector<std::pair<const char*, std::function<bool()>>> rows;
  auto embedded = embedded_effector();
  rows.emplace_back("embedded effector (a function in the process)",
                    [embedded, &req] { return embedded(req).ok; });
  rows.emplace_back("bare posix_spawn + waitpid of /bin/true", [&] { return bare_spawn(true_argv); });
  auto add = [&](const char* name, std::vector<std::string> argv) {
    auto fx = make_effector(exec_spec_of(dir.path, std::move(argv)));
    rows.emplace_back(name, [fx, &req] { return fx(req).ok; });
  };
  add("exec effector, /bin/true", {"/bin/true"});
  add("exec effector, no-op sh script (exit 0)", {write_script(dir, "noop.sh", "exit 0")});
  add("exec effector, sh script running cat <stdin",
      {write_script(dir, "read.sh", "cat >/dev/null\nexit 0")});
  std::printf("exec effector: spawn to result; the rows take turns, one call each per round\n");
  std::vector<std::vector<double>> lat(rows.size());
  for (int i = -n / 10; i < n; ++i) // the first rounds warm the page cache and the loader
    for (size_t r = 0; r < rows.size(); ++r) {
      auto t0 = clock_type::now();
      if (!rows[r].second()) {
        std::fprintf(stderr, "effector_bench: %s failed\n", rows[r].first);
        return 1;
      }
      if (i >= 0)
        lat[r].push_back(us_since(t0));
    }
  for (size_t r = 0; r < rows.size(); ++r)
    report(rows[r].first, n, std::move(lat[r]));
  return 0;
}

int bench_http(int n) {
  httplib::Server svr;
  svr.set_tcp_nodelay(true);
  svr.Post("/apply", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  int port = svr.bind_to_any_port("127.0.0.1");
  std::thread runner{[&] { svr.listen_after_bind(); }};
  while (!svr.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  endpoint_spec spec;
  spec.kind = effector_kind::http;
  spec.http.url = "http://127.0.0.1:" + std::to_string(port) + "/apply";
  effect_request req{"web", "web-01", "mode", "fast", false, std::nullopt, "bench-key",
                     std::chrono::seconds{5}};
  std::printf("http effector: one POST per call, loopback cpp-httplib server (204)\n");
  int rc = 0;
  {
    auto fx = make_effector(spec);
    auto embedded = embedded_effector();
    for (int i = 0; i < n / 10; ++i)
      fx(req);
    bool ok = true;
    std::vector<double> lat, local;
    for (int i = 0; i < n; ++i) { // the two take turns, one call each
      auto t0 = clock_type::now();
      ok = fx(req).ok && ok;
      lat.push_back(us_since(t0));
      t0 = clock_type::now();
      ok = embedded(req).ok && ok;
      local.push_back(us_since(t0));
    }
    if (!ok)
      rc = 1;
    report("http POST, connection kept", n, std::move(lat));
    report("embedded effector, taking turns with it", n, std::move(local));
  }
  {
    bool ok = true;
    auto lat = sample_us(n / 4, [&](int) { ok = make_effector(spec)(req).ok && ok; });
    if (!ok)
      rc = 1;
    report("http POST, new connection each call", n / 4, std::move(lat));
  }
  svr.stop();
  runner.join();
  if (rc != 0)
    std::fprintf(stderr, "effector_bench: an http call failed\n");
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string{argv[1]} == "--quick";
  print_machine();
  temp_root dir{"effector-bench"};
  if (int rc = bench_exec(quick ? 100 : 1000, dir); rc != 0)
    return rc;
  return bench_http(quick ? 400 : 4000);
}
