#include "persistence/ed25519.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "messages/error.hpp"
#include "persistence/head_codec.hpp"

namespace bulwark {

namespace {

EVP_PKEY* pk(void* p) {
  return static_cast<EVP_PKEY*>(p);
}

/// Drains OpenSSL's error queue into one line.
std::string ssl_errors() {
  std::string out;
  char buf[256];
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? "" : "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

caf::error key_error(const std::string& path, const std::string& what) {
  return refuse(ec::invalid_input, path + ": " + what + " (" + ssl_errors() + ")");
}

/// Opens `path` for writing, failing if it exists; `mode` applies from creation.
caf::expected<FILE*> create_file(const std::string& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0)
    return refuse(ec::unavailable, path + ": cannot create: " + std::strerror(errno));
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    return refuse(ec::unavailable, path + ": cannot open: " + std::strerror(errno));
  }
  return f;
}

template <class Read>
caf::expected<EVP_PKEY*> read_pem(const std::string& path, Read read) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f)
    return refuse(ec::invalid_input, path + ": cannot read: " + std::strerror(errno));
  EVP_PKEY* key = read(f);
  std::fclose(f);
  if (!key)
    return key_error(path, "not a PEM key");
  if (!EVP_PKEY_is_a(key, "ED25519")) {
    EVP_PKEY_free(key);
    return refuse(ec::invalid_input, path + ": not an Ed25519 key");
  }
  return key;
}

} // namespace

caf::expected<ed25519_key> ed25519_key::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key)
    return refuse(ec::unavailable, "Ed25519 key generation failed: " + ssl_errors());
  return ed25519_key{key, true};
}

caf::expected<ed25519_key> ed25519_key::load_private(const std::string& path) {
  auto key = read_pem(path, [](FILE* f) {
    return PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  });
  if (!key)
    return key.error();
  return ed25519_key{*key, true};
}

caf::expected<ed25519_key> ed25519_key::load_public(const std::string& path) {
  auto key = read_pem(path, [](FILE* f) { return PEM_read_PUBKEY(f, nullptr, nullptr, nullptr); });
  if (!key)
    return key.error();
  return ed25519_key{*key, false};
}

caf::expected<ed25519_key> ed25519_key::from_raw_public(const std::vector<uint8_t>& raw) {
  if (raw.size() != 32)
    return refuse(ec::invalid_input, "an Ed25519 public key has 32 bytes, not "
                                       + std::to_string(raw.size()));
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, raw.data(),
                                                 raw.size());
  if (!key)
    return refuse(ec::invalid_input, "not an Ed25519 public key: " + ssl_errors());
  return ed25519_key{key, false};
}

ed25519_key::ed25519_key(ed25519_key&& other) noexcept
  : pkey_(other.pkey_), private_(other.private_) {
  other.pkey_ = nullptr;
}

ed25519_key& ed25519_key::operator=(ed25519_key&& other) noexcept {
  std::swap(pkey_, other.pkey_);
  std::swap(private_, other.private_);
  return *this;
}

ed25519_key::~ed25519_key() {
  EVP_PKEY_free(pk(pkey_));
}

caf::error ed25519_key::write_private(const std::string& path) const {
  if (!private_)
    return refuse(ec::invalid_input, path + ": this is a public key only");
  auto f = create_file(path, 0600);
  if (!f)
    return f.error();
  int ok = PEM_write_PrivateKey(*f, pk(pkey_), nullptr, nullptr, 0, nullptr, nullptr);
  bool closed = std::fclose(*f) == 0;
  if (ok != 1 || !closed)
    return refuse(ec::unavailable, path + ": writing the private key failed");
  return {};
}

caf::error ed25519_key::write_public(const std::string& path) const {
  auto f = create_file(path, 0644);
  if (!f)
    return f.error();
  int ok = PEM_write_PUBKEY(*f, pk(pkey_));
  bool closed = std::fclose(*f) == 0;
  if (ok != 1 || !closed)
    return refuse(ec::unavailable, path + ": writing the public key failed");
  return {};
}

std::vector<uint8_t> ed25519_key::raw_public() const {
  std::vector<uint8_t> raw(32);
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pk(pkey_), raw.data(), &len) != 1 || len != 32) {
    ERR_clear_error();
    return {};
  }
  return raw;
}

caf::expected<std::vector<uint8_t>> ed25519_key::sign(const std::vector<uint8_t>& msg) const {
  if (!private_)
    return refuse(ec::invalid_input, "signing needs a private key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::vector<uint8_t> sig(64);
  size_t len = sig.size();
  // Ed25519 signs the message itself: no digest, one-shot.
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, pk(pkey_)) == 1
            && EVP_DigestSign(ctx, sig.data(), &len, msg.data(), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != 64)
    return refuse(ec::unavailable, "Ed25519 signing failed: " + ssl_errors());
  return sig;
}

bool ed25519_key::verify(const std::vector<uint8_t>& msg, const std::vector<uint8_t>& sig) const {
  if (sig.size() != 64)
    return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pk(pkey_)) == 1
            && EVP_DigestVerify(ctx, sig.data(), sig.size(), msg.data(), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

caf::error sign_head(const ed25519_key& key, signed_head& head) {
  if (!is_valid_id(head.node_id))
    return refuse(ec::invalid_input, "node id \"" + head.node_id + "\" is not a valid id");
  auto sig = key.sign(signed_head_bytes(head));
  if (!sig)
    return sig.error();
  head.public_key = key.raw_public();
  head.signature = std::move(*sig);
  return {};
}

caf::error verify_head(const ed25519_key& key, const signed_head& head) {
  if (!is_valid_id(head.node_id))
    return refuse(ec::invalid_input, "head: node id is not a valid id");
  if (head.signature.size() != 64)
    return refuse(ec::invalid_input, "head: the signature has "
                                       + std::to_string(head.signature.size())
                                       + " bytes, not 64");
  auto raw = key.raw_public();
  if (!head.public_key.empty()
      && (head.public_key.size() != raw.size()
          || CRYPTO_memcmp(head.public_key.data(), raw.data(), raw.size()) != 0))
    return refuse(ec::integrity_violation, "head of node " + head.node_id
                                             + " names another signing key");
  if (!key.verify(signed_head_bytes(head), head.signature))
    return refuse(ec::integrity_violation, "head of node " + head.node_id + " at seq "
                                             + std::to_string(head.seq.value)
                                             + ": bad signature");
  return {};
}

} // namespace bulwark
