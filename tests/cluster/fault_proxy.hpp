#pragma once

/// A TCP proxy the test controls, for partitions between real processes: it forwards a
/// loopback port to a target, and either direction can be cut (the proxy stops reading,
/// so bytes wait as in a real partition and flow again when it heals) or every
/// connection reset.

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace bulwark::test {

class fault_proxy {
public:
  /// Listens on a free loopback port and forwards each connection to 127.0.0.1:`target`.
  explicit fault_proxy(uint16_t target);
  ~fault_proxy();
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  uint16_t port() const {
    return port_;
  }

  /// Stops forwarding client-to-target bytes (`up`), target-to-client bytes (`down`), or both.
  void cut(bool up, bool down);

  /// Forwards both ways again (what waited is delivered).
  void heal() {
    cut(false, false);
  }

private:
  struct link;
  void accept_loop();
  void pump(const std::shared_ptr<link>& l, bool up);

  uint16_t target_ = 0;
  uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> running_{true};
  std::atomic<bool> cut_up_{false};
  std::atomic<bool> cut_down_{false};
  std::mutex mtx_;
  std::list<std::thread> threads_;
  std::list<std::shared_ptr<link>> links_;
  std::thread acceptor_;
};

} // namespace bulwark::test
