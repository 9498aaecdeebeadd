#include "apps/fleet_registrar.hpp"

#include <chrono>
#include <map>

#include <spdlog/spdlog.h>

#include "bulwark/engine.hpp"

namespace bulwark::cli {

std::string register_one(engine& eng, const registration& r) {
  std::map<std::string, std::string> attrs(r.attributes.begin(), r.attributes.end());
  auto res = eng.register_resource(r.resource.value, r.service, r.region, attrs);
  if (res.ok || res.message.find("registered already") != std::string::npos)
    return "ok";
  if (res.code == "UNAVAILABLE")
    return "wait";
  return res.code + ": " + res.message;
}

fleet_registrar::~fleet_registrar() {
  stop();
}

void fleet_registrar::start(engine& eng, std::vector<registration> pending, std::string file) {
  thread_ = std::thread{[this, &eng, pending = std::move(pending), file = std::move(file)] {
    run(eng, pending, file);
  }};
}

void fleet_registrar::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void fleet_registrar::run(engine& eng, std::vector<registration> pending,
                          const std::string& file) {
  auto total = pending.size();
  for (;;) {
    {
      std::unique_lock<std::mutex> guard{mtx_};
      if (cv_.wait_for(guard, std::chrono::seconds{1}, [this] { return stopping_; })) {
        spdlog::warn("node: stopping with {} of the {} resources of {} not registered "
                     "(the leader did not answer)",
                     pending.size(), total, file);
        return;
      }
    }
    // In order, until the leader stops answering: the rest waits for the next second.
    size_t done = 0;
    for (; done < pending.size(); ++done) {
      auto answer = register_one(eng, pending[done]);
      if (answer == "wait")
        break;
      if (answer != "ok")
        spdlog::error("node: resource {} of {} not registered: {}",
                      pending[done].resource.value, file, answer);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(done));
    if (pending.empty()) {
      spdlog::info("node: the leader answered: the {} resources of {} that waited for it are "
                   "registered",
                   total, file);
      return;
    }
  }
}

} // namespace bulwark::cli
