// The exec effector and probe on real processes: the request on stdin, exit statuses,
// stderr in the reason, the deadline killing the whole group, bounded output, signals.

#include <doctest/doctest.h>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "effectors/configured_effectors.hpp"
#include "unit/effectors/effector_test_util.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

namespace {

endpoint_spec exec_of(const temp_dir& dir, const std::string& script, size_t max_output = 65536) {
  endpoint_spec s;
  s.kind = effector_kind::exec;
  s.exec.argv = {script, "--flag"};
  s.exec.workdir = dir.path();
  s.exec.env = {"PATH=/usr/bin:/bin", "ONLY=this"};
  s.exec.max_output = max_output;
  return s;
}

/// True once `pid` is gone or a zombie (killed, waiting for its reaper).
bool is_dead(pid_t pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(stat, line))
    return true;
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

/// Waits up to 2 s for the process whose pid the script wrote into `file` to die.
bool dies(const temp_dir& dir, const std::string& file) {
  auto pid = static_cast<pid_t>(std::stoi(read_file(dir.sub(file))));
  for (int i = 0; i < 100; ++i) {
    if (is_dead(pid))
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

} // namespace

TEST_CASE("exec: exit 0 applies, the request arrives on stdin, with argv, env and workdir") {
  temp_dir dir;
  auto script = write_script(dir, "apply.sh",
                             "cat > request.json\n"
                             "echo \"$1 $ONLY ${HOME:-nohome}\" > seen.txt\n"
                             "exit 0");
  auto fx = make_effector(exec_of(dir, script));
  auto r = fx(change_request("fast"));
  CHECK(r.ok);
  CHECK(r.error.empty());
  auto req = nlohmann::json::parse(read_file(dir.sub("request.json")));
  CHECK(req["service"] == "web");
  CHECK(req["resource"] == "web-01");
  CHECK(req["key"] == "mode");
  CHECK(req["value"] == "fast");
  CHECK(req["compensation"] == false);
  CHECK(req["restore"].is_null());
  CHECK(req["idempotency_key"] == "key-1");
  CHECK(req["timeout_ms"] == 5000);
  CHECK(req["deadline_ms"].get<int64_t>() > 1600000000000);
  // Only the configured environment: HOME from the test's own environment is absent.
  CHECK(read_file(dir.sub("seen.txt")) == "--flag this nohome\n");
}

TEST_CASE("exec: the command inherits none of the caller's descriptors") {
  temp_dir dir;
  int fd = ::fcntl(::open("/dev/null", O_RDONLY), F_DUPFD, 100); // no O_CLOEXEC
  REQUIRE(fd >= 100);
  auto spec = exec_of(dir, write_script(dir, "fds.sh", "[ -e /proc/$$/fd/$1 ] && exit 9; exit 0"));
  spec.exec.argv = {spec.exec.argv[0], std::to_string(fd)};
  auto r = make_effector(spec)(change_request("x"));
  ::close(fd);
  CHECK_MESSAGE(r.ok, r.error);
}

TEST_CASE("exec: a compensation carries compensation and restore") {
  temp_dir dir;
  auto script = write_script(dir, "apply.sh", "cat > request.json");
  auto fx = make_effector(exec_of(dir, script));
  auto req = change_request("fast");
  req.compensation = true;
  req.restore = "slow";
  REQUIRE(fx(req).ok);
  auto j = nlohmann::json::parse(read_file(dir.sub("request.json")));
  CHECK(j["compensation"] == true);
  CHECK(j["restore"] == "slow");
}

TEST_CASE("exec: exit 75 is retryable, any other exit fails with the tail of stderr") {
  temp_dir dir;
  auto busy = make_effector(
    exec_of(dir, write_script(dir, "busy.sh", "cat >/dev/null; echo 'lock held' >&2; exit 75")));
  auto r = busy(change_request("x"));
  CHECK_FALSE(r.ok);
  CHECK(r.retryable);
  CHECK(r.error == "exec: exit status 75 (retry later): lock held");
  // A long stderr: only its tail is quoted, with control bytes made printable.
  auto bad = make_effector(exec_of(
    dir, write_script(dir, "bad.sh", "i=0; while [ $i -lt 200 ]; do echo \"noise $i\" >&2; "
                                     "i=$((i+1)); done; printf 'bad \\001value\\n' >&2; exit 3")));
  r = bad(change_request("x"));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error.rfind("exec: exit status 3: ", 0) == 0);
  CHECK(r.error.size() <= 21 + 512);
  CHECK(r.error.find("noise 0 ") == std::string::npos);
  CHECK(r.error.find("noise 199 bad ?value") != std::string::npos);
}

TEST_CASE("exec: a command that is missing or not executable fails clearly at call time") {
  temp_dir dir;
  auto spec = exec_of(dir, write_script(dir, "gone.sh", "exit 0"));
  auto fx = make_effector(spec);
  ::unlink(spec.exec.argv[0].c_str());
  auto r = fx(change_request("x"));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error == "exec: cannot run " + spec.exec.argv[0] + ": No such file or directory");
  auto plain = write_file(dir, "plain.txt", "not a program");
  auto np = exec_of(dir, plain);
  r = make_effector(np)(change_request("x"));
  CHECK_FALSE(r.ok);
  CHECK(r.error == "exec: cannot run " + plain + ": Permission denied");
}

