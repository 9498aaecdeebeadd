#include "actors/console/tls_session.hpp"

#include <cstdio>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "messages/error.hpp"

namespace bulwark {

namespace {

/// Drains OpenSSL's error queue of this thread into one line.
std::string openssl_reason() {
  std::string out;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty())
      out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

caf::error refuse_file(const char* key, const std::string& path, const std::string& why) {
  return refuse(ec::invalid_input, std::string{key} + ": " + path + ": " + why);
}

/// Checks that `path` can be opened, for a message better than OpenSSL's.
caf::error check_readable(const char* key, const std::string& path) {
  if (path.empty())
    return refuse(ec::invalid_input, std::string{key} + ": must name a PEM file");
  auto* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return refuse_file(key, path, "cannot be read");
  std::fclose(f);
  return {};
}

} // namespace

caf::expected<std::shared_ptr<tls_context>> tls_context::load(const std::string& cert_file,
                                                              const std::string& key_file) {
  if (auto err = check_readable("console.tls_cert", cert_file))
    return err;
  if (auto err = check_readable("console.tls_key", key_file))
    return err;
  ERR_clear_error();
  auto* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr)
    return refuse(ec::unavailable, "TLS context: " + openssl_reason());
  std::shared_ptr<tls_context> out{new tls_context(ctx)};
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Idle connections give their record buffers back; no resumption tickets are needed.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_num_tickets(ctx, 0);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1)
    return refuse_file("console.tls_cert", cert_file,
                       "not a PEM certificate (" + openssl_reason() + ")");
  EVP_PKEY* key = nullptr;
  if (auto* f = std::fopen(key_file.c_str(), "rb")) {
    key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
  }
  if (key == nullptr)
    return refuse_file("console.tls_key", key_file,
                       "not a PEM private key (" + openssl_reason() + ")");
  int used = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return refuse_file("console.tls_key", key_file,
                       "does not match the certificate " + cert_file + " ("
                         + openssl_reason() + ")");
  return out;
}

tls_context::~tls_context() {
  SSL_CTX_free(ctx_);
}

tls_session::tls_session(std::shared_ptr<tls_context> ctx) : ctx_(std::move(ctx)) {
  ssl_ = SSL_new(ctx_->native());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    in_ = out_ = nullptr;
    fail("SSL_new");
    return;
  }
  SSL_set_bio(ssl_, in_, out_); // ssl_ owns both from here
  SSL_set_accept_state(ssl_);
}

tls_session::~tls_session() {
  SSL_free(ssl_);
}

bool tls_session::fail(const char* what) {
  if (error_.empty())
    error_ = std::string{what} + ": " + openssl_reason();
  ERR_clear_error();
  return false;
}

bool tls_session::receive(const char* data, size_t size, std::string& plain) {
  if (!error_.empty() || ssl_ == nullptr)
    return false;
  if (size > 0 && BIO_write(in_, data, static_cast<int>(size)) != static_cast<int>(size))
    return fail("BIO_write");
  if (!SSL_is_init_finished(ssl_)) {
    int rc = SSL_do_handshake(ssl_);
    if (rc != 1) {
      int e = SSL_get_error(ssl_, rc);
      return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? true : fail("handshake");
    }
  }
  char buf[16 * 1024];
  for (;;) {
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plain.append(buf, static_cast<size_t>(n));
      continue;
    }
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        return true;
      case SSL_ERROR_ZERO_RETURN:
        peer_closed_ = true;
        return false;
      default:
        return fail("read");
    }
  }
}

bool tls_session::send(std::string_view plain) {
  if (!error_.empty() || ssl_ == nullptr || !SSL_is_init_finished(ssl_))
    return false;
  size_t off = 0;
  while (off < plain.size()) {
    size_t written = 0;
    if (SSL_write_ex(ssl_, plain.data() + off, plain.size() - off, &written) != 1)
      return fail("write");
    off += written;
  }
  return true;
}

void tls_session::shutdown() {
  if (ssl_ != nullptr && error_.empty() && SSL_is_init_finished(ssl_))
    SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string tls_session::take_output() {
  std::string out;
  if (out_ == nullptr)
    return out;
  auto pending = BIO_ctrl_pending(out_);
  if (pending == 0)
    return out;
  out.resize(pending);
  auto n = BIO_read(out_, out.data(), static_cast<int>(pending));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

bool tls_session::is_established() const {
  return ssl_ != nullptr && SSL_is_init_finished(ssl_);
}

} // namespace bulwark
