// posix_spawn into a new process group, a poll loop over stdin, stdout, stderr and the
// child's pidfd, and SIGKILL to the whole group at the deadline or on overflow.

#include "effectors/exec_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bulwark {

namespace {

using clock_type = std::chrono::steady_clock;

/// Owns a file descriptor.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    reset();
  }
  void reset() {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
};

/// Blocks SIGPIPE on this thread while a child's stdin is written (a child that does not
/// read it must not kill the node) and drops a SIGPIPE left pending by such a write.
struct sigpipe_guard {
  sigset_t pipe_set{}, old{};
  sigpipe_guard() {
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  }
  ~sigpipe_guard() {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
      timespec zero{0, 0};
      sigtimedwait(&pipe_set, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
};

/// Spawns the command with the pipes as its stdin, stdout and stderr; returns errno.
int spawn(const exec_spec& spec, int in, int out, int err, pid_t& pid) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3); // none of the node's descriptors
  posix_spawn_file_actions_addchdir_np(&fa, spec.workdir.c_str());
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  // Its own group (killed as one), no signal blocked, the default action for signals a
  // node blocks or ignores (SIGINT and SIGTERM are blocked, SIGPIPE ignored).
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                  | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&at, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM,
                SIGXFSZ})
    sigaddset(&defaults, s);
  posix_spawnattr_setsigdefault(&at, &defaults);
  std::vector<char*> argv, envp;
  for (auto& a : spec.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : spec.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid, spec.argv[0].c_str(), &fa, &at, argv.data(), envp.data());
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

/// Reads what `fd` has into `buf`; false once it passed `limit` (closes at EOF).
bool drain(fd_guard& fd, std::string& buf, size_t limit) {
  char tmp[16384];
  for (;;) {
    auto n = ::read(fd.fd, tmp, sizeof tmp);
    if (n > 0) {
      if (buf.size() + static_cast<size_t>(n) > limit) {
        buf.append(tmp, limit - buf.size());
        return false;
      }
      buf.append(tmp, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR))
      fd.reset();
    if (n < 0 && errno == EINTR)
      continue;
    return true;
  }
}

/// True once the child has exited (not reaped: its pid stays its own until waitpid).
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0
         && info.si_pid == pid;
}

/// One run: the child, its pipes and pidfd, and where the loop stands.
class child_run {
public:
  child_run(const exec_spec& spec, process_outcome& r) : spec_(spec), r_(r) {
  }

  /// Creates the pipes and spawns the child; false (with `r.error`) if either fails.
  bool start() {
    int p_in[2] = {-1, -1}, p_out[2] = {-1, -1}, p_err[2] = {-1, -1};
    bool piped = ::pipe2(p_in, O_CLOEXEC) == 0 && ::pipe2(p_out, O_CLOEXEC) == 0
                 && ::pipe2(p_err, O_CLOEXEC) == 0;
    auto pipe_error = errno;
    in_.fd = p_in[1], out_.fd = p_out[0], err_.fd = p_err[0];
    fd_guard child_in{p_in[0]}, child_out{p_out[1]}, child_err{p_err[1]};
    if (!piped) {
      r_.error = std::string{"cannot create pipes: "} + std::strerror(pipe_error);
      return false;
    }
    if (int rc = spawn(spec_, child_in.fd, child_out.fd, child_err.fd, pid_); rc != 0) {
      r_.error = "cannot run " + spec_.argv[0] + ": " + std::strerror(rc);
      return false;
    }
    for (int fd : {in_.fd, out_.fd, err_.fd})
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    pidfd_.fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    return true;
  }

  /// Feeds `input`, reads the output and watches the deadline until the child has
  /// exited and its pipes are closed (or, past the deadline, until it has exited).
  void pump(const std::string& input, clock_type::time_point deadline) {
    if (input.empty())
      in_.reset();
    for (;;) {
      if (!exited_ && has_exited(pid_)) {
        exited_ = true;
        kill_group(); // what it left behind in its group: nothing outlives the call
      }
      if (exited_ && out_.fd < 0 && err_.fd < 0)
        return;
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
      if (left.count() <= 0) {
        if (!killed_) {
          kill_group();
          r_.end = process_end::timed_out;
        } else if (exited_) {
          return; // a descendant that left the group still holds the pipes: stop reading
        }
      }
      wait(left);
      write_input(input);
      read_output();
    }
  }

  /// Reaps the child and records how it ended (unless the deadline or a limit did).
  void reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    if (r_.end == process_end::timed_out || r_.end == process_end::overflowed)
      return;
    if (WIFEXITED(status)) {
      r_.end = process_end::exited;
      r_.code = WEXITSTATUS(status);
    } else {
      r_.end = process_end::signaled;
      r_.code = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
  }

private:
  void kill_group() {
    ::kill(-pid_, SIGKILL);
    killed_ = true;
  }

  /// Waits until a pipe or the pidfd is ready, or the deadline; once the group is
  /// killed (or without a pidfd) in short steps, noticing the exit by polling.
  void wait(std::chrono::milliseconds left) {
    pollfd fds[4];
    nfds_t n = 0;
    for (auto* g : {&in_, &out_, &err_})
      if (g->fd >= 0)
        fds[n++] = pollfd{g->fd, static_cast<short>(g == &in_ ? POLLOUT : POLLIN), 0};
    if (pidfd_.fd >= 0 && !exited_)
      fds[n++] = pollfd{pidfd_.fd, POLLIN, 0};
    int ms = pidfd_.fd < 0 || killed_ ? 5 : static_cast<int>(std::max<int64_t>(left.count(), 1));
    ::poll(n > 0 ? fds : nullptr, n, ms);
  }

  void write_input(const std::string& input) {
    if (in_.fd < 0)
      return;
    auto w = ::write(in_.fd, input.data() + written_, input.size() - written_);
    if (w > 0)
      written_ += static_cast<size_t>(w);
    if ((w < 0 && errno != EAGAIN && errno != EINTR) || written_ == input.size())
      in_.reset(); // done, or the command does not read it (EPIPE)
  }

  void read_output() {
    const char* over = nullptr;
    if (out_.fd >= 0 && !drain(out_, r_.out, spec_.max_output))
      over = "stdout";
    else if (err_.fd >= 0 && !drain(err_, r_.err, spec_.max_output))
      over = "stderr";
    if (over == nullptr || r_.end == process_end::timed_out)
      return;
    kill_group();
    r_.end = process_end::overflowed;
    r_.error = std::string{over} + " passed " + std::to_string(spec_.max_output) + " bytes";
    out_.reset();
    err_.reset();
  }

  const exec_spec& spec_;
  process_outcome& r_;
  fd_guard in_, out_, err_, pidfd_;
  pid_t pid_ = -1;
  size_t written_ = 0;
  bool exited_ = false;
  bool killed_ = false;
};

} // namespace

process_outcome run_process(const exec_spec& spec, const std::string& input,
                            std::chrono::nanoseconds timeout) {
  process_outcome r;
  if (spec.argv.empty()) {
    r.error = "no command";
    return r;
  }
  auto deadline = clock_type::now() + timeout;
  sigpipe_guard no_sigpipe;
  child_run run{spec, r};
  if (!run.start())
    return r;
  run.pump(input, deadline);
  run.reap();
  return r;
}

} // namespace bulwark
