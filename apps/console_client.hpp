#pragma once

/// The client side of a console connection for `bulwark console`: plain TCP or TLS.

#include <string>

struct ssl_ctx_st;
struct ssl_st;

namespace bulwark::cli {

/// How the client secures its connection.
struct console_tls {
  bool enabled = false;
  std::string ca_file; ///< trust exactly these certificates; empty: the system's store
};

/// A line-oriented connection to a node's console.
class console_connection {
public:
  console_connection() = default;
  ~console_connection();
  console_connection(const console_connection&) = delete;
  console_connection& operator=(const console_connection&) = delete;

  /// Connects to HOST:PORT and, with TLS, completes the handshake and checks that the
  /// server's certificate is trusted and names HOST; `error` says why not.
  bool open(const std::string& address, const console_tls& tls, std::string& error);

  /// Sends one line (a newline is added).
  bool send(const std::string& line);

  /// Reads one line; false at the end of the stream.
  bool receive(std::string& line);

  /// The socket, to poll for input.
  int fd() const { return fd_; }

  /// Takes one line already received, without reading; false if there is none.
  bool take_line(std::string& line);

  /// Reads what has arrived (call when poll says the socket is readable); false at the
  /// end of the stream.
  bool fill();

private:
  bool start_tls(const std::string& host, const console_tls& tls, std::string& error);
  long write_some(const char* data, size_t size);
  long read_some(char* data, size_t size);

  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::string buf_;
};

} // namespace bulwark::cli
