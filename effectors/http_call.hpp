#pragma once

/// Calls one configured HTTP endpoint with libcurl: a POST of JSON per call (or a GET of
/// a URL on it), TLS with an optional CA file, a bearer token, an Idempotency-Key, no
/// redirects followed.

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "effectors/effector_config.hpp"

namespace bulwark {

/// How a call ended.
enum class http_end : uint8_t {
  answered = 1,    ///< `status` holds the HTTP status
  timed_out = 2,   ///< no full answer within the timeout
  unreachable = 3, ///< no connection (refused, unresolved, reset before an answer)
  not_http = 4,    ///< the peer's answer is not HTTP
  tls = 5,         ///< the TLS handshake or the peer's certificate failed
  other = 6        ///< any other transfer error (`error` says which)
};

/// What one call produced.
struct http_outcome {
  http_end end = http_end::other;
  long status = 0;
  std::string body;     ///< at most the spec's max_output bytes
  std::string location; ///< a redirect's Location header
  std::string error;    ///< libcurl's description when not answered
};

/// One endpoint; thread-safe: each call takes an idle handle (connections are reused).
class http_endpoint {
public:
  explicit http_endpoint(http_spec spec);
  ~http_endpoint();
  http_endpoint(const http_endpoint&) = delete;
  http_endpoint& operator=(const http_endpoint&) = delete;

  /// POSTs `body` (JSON); `idempotency_key` ("" none) goes in the Idempotency-Key header.
  http_outcome post(const std::string& body, const std::string& idempotency_key,
                    std::chrono::nanoseconds timeout);

  /// GETs `url` (on this endpoint's server: the spec's TLS, token and limits apply).
  http_outcome get(const std::string& url, std::chrono::nanoseconds timeout);

private:
  http_outcome perform(const std::string& url, const std::string* body,
                       const std::string& idempotency_key, std::chrono::nanoseconds timeout);
  void* take();
  void give(void* handle);

  http_spec spec_;
  std::mutex mtx_;
  std::vector<void*> idle_;
};

} // namespace bulwark
