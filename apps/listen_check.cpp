// Whether the node's listeners can bind their addresses (apps/listen_check.hpp).

#include "apps/listen_check.hpp"

#include <cerrno>
#include <cstring>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bulwark::cli {

std::string cannot_listen(const std::string& host, uint16_t port) {
  if (port == 0)
    return {};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  const char* node = host.empty() ? nullptr : host.c_str();
  if (int rc = ::getaddrinfo(node, service.c_str(), &hints, &found); rc != 0)
    return ::gai_strerror(rc);
  std::string why;
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    bool bound = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    if (!bound)
      why = std::strerror(errno);
    ::close(fd);
    if (bound) {
      why.clear();
      break;
    }
  }
  ::freeaddrinfo(found);
  return why;
}

} // namespace bulwark::cli
