#include "apps/console_client.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace bulwark::cli {

namespace {

std::string openssl_reason() {
  std::string out;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? "" : "; ";
    out += buf;
  }
  return out;
}

bool is_ip_literal(const std::string& host) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0)
    return false;
  ::freeaddrinfo(res);
  return true;
}

} // namespace

console_connection::~console_connection() {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  SSL_CTX_free(ctx_);
  if (fd_ >= 0)
    ::close(fd_);
}

bool console_connection::open(const std::string& address, const console_tls& tls,
                              std::string& error) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    error = "--connect must be HOST:PORT";
    return false;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto host = address.substr(0, colon), port = address.substr(colon + 1);
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    error = address + ": " + gai_strerror(rc);
    return false;
  }
  for (auto* ai = res; ai != nullptr && fd_ < 0; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd_ >= 0 && ::connect(fd_, ai->ai_addr, ai->ai_addrlen) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) {
    error = address + ": cannot connect";
    return false;
  }
  return !tls.enabled || start_tls(host, tls, error);
}

bool console_connection::start_tls(const std::string& host, const console_tls& tls,
                                   std::string& error) {
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) {
    error = "TLS: " + openssl_reason();
    return false;
  }
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  bool trusted = tls.ca_file.empty()
                   ? SSL_CTX_set_default_verify_paths(ctx_) == 1
                   : SSL_CTX_load_verify_locations(ctx_, tls.ca_file.c_str(), nullptr) == 1;
  if (!trusted) {
    error = (tls.ca_file.empty() ? std::string{"the system's certificates"} : tls.ca_file)
            + ": cannot load trusted certificates (" + openssl_reason() + ")";
    return false;
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  // SSL_VERIFY_PEER checks the chain only; the name (or address) is checked here.
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    SSL_set1_host(ssl_, host.c_str());
  }
  if (SSL_connect(ssl_) != 1) {
    auto verify = SSL_get_verify_result(ssl_);
    error = host + ": TLS handshake failed";
    if (verify != X509_V_OK)
      error += std::string{": certificate not trusted ("}
               + X509_verify_cert_error_string(verify) + ")";
    else if (auto why = openssl_reason(); !why.empty())
      error += ": " + why;
    return false;
  }
  return true;
}

long console_connection::write_some(const char* data, size_t size) {
  if (ssl_ == nullptr)
    return ::send(fd_, data, size, MSG_NOSIGNAL);
  size_t written = 0;
  return SSL_write_ex(ssl_, data, size, &written) == 1 ? static_cast<long>(written) : -1;
}

long console_connection::read_some(char* data, size_t size) {
  if (ssl_ == nullptr)
    return ::read(fd_, data, size);
  size_t got = 0;
  return SSL_read_ex(ssl_, data, size, &got) == 1 ? static_cast<long>(got) : 0;
}

bool console_connection::send(const std::string& line) {
  auto data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    auto n = write_some(data.data() + off, data.size() - off);
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool console_connection::take_line(std::string& line) {
  auto pos = buf_.find('\n');
  if (pos == std::string::npos)
    return false;
  line = buf_.substr(0, pos);
  buf_.erase(0, pos + 1);
  return true;
}

bool console_connection::fill() {
  do { // TLS may hold decrypted bytes that poll cannot see
    char tmp[65536];
    auto n = read_some(tmp, sizeof tmp);
    if (n <= 0)
      return false;
    buf_.append(tmp, static_cast<size_t>(n));
  } while (ssl_ != nullptr && SSL_pending(ssl_) > 0);
  return true;
}

bool console_connection::receive(std::string& line) {
  while (!take_line(line))
    if (!fill())
      return false;
  return true;
}

} // namespace bulwark::cli
