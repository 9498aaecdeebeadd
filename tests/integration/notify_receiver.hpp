#pragma once

// Test support for the notification suites: a webhook receiver (cpp-httplib on a free
// loopback port) that records every request and answers as the test tells it.

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace bulwark::test {

struct notify_receiver {
  struct request {
    nlohmann::json body;
    std::string idempotency_key;
    std::string authorization;
  };

  httplib::Server svr;
  std::thread runner;
  int port = 0;
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<request> requests;
  /// The status of the n-th request (from 0); default 200.
  std::function<int(size_t)> answer = [](size_t) { return 200; };
  bool hold = false; ///< while true, requests wait before they are answered

  notify_receiver() {
    svr.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::unique_lock<std::mutex> lock{mtx};
      auto n = requests.size();
      requests.push_back({nlohmann::json::parse(req.body, nullptr, false),
                          req.get_header_value("Idempotency-Key"),
                          req.get_header_value("Authorization")});
      cv.notify_all();
      cv.wait(lock, [this] { return !hold; });
      res.status = answer(n);
      res.set_content("{}", "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    runner = std::thread{[this] { svr.listen_after_bind(); }};
    for (int i = 0; i < 400 && !svr.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }

  ~notify_receiver() {
    release();
    svr.stop();
    if (runner.joinable())
      runner.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port) + "/hook";
  }

  void release() {
    std::lock_guard<std::mutex> guard{mtx};
    hold = false;
    cv.notify_all();
  }

  /// Waits (up to 20 s) until at least `n` requests arrived; true if they did.
  bool wait_for(size_t n) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, std::chrono::seconds{20}, [&] { return requests.size() >= n; });
  }

  size_t count() {
    std::lock_guard<std::mutex> guard{mtx};
    return requests.size();
  }

  std::vector<request> all() {
    std::lock_guard<std::mutex> guard{mtx};
    return requests;
  }
};

/// Polls `pred` (up to 20 s); true once it holds.
inline bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 2000; ++i) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return pred();
}

} // namespace bulwark::test