TEST_CASE("exec: past its deadline the whole process group dies, a grandchild too") {
  temp_dir dir;
  auto script = write_script(dir, "hang.sh",
                             "sleep 30 &\necho $! > grandchild.pid\necho started >&2\nsleep 30");
  auto fx = make_effector(exec_of(dir, script));
  auto t0 = std::chrono::steady_clock::now();
  auto r = fx(change_request("x", 400ms));
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK_FALSE(r.ok);
  CHECK(r.retryable);
  CHECK(r.error == "exec: no exit within 400 ms: process group killed: started");
  CHECK(took >= 400ms);
  CHECK(took < 3s);
  CHECK(dies(dir, "grandchild.pid"));
}

TEST_CASE("exec: the configured timeout caps the caller's") {
  temp_dir dir;
  auto spec = exec_of(dir, write_script(dir, "slow.sh", "sleep 5"));
  spec.timeout = 200ms;
  auto r = make_effector(spec)(change_request("x", 10s));
  CHECK(r.retryable);
  CHECK(r.error == "exec: no exit within 200 ms: process group killed");
}

TEST_CASE("exec: a command that exits 0 leaves nothing running behind it") {
  temp_dir dir;
  // The background child holds stdout open: the call must not wait for it.
  auto script = write_script(dir, "leave.sh", "sleep 30 &\necho $! > left.pid\nexit 0");
  auto t0 = std::chrono::steady_clock::now();
  auto r = make_effector(exec_of(dir, script))(change_request("x", 5s));
  CHECK(r.ok);
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  CHECK(dies(dir, "left.pid"));
}

TEST_CASE("exec: a flood on stdout is cut at the limit, killed, and does not hang") {
  temp_dir dir;
  auto spec = exec_of(dir, write_script(dir, "flood.sh", "exec yes flood"), 4096);
  auto t0 = std::chrono::steady_clock::now();
  auto r = make_effector(spec)(change_request("x", 10s));
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error == "exec: stdout passed 4096 bytes: process group killed");
}

TEST_CASE("exec: a command ended by a signal fails naming it") {
  temp_dir dir;
  auto spec = exec_of(dir, write_script(dir, "crash.sh", "echo dying >&2; kill -SEGV $$"));
  auto r = make_effector(spec)(change_request("x"));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.retryable);
  CHECK(r.error == "exec: ended by signal 11 (SIGSEGV): dying");
}

TEST_CASE("exec: a command that never reads stdin does not break the caller") {
  temp_dir dir;
  auto spec = exec_of(dir, write_script(dir, "deaf.sh", "exit 0"));
  auto req = change_request(std::string(1 << 20, 'v')); // larger than a pipe's buffer
  CHECK(make_effector(spec)(req).ok);
}

TEST_CASE("exec probe: reads the value, null when unset, refuses a garbage answer") {
  temp_dir dir;
  auto value = write_script(dir, "probe.sh", "cat > probe.json; echo '{\"value\": \"fast\"}'");
  auto p = make_probe(exec_of(dir, value))(probe_request{"web", "web-01", "mode", 2s});
  CHECK(p.ok);
  REQUIRE(p.value);
  CHECK(*p.value == "fast");
  auto req = nlohmann::json::parse(read_file(dir.sub("probe.json")));
  CHECK(req["resource"] == "web-01");
  CHECK(req["key"] == "mode");
  CHECK(req["timeout_ms"] == 2000);
  auto unset = write_script(dir, "unset.sh", "echo '{\"value\": null}'");
  p = make_probe(exec_of(dir, unset))(probe_request{"web", "web-01", "mode", 2s});
  CHECK(p.ok);
  CHECK_FALSE(p.value);
  auto garbage = write_script(dir, "garbage.sh", "echo 'value=fast'");
  p = make_probe(exec_of(dir, garbage))(probe_request{"web", "web-01", "mode", 2s});
  CHECK_FALSE(p.ok);
  CHECK(p.error == "the probe's answer is not a JSON object: value=fast");
  auto failing = write_script(dir, "failing.sh", "echo 'no access' >&2; exit 75");
  p = make_probe(exec_of(dir, failing))(probe_request{"web", "web-01", "mode", 2s});
  CHECK_FALSE(p.ok);
  CHECK(p.retryable);
}
