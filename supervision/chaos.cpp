#include "supervision/chaos.hpp"

#include <algorithm>

#include "messages/error.hpp"

namespace bulwark {

bool chaos_hooks::enabled() const {
  return on_.load(std::memory_order_acquire);
}

bool chaos_hooks::console_allowed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return on_.load(std::memory_order_acquire) && settings_.console;
}

void chaos_hooks::enable(bool on) {
  std::function<void(bool)> failer;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    on_.store(on, std::memory_order_release);
    if (on)
      return;
    failing_.clear();
    delays_.clear();
    submission_delay_ = std::chrono::milliseconds{0};
    failer = journal_failer_;
  }
  if (failer)
    failer(false);
}

caf::error chaos_hooks::check_enabled() const {
  if (!on_.load(std::memory_order_acquire))
    return refuse(ec::authority_denied,
                  "chaos hooks are disabled (set [chaos] enabled = true in the configuration)");
  return {};
}

caf::error chaos_hooks::fail_effector(const std::string& service, uint32_t calls) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto err = check_enabled())
    return err;
  if (calls == 0)
    failing_.erase(service);
  else
    failing_[service] = calls;
  return {};
}

caf::error chaos_hooks::delay_effector(const std::string& service,
                                       std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto err = check_enabled())
    return err;
  if (d.count() < 0)
    return refuse(ec::invalid_input, "a delay must not be negative");
  if (d.count() == 0)
    delays_.erase(service);
  else
    delays_[service] = d;
  return {};
}

caf::error chaos_hooks::fail_journal(bool on) {
  std::function<void(bool)> failer;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto err = check_enabled())
      return err;
    failer = journal_failer_;
  }
  if (!failer)
    return refuse(ec::unavailable, "no journal to fail");
  failer(on);
  return {};
}

caf::error chaos_hooks::kill(const std::string& name) {
  std::function<caf::error()> exposed;
  std::function<caf::error(const std::string&)> killer;
  std::string known;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto err = check_enabled())
      return err;
    if (auto i = exposed_.find(name); i != exposed_.end())
      exposed = i->second;
    killer = killer_;
    for (auto& [n, fn] : exposed_)
      known += n + ", ";
  }
  if (exposed)
    return exposed();
  if (name.rfind("breaker:", 0) == 0 && killer)
    return killer(name);
  return refuse(ec::invalid_input,
                "unknown actor '" + name + "' (" + known + "breaker:<service>)");
}

void chaos_hooks::expose(const std::string& name, std::function<caf::error()> killer) {
  std::lock_guard<std::mutex> guard{mtx_};
  exposed_[name] = std::move(killer);
}

std::vector<std::string> chaos_hooks::targets() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> out;
  for (auto& [n, fn] : exposed_)
    out.push_back(n);
  return out;
}

caf::error chaos_hooks::delay_submissions(std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto err = check_enabled())
    return err;
  if (d.count() < 0)
    return refuse(ec::invalid_input, "a delay must not be negative");
  submission_delay_ = d;
  return {};
}

std::chrono::milliseconds chaos_hooks::submission_delay() const {
  if (!on_.load(std::memory_order_acquire))
    return std::chrono::milliseconds{0};
  std::lock_guard<std::mutex> guard{mtx_};
  return on_.load(std::memory_order_acquire) ? submission_delay_ : std::chrono::milliseconds{0};
}

bool chaos_hooks::delays(const std::string& service) const {
  if (!on_.load(std::memory_order_acquire))
    return false;
  std::lock_guard<std::mutex> guard{mtx_};
  return on_.load(std::memory_order_acquire) && delays_.count(service) != 0;
}

effector_fault chaos_hooks::before_effector(const std::string& service) {
  if (!on_.load(std::memory_order_acquire))
    return {};
  std::lock_guard<std::mutex> guard{mtx_};
  effector_fault out;
  if (!on_.load(std::memory_order_acquire))
    return out;
  if (auto i = delays_.find(service); i != delays_.end())
    out.delay = i->second;
  if (auto i = failing_.find(service); i != failing_.end()) {
    out.fail = true;
    if (--i->second == 0)
      failing_.erase(i);
  }
  return out;
}

caf::error chaos_hooks::console_command(const std::string& what, const std::string& target,
                                        uint64_t amount) {
  if (!console_allowed())
    return refuse(ec::authority_denied, "chaos hooks are not enabled for the console "
                                        "(set [chaos] enabled = true and console = true)");
  auto ms = std::chrono::milliseconds{static_cast<int64_t>(std::min<uint64_t>(amount, 3600000))};
  if (what == "fail-effector")
    return fail_effector(target, static_cast<uint32_t>(std::min<uint64_t>(amount, 1000000)));
  if (what == "delay-effector")
    return delay_effector(target, ms);
  if (what == "fail-journal")
    return fail_journal(amount != 0);
  if (what == "kill")
    return kill(target);
  if (what == "delay-messages")
    return delay_submissions(ms);
  if (what == "off") {
    std::lock_guard<std::mutex> guard{mtx_};
    failing_.clear();
    delays_.clear();
    submission_delay_ = std::chrono::milliseconds{0};
    return {};
  }
  return refuse(ec::invalid_input, "unknown chaos fault '" + what
                                     + "' (fail-effector, delay-effector, fail-journal, kill, "
                                       "delay-messages, off)");
}

void chaos_hooks::bind(std::function<caf::error(const std::string&)> breaker_killer,
                       std::function<void(bool)> journal_failer) {
  std::lock_guard<std::mutex> guard{mtx_};
  killer_ = std::move(breaker_killer);
  journal_failer_ = std::move(journal_failer);
}

} // namespace bulwark
