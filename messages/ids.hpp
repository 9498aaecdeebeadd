#pragma once

/// Strong identifier and digest types shared by every part of Bulwark.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "caf/meta/hex_formatted.hpp"
#include "caf/meta/type_name.hpp"

namespace bulwark {

/// A journal sequence number; the first event has seq 1, 0 means "none".
struct seq_no {
  uint64_t value = 0;
  friend bool operator==(seq_no x, seq_no y) { return x.value == y.value; }
  friend bool operator!=(seq_no x, seq_no y) { return x.value != y.value; }
  friend bool operator<(seq_no x, seq_no y) { return x.value < y.value; }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, seq_no& x) {
  return f(caf::meta::type_name("seq_no"), x.value);
}

/// SHA-256 output; prints as lowercase hex.
///
/// A digest from outside (a record, a console request) is built only through
/// `parse_digest`, which checks length and alphabet (PV-002).
struct digest {
  std::array<uint8_t, 32> bytes{};
  /// Compares in time independent of the contents (for hashes received from outside).
  friend bool operator==(const digest& x, const digest& y) noexcept {
    uint8_t acc = 0;
    for (size_t i = 0; i < x.bytes.size(); ++i)
      acc |= static_cast<uint8_t>(x.bytes[i] ^ y.bytes[i]);
    return acc == 0;
  }
  friend bool operator!=(const digest& x, const digest& y) noexcept { return !(x == y); }
  /// Orders digests bytewise (for use as map keys; not constant time). The same order as
  /// comparing the arrays, by 8-byte big-endian words: digests of distinct inputs nearly
  /// always differ in the first word, so a lookup rarely reads further (the bytewise
  /// compare called memcmp for every step of every map and index lookup).
  friend bool operator<(const digest& x, const digest& y) noexcept {
    for (size_t i = 0; i < x.bytes.size(); i += 8) {
      auto a = word(x, i), b = word(y, i);
      if (a != b)
        return a < b;
    }
    return false;
  }
  /// Returns true when every byte is zero (the genesis chain value).
  bool is_zero() const noexcept;

  /// Bytes [at, at + 8) as a big-endian number: word 0 orders digests as they compare.
  static uint64_t word(const digest& x, size_t at) noexcept {
    uint64_t w = 0;
    for (size_t i = 0; i < 8; ++i) // compiles to one load and a byte swap
      w = (w << 8) | x.bytes[at + i];
    return w;
  }
};
/// Hashes a digest for hashed look-up tables: its first 8 bytes (already uniform).
struct digest_hash {
  size_t operator()(const digest& x) const noexcept {
    size_t h = 0;
    for (size_t i = 0; i < sizeof h; ++i)
      h = (h << 8) | x.bytes[i];
    return h;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, digest& x) {
  return f(caf::meta::type_name("digest"), caf::meta::hex_formatted(), x.bytes);
}

/// Renders a digest as 64 lowercase hex characters.
std::string to_hex(const digest& x);

/// Renders arbitrary bytes as lowercase hex.
std::string to_hex(const uint8_t* data, size_t size);

/// Parses exactly 64 hex characters (either case) into `out`; false on anything else.
bool parse_digest(std::string_view hex, digest& out) noexcept;

/// Identifies one managed resource (e.g. "coaster-eu-01").
struct resource_id {
  std::string value;
  friend bool operator==(const resource_id& x, const resource_id& y) {
    return x.value == y.value;
  }
  friend bool operator<(const resource_id& x, const resource_id& y) {
    return x.value < y.value;
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_id& x) {
  return f(caf::meta::type_name("resource_id"), x.value);
}

/// Identifies who proposes or operates: an automation identity or a person.
struct principal_id {
  std::string value;
  friend bool operator==(const principal_id& x, const principal_id& y) {
    return x.value == y.value;
  }
  friend bool operator<(const principal_id& x, const principal_id& y) {
    return x.value < y.value;
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, principal_id& x) {
  return f(caf::meta::type_name("principal_id"), x.value);
}

/// Correlates log lines, journal events and replies that belong to one request.
struct trace_id {
  uint64_t value = 0;
  friend bool operator==(trace_id x, trace_id y) { return x.value == y.value; }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trace_id& x) {
  return f(caf::meta::type_name("trace_id"), x.value);
}

/// Checks that an identifier is 1..128 printable ASCII characters without spaces.
bool is_valid_id(std::string_view text) noexcept;

/// The engine's own principal: the authority context of its automatic decisions (an
/// incident policy's verdict and the rollback it orders), whose session is the candidate
/// decided. No client may act as it.
inline constexpr const char* auto_engine = "AUTO_ENGINE";

} // namespace bulwark
