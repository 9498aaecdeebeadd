#pragma once

/// Ed25519 key pairs (OpenSSL 3) for signing and checking heads.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include "messages/cluster.hpp"

namespace bulwark {

/// One Ed25519 key: a private key (signs and verifies) or a public key (verifies).
class ed25519_key {
public:
  /// Generates a fresh private key.
  static caf::expected<ed25519_key> generate();

  /// Reads a PEM private key (PKCS#8); errors name the path and the problem.
  static caf::expected<ed25519_key> load_private(const std::string& path);

  /// Reads a PEM public key (SubjectPublicKeyInfo).
  static caf::expected<ed25519_key> load_public(const std::string& path);

  /// Rebuilds a public key from its 32 raw bytes.
  static caf::expected<ed25519_key> from_raw_public(const std::vector<uint8_t>& raw);

  ed25519_key(ed25519_key&&) noexcept;
  ed25519_key& operator=(ed25519_key&&) noexcept;
  ~ed25519_key();

  /// Writes the private key as PEM into a new file created with mode 0600; refuses to
  /// overwrite an existing file.
  caf::error write_private(const std::string& path) const;

  /// Writes the public key as PEM; refuses to overwrite an existing file.
  caf::error write_public(const std::string& path) const;

  /// Returns the 32 raw bytes of the public key.
  std::vector<uint8_t> raw_public() const;

  /// Returns the 64-byte signature of `msg`. @pre this is a private key.
  caf::expected<std::vector<uint8_t>> sign(const std::vector<uint8_t>& msg) const;

  /// Returns true if `sig` is this key's signature of `msg`.
  bool verify(const std::vector<uint8_t>& msg, const std::vector<uint8_t>& sig) const;

  /// Returns true for a private key.
  bool is_private() const noexcept { return private_; }

private:
  ed25519_key(void* pkey, bool is_private) : pkey_(pkey), private_(is_private) {}
  void* pkey_; // EVP_PKEY*, kept opaque so OpenSSL stays out of this header
  bool private_;
};

/// Fills `head.public_key` and `head.signature` by signing it with `key`.
caf::error sign_head(const ed25519_key& key, signed_head& head);

/// Checks `head`'s signature with `key`: `INTEGRITY_VIOLATION` when the head names
/// another key or the signature does not check, `INVALID_INPUT` for a malformed head.
caf::error verify_head(const ed25519_key& key, const signed_head& head);

} // namespace bulwark
