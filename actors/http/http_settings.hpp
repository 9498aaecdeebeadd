#pragma once

/// Settings of the node's HTTP API (`[http]` in bulwark.toml); no server headers here.

#include <chrono>
#include <cstddef>
#include <string>

namespace bulwark {

struct http_settings {
  std::string listen = "off";  ///< HOST:PORT, or "off" (no HTTP API)
  std::string tls_cert;        ///< PEM certificate chain; with tls_key the API speaks HTTPS
  std::string tls_key;         ///< PEM private key of tls_cert
  size_t pool = 128;           ///< server threads; each open connection holds one
  size_t max_body = 1 << 20;   ///< bytes; larger request bodies get 413
  size_t max_streams = 8;      ///< open event streams at once; more get 503 (below pool)
  std::chrono::milliseconds read_timeout{5000};   ///< per read of a request
  std::chrono::milliseconds write_timeout{5000};  ///< per write of a response
  std::chrono::milliseconds idle_timeout{5000};   ///< an idle keep-alive connection closes
  std::chrono::milliseconds request_timeout{60000}; ///< longest wait for a command's answer
  std::chrono::milliseconds heartbeat{15000};     ///< comment line on a quiet event stream
};

} // namespace bulwark
