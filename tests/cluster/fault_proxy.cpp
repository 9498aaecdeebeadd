#include "cluster/fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

namespace bulwark::test {

struct fault_proxy::link {
  int client = -1;
  int server = -1;
  std::atomic<bool> closed{false};
  void close_both() {
    if (!closed.exchange(true)) {
      ::shutdown(client, SHUT_RDWR);
      ::shutdown(server, SHUT_RDWR);
    }
  }
  ~link() {
    ::close(client);
    ::close(server);
  }
};

fault_proxy::fault_proxy(uint16_t target) : target_(target) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener_ >= 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener_, 64) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread{[this] { accept_loop(); }};
}

fault_proxy::~fault_proxy() {
  running_ = false;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& l : links_)
      l->close_both();
  }
  for (auto& t : threads_)
    t.join();
}

void fault_proxy::cut(bool up, bool down) {
  cut_up_ = up;
  cut_down_ = down;
}

void fault_proxy::accept_loop() {
  while (running_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0)
      continue;
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(target_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(server);
      ::close(client);
      continue;
    }
    auto l = std::make_shared<link>();
    l->client = client;
    l->server = server;
    std::lock_guard<std::mutex> guard{mtx_};
    links_.push_back(l);
    threads_.emplace_back([this, l] { pump(l, true); });
    threads_.emplace_back([this, l] { pump(l, false); });
  }
}

void fault_proxy::pump(const std::shared_ptr<link>& l, bool up) {
  int from = up ? l->client : l->server;
  int to = up ? l->server : l->client;
  auto& cut = up ? cut_up_ : cut_down_;
  char buf[16384];
  while (running_ && !l->closed) {
    if (cut) { // not read: the bytes wait in the kernel, as in a partition
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
      continue;
    }
    pollfd p{from, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    auto n = ::recv(from, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    for (ssize_t off = 0; off < n;) {
      auto w = ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) {
        l->close_both();
        return;
      }
      off += w;
    }
  }
  l->close_both();
}

} // namespace bulwark::test
