#pragma once

/// SHA-256 through OpenSSL's SHA256_* functions with a reused context (the fastest path
/// measured here, see README "Performance").

#include <cstddef>
#include <cstdint>

#include "messages/ids.hpp"

namespace bulwark {

/// Computes SHA-256 digests; one instance per thread (the context is mutable).
class sha256_hasher {
public:
  sha256_hasher();
  ~sha256_hasher();
  sha256_hasher(const sha256_hasher&) = delete;
  sha256_hasher& operator=(const sha256_hasher&) = delete;

  /// Returns SHA-256(data).
  digest hash(const uint8_t* data, size_t size);

  /// Returns the chain value SHA-256(prev || data).
  digest chain(const digest& prev, const uint8_t* data, size_t size);

private:
  void* ctx_; // SHA256_CTX*, kept opaque so OpenSSL stays out of this header
};

/// One-shot SHA-256 for cold paths.
digest sha256(const uint8_t* data, size_t size);

} // namespace bulwark
