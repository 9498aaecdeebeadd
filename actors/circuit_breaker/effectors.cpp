#include "actors/circuit_breaker/effectors.hpp"

namespace bulwark {

void effector_registry::add(const std::string& service, effector_fn fn,
                            std::function<bool()> inline_now) {
  auto x = std::make_shared<const effector_entry>(
    effector_entry{std::move(fn), std::move(inline_now)});
  std::lock_guard<std::mutex> guard{mtx_};
  fns_[service] = std::move(x);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

effector_fn effector_registry::find(const std::string& service) const {
  auto x = find_shared(service);
  return x ? x->fn : effector_fn{};
}

std::shared_ptr<const effector_entry>
effector_registry::find_shared(const std::string& service) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = fns_.find(service);
  return i != fns_.end() ? i->second : nullptr;
}

bool effector_registry::has(const std::string& service) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return fns_.count(service) != 0;
}

effector_pool::effector_pool(size_t threads) {
  for (size_t i = 0; i < threads; ++i)
    workers_.emplace_back([this] { work(); });
}

effector_pool::~effector_pool() {
  stop();
}

void effector_pool::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_)
    w.join();
  std::lock_guard<std::mutex> guard{mtx_};
  joined_ = true;
}

void effector_pool::run(std::function<void()> job) {
  if (workers_.empty()) {
    job();
    return;
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (joined_)
      return; // stopped: nobody would run it
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void effector_pool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      cv_.wait(guard, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty())
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

} // namespace bulwark

namespace bulwark {

void breaker_directory::put(const std::string& service, breaker_actor handle) {
  std::lock_guard<std::mutex> guard{mtx_};
  entries_[service].handle = std::move(handle);
}

void breaker_directory::update(const std::string& service, breaker_state state,
                               caf::timestamp open_until) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = entries_[service];
  e.state = state;
  e.open_until = open_until;
}

bool breaker_directory::find(const std::string& service, entry& out) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(service);
  if (i == entries_.end())
    return false;
  out = i->second;
  return true;
}

std::vector<std::string> breaker_directory::services() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> out;
  for (auto& [s, e] : entries_)
    out.push_back(s);
  return out;
}

void breaker_directory::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  entries_.clear();
}

} // namespace bulwark
