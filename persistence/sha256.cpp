#include "persistence/sha256.hpp"

#include <new>
#include <stdexcept>

#include <openssl/evp.h>

namespace bulwark {

namespace {

/// The fetched SHA-256 implementation, shared by all contexts (read-only after fetch).
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    auto* result = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (result == nullptr)
      throw std::runtime_error("OpenSSL: SHA256 unavailable");
    return result;
  }();
  return md;
}

EVP_MD_CTX* as_ctx(void* p) {
  return static_cast<EVP_MD_CTX*>(p);
}

} // namespace

sha256_hasher::sha256_hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr)
    throw std::bad_alloc();
}

sha256_hasher::~sha256_hasher() {
  EVP_MD_CTX_free(as_ctx(ctx_));
}

digest sha256_hasher::hash(const uint8_t* data, size_t size) {
  digest out;
  unsigned len = 0;
  auto* ctx = as_ctx(ctx_);
  if (EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1
      || EVP_DigestUpdate(ctx, data, size) != 1
      || EVP_DigestFinal_ex(ctx, out.bytes.data(), &len) != 1)
    throw std::runtime_error("OpenSSL: SHA256 failed");
  return out;
}

digest sha256_hasher::chain(const digest& prev, const uint8_t* data, size_t size) {
  digest out;
  unsigned len = 0;
  auto* ctx = as_ctx(ctx_);
  if (EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1
      || EVP_DigestUpdate(ctx, prev.bytes.data(), prev.bytes.size()) != 1
      || EVP_DigestUpdate(ctx, data, size) != 1
      || EVP_DigestFinal_ex(ctx, out.bytes.data(), &len) != 1)
    throw std::runtime_error("OpenSSL: SHA256 failed");
  return out;
}

digest sha256(const uint8_t* data, size_t size) {
  sha256_hasher h;
  return h.hash(data, size);
}

} // namespace bulwark
