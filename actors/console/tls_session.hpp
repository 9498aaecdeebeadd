#pragma once

/// TLS for the console listener: OpenSSL over two memory BIOs, so the broker keeps its
/// sockets and a session only turns ciphertext into plaintext and back.
///
/// CAF 0.17's caf_openssl secures remote actors, not brokers; here the broker moves the
/// bytes it reads into `receive` and writes what `take_output` returns.

#include <memory>
#include <string>
#include <string_view>

#include "caf/expected.hpp"

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace bulwark {

/// A server TLS context (TLS 1.2 or newer) with its certificate chain and private key.
class tls_context {
public:
  /// Loads a PEM certificate chain and its PEM private key.
  ///
  /// A failure is `INVALID_INPUT` naming the configuration key (`console.tls_cert` or
  /// `console.tls_key`), the path and OpenSSL's reason.
  static caf::expected<std::shared_ptr<tls_context>> load(const std::string& cert_file,
                                                          const std::string& key_file);

  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  /// The OpenSSL context, shared by every session.
  ssl_ctx_st* native() const {
    return ctx_;
  }

private:
  explicit tls_context(ssl_ctx_st* ctx) : ctx_(ctx) {
  }
  ssl_ctx_st* ctx_;
};

/// The server side of one TLS connection over memory BIOs.
///
/// Input is consumed as it is decrypted (at most one partial record stays buffered) and
/// output is drained by the caller after every call, so neither side grows on its own.
class tls_session {
public:
  /// Starts a session that waits for the client's hello.
  explicit tls_session(std::shared_ptr<tls_context> ctx);
  ~tls_session();
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  /// Feeds bytes read from the socket and appends what they decrypt to into `plain`.
  /// @returns false when the connection must close: a failed handshake, a bad record, or
  ///          the peer's close_notify (see `error` and `peer_closed`).
  bool receive(const char* data, size_t size, std::string& plain);

  /// Encrypts `plain` for the peer; false before the handshake finished or on error.
  bool send(std::string_view plain);

  /// Queues a close_notify alert (when the handshake finished).
  void shutdown();

  /// Returns (and forgets) the ciphertext waiting to be written to the socket.
  std::string take_output();

  /// True once the handshake completed.
  bool is_established() const;

  /// True after the peer sent close_notify.
  bool peer_closed() const {
    return peer_closed_;
  }

  /// Why the session failed (OpenSSL's reason); empty while it works.
  const std::string& error() const {
    return error_;
  }

private:
  bool fail(const char* what);

  std::shared_ptr<tls_context> ctx_;
  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;  ///< owned by ssl_
  bio_st* out_ = nullptr; ///< owned by ssl_
  bool peer_closed_ = false;
  std::string error_;
};

} // namespace bulwark
