#include "apps/cli.hpp"

#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "messages/error.hpp"

namespace bulwark::cli {

int exit_code_of(const caf::error& err) {
  return code_of(err) == ec::integrity_violation ? exit_integrity : exit_runtime;
}

int fail(const caf::error& err) {
  auto info = describe(err);
  std::fprintf(stderr, "bulwark: %s: %s\n", to_string(info.code), info.message.c_str());
  return exit_code_of(err);
}

std::unique_ptr<journal_store> open_read_only(const std::string& dir, int& code) {
  store_options opts;
  opts.dir = dir;
  opts.read_only = true;
  auto store = journal_store::open(opts);
  if (!store) {
    code = fail(store.error());
    return nullptr;
  }
  code = exit_ok;
  return std::move(*store);
}

progress_line::progress_line(std::string label)
  : label_(std::move(label)), active_(::isatty(STDERR_FILENO) == 1) {
}

progress_line::~progress_line() {
  if (shown_)
    std::fputs("\n", stderr);
}

void progress_line::update(uint64_t done, uint64_t total) {
  if (!active_ || total == 0)
    return;
  shown_ = true;
  std::fprintf(stderr, "\r%s: %llu/%llu (%llu%%)", label_.c_str(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
               static_cast<unsigned long long>(done * 100 / total));
  std::fflush(stderr);
}

namespace {

extern "C" void on_fault(int) {
  static const char msg[] = "bulwark: INTEGRITY_VIOLATION: the journal file is damaged "
                            "(memory fault while reading it)\n";
  auto ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void) ignored;
  ::_exit(exit_integrity);
}

} // namespace

void install_fault_handler() {
  std::signal(SIGBUS, on_fault);
  std::signal(SIGSEGV, on_fault);
}

} // namespace bulwark::cli
