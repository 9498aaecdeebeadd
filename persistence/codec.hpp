#pragma once

/// The canonical binary encoding of docs/journal-format.md ("Encoding rules").
///
/// `canonical_writer` and `canonical_reader` are CAF-style inspectors: they walk the
/// same `inspect` overloads that CAF's serializers use, so each message type lists its
/// fields once. The encoding is big-endian, fixed width, length-prefixed and has no
/// padding or field tags; maps are written in key order, so equal values always
/// encode to equal bytes (the state digest depends on that).

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "caf/error.hpp"
#include "caf/meta/annotation.hpp"
#include "caf/meta/load_callback.hpp"
#include "caf/optional.hpp"

#include "messages/error.hpp"

namespace bulwark {

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<caf::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_map : std::false_type {};
template <class K, class V, class C, class A>
struct is_map<std::map<K, V, C, A>> : std::true_type {};

template <class T>
struct is_byte_array : std::false_type {};
template <size_t N>
struct is_byte_array<std::array<uint8_t, N>> : std::true_type {};

template <class T>
struct is_duration : std::false_type {};
template <class R, class P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

template <class T>
struct is_time_point : std::false_type {};
template <class C, class D>
struct is_time_point<std::chrono::time_point<C, D>> : std::true_type {};

/// A type that encodes as `list<T::canonical_element>` and can list its elements in
/// order itself (`size()`, `each(f)`), so writing it needs no temporary vector.
template <class T, class = void>
struct is_streamed_list : std::false_type {};
template <class T>
struct is_streamed_list<T, std::void_t<typename T::canonical_element>> : std::true_type {};

} // namespace detail

/// Appends the canonical encoding of values to a byte vector.
class canonical_writer {
public:
  using result_type = caf::error;
  static constexpr bool reads_state = true;
  static constexpr bool writes_state = false;

  explicit canonical_writer(std::vector<uint8_t>& out) : out_(out) {
    // nop
  }

  template <class... Ts>
  caf::error operator()(Ts&&... xs) {
    (apply(xs), ...);
    return {};
  }

  /// Writes `n` as a big-endian unsigned integer of `Bytes` bytes.
  template <size_t Bytes>
  void put_uint(uint64_t n) {
    // One size change, then the bytes: a push_back per byte checked the capacity each time.
    auto at = out_.size();
    out_.resize(at + Bytes);
    auto* p = out_.data() + at;
    for (size_t i = 0; i < Bytes; ++i)
      p[i] = static_cast<uint8_t>(n >> (8 * (Bytes - 1 - i)));
  }

private:
  void put_length(size_t n) {
    put_uint<4>(static_cast<uint32_t>(n));
  }

  template <class T>
  void apply(const T& x) {
    using type = std::decay_t<T>;
    if constexpr (std::is_base_of_v<caf::meta::annotation, type>) {
      // Annotations (type names, callbacks) carry no data.
    } else if constexpr (std::is_same_v<type, bool>) {
      out_.push_back(x ? 1 : 0);
    } else if constexpr (std::is_enum_v<type>) {
      apply(static_cast<std::underlying_type_t<type>>(x));
    } else if constexpr (std::is_integral_v<type>) {
      put_uint<sizeof(type)>(static_cast<uint64_t>(x));
    } else if constexpr (std::is_same_v<type, double>) {
      uint64_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      put_uint<8>(bits);
    } else if constexpr (std::is_same_v<type, std::string>) {
      put_length(x.size());
      auto* bytes = reinterpret_cast<const uint8_t*>(x.data()); // one memcpy, not a loop
      out_.insert(out_.end(), bytes, bytes + x.size());
    } else if constexpr (std::is_same_v<type, std::vector<uint8_t>>) {
      put_length(x.size());
      out_.insert(out_.end(), x.begin(), x.end());
    } else if constexpr (detail::is_byte_array<type>::value) {
      out_.insert(out_.end(), x.begin(), x.end());
    } else if constexpr (detail::is_vector<type>::value) {
      put_length(x.size());
      for (auto& element : x)
        apply(element);
    } else if constexpr (detail::is_streamed_list<type>::value) {
      put_length(x.size()); // the same bytes as the list its inspect() would hand over
      x.each([this](const typename type::canonical_element& element) { apply(element); });
    } else if constexpr (detail::is_map<type>::value) {
      put_length(x.size());
      for (auto& [key, value] : x) {
        apply(key);
        apply(value);
      }
    } else if constexpr (detail::is_optional<type>::value) {
      out_.push_back(x ? 1 : 0);
      if (x)
        apply(*x);
    } else if constexpr (detail::is_duration<type>::value) {
      apply(static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(x).count()));
    } else if constexpr (detail::is_time_point<type>::value) {
      apply(x.time_since_epoch());
    } else {
      inspect(*this, const_cast<type&>(x));
    }
  }

  std::vector<uint8_t>& out_;
};

/// Counts the bytes the canonical encoding of values takes, without writing them: a
/// writer that reserves this first allocates its buffer once (a small payload written
/// into an empty vector otherwise grows it 6-8 times).
class canonical_sizer {
public:
  using result_type = caf::error;
  static constexpr bool reads_state = true;
  static constexpr bool writes_state = false;

  template <class... Ts>
  caf::error operator()(Ts&&... xs) {
    (apply(xs), ...);
    return {};
  }

  /// The bytes counted so far.
  size_t size() const noexcept {
    return size_;
  }

private:
  template <class T>
  void apply(const T& x) {
    using type = std::decay_t<T>;
    if constexpr (std::is_base_of_v<caf::meta::annotation, type>) {
      // Annotations carry no data.
    } else if constexpr (std::is_same_v<type, bool>) {
      size_ += 1;
    } else if constexpr (std::is_enum_v<type>) {
      size_ += sizeof(std::underlying_type_t<type>);
    } else if constexpr (std::is_integral_v<type>) {
      size_ += sizeof(type);
    } else if constexpr (std::is_same_v<type, double>) {
      size_ += 8;
    } else if constexpr (std::is_same_v<type, std::string>
                         || std::is_same_v<type, std::vector<uint8_t>>) {
      size_ += 4 + x.size();
    } else if constexpr (detail::is_byte_array<type>::value) {
      size_ += x.size();
    } else if constexpr (detail::is_vector<type>::value) {
      size_ += 4;
      for (auto& element : x)
        apply(element);
    } else if constexpr (detail::is_streamed_list<type>::value) {
      size_ += 4;
      x.each([this](const typename type::canonical_element& element) { apply(element); });
    } else if constexpr (detail::is_map<type>::value) {
      size_ += 4;
      for (auto& [key, value] : x) {
        apply(key);
        apply(value);
      }
    } else if constexpr (detail::is_optional<type>::value) {
      size_ += 1;
      if (x)
        apply(*x);
    } else if constexpr (detail::is_duration<type>::value || detail::is_time_point<type>::value) {
      size_ += 8;
    } else {
      inspect(*this, const_cast<type&>(x));
    }
  }

  size_t size_ = 0;
};

/// Returns the size of the canonical encoding of `x`.
template <class T>
size_t encoded_size(const T& x) {
  canonical_sizer s;
  s(x);
  return s.size();
}

/// Decodes the canonical encoding; every failure is `INTEGRITY_VIOLATION`-free
/// `INVALID_INPUT` naming the problem (callers map it to their context).
class canonical_reader {
public:
  using result_type = caf::error;
  static constexpr bool reads_state = false;
  static constexpr bool writes_state = true;

  canonical_reader(const uint8_t* data, size_t size) : pos_(data), end_(data + size) {
    // nop
  }

  /// Reads every field in order; the first failure stops it and is returned. Fields are
  /// read through `read` (a bool), so a record costs one `caf::error` per struct, not one
  /// per field (replay decodes millions of them).
  template <class... Ts>
  caf::error operator()(Ts&&... xs) {
    if ((read(xs) && ...))
      return {};
    return std::move(error_);
  }

  /// Returns the number of bytes not consumed yet.
  size_t remaining() const noexcept {
    return static_cast<size_t>(end_ - pos_);
  }

  /// Reads a big-endian unsigned integer of `Bytes` bytes.
  template <size_t Bytes>
  caf::error get_uint(uint64_t& n) {
    if (get_uint_ok<Bytes>(n))
      return {};
    return std::move(error_);
  }

private:
  bool fail(const char* what) {
    error_ = refuse(ec::invalid_input, what);
    return false;
  }

  bool truncated() {
    return fail("truncated encoding");
  }

  template <size_t Bytes>
  bool get_uint_ok(uint64_t& n) {
    if (remaining() < Bytes)
      return truncated();
    n = 0;
    for (size_t i = 0; i < Bytes; ++i)
      n = (n << 8) | *pos_++;
    return true;
  }

  bool get_length(size_t& n) {
    uint64_t tmp = 0;
    if (!get_uint_ok<4>(tmp))
      return false;
    n = static_cast<size_t>(tmp);
    return true;
  }

  /// Takes a nested result (a load callback's or a nested inspect's).
  bool take(caf::error&& err) {
    if (!err)
      return true;
    error_ = std::move(err);
    return false;
  }

  template <class T>
  bool read(T&& x) {
    using type = std::decay_t<T>;
    if constexpr (caf::meta::is_load_callback<type>::value) {
      return take(x.fun());
    } else if constexpr (std::is_base_of_v<caf::meta::annotation, type>) {
      return true;
    } else if constexpr (std::is_same_v<type, bool>) {
      if (remaining() < 1)
        return truncated();
      auto b = *pos_++;
      if (b > 1)
        return fail("bad boolean");
      x = b == 1;
      return true;
    } else if constexpr (std::is_enum_v<type>) {
      std::underlying_type_t<type> tmp{};
      if (!read(tmp))
        return false;
      x = static_cast<type>(tmp);
      return true;
    } else if constexpr (std::is_integral_v<type>) {
      uint64_t tmp = 0;
      if (!get_uint_ok<sizeof(type)>(tmp))
        return false;
      x = static_cast<type>(tmp);
      return true;
    } else if constexpr (std::is_same_v<type, double>) {
      uint64_t bits = 0;
      if (!get_uint_ok<8>(bits))
        return false;
      std::memcpy(&x, &bits, sizeof bits);
      return true;
    } else if constexpr (std::is_same_v<type, std::string>
                         || std::is_same_v<type, std::vector<uint8_t>>) {
      size_t n = 0;
      if (!get_length(n))
        return false;
      if (remaining() < n)
        return truncated();
      using value_type = typename type::value_type; // char or uint8_t: one memcpy
      auto* first = reinterpret_cast<const value_type*>(pos_);
      x.assign(first, first + n);
      pos_ += n;
      return true;
    } else if constexpr (detail::is_byte_array<type>::value) {
      if (remaining() < x.size())
        return truncated();
      std::memcpy(x.data(), pos_, x.size());
      pos_ += x.size();
      return true;
    } else if constexpr (detail::is_vector<type>::value) {
      size_t n = 0;
      if (!get_length(n))
        return false;
      if (n > remaining()) // every element takes at least one byte
        return truncated();
      x.clear();
      x.resize(n);
      for (auto& element : x)
        if (!read(element))
          return false;
      return true;
    } else if constexpr (detail::is_map<type>::value) {
      size_t n = 0;
      if (!get_length(n))
        return false;
      if (n > remaining())
        return truncated();
      x.clear();
      for (size_t i = 0; i < n; ++i) {
        typename type::key_type key{};
        typename type::mapped_type value{};
        if (!read(key) || !read(value))
          return false;
        if (!x.empty() && !(x.rbegin()->first < key))
          return fail("map keys not in ascending order");
        x.emplace_hint(x.end(), std::move(key), std::move(value));
      }
      return true;
    } else if constexpr (detail::is_optional<type>::value) {
      bool present = false;
      if (!read(present))
        return false;
      if (!present) {
        x = caf::none;
        return true;
      }
      typename type::type value{};
      if (!read(value))
        return false;
      x = std::move(value);
      return true;
    } else if constexpr (detail::is_duration<type>::value) {
      int64_t ns = 0;
      if (!read(ns))
        return false;
      x = std::chrono::duration_cast<type>(std::chrono::nanoseconds{ns});
      return true;
    } else if constexpr (detail::is_time_point<type>::value) {
      typename type::duration d{};
      if (!read(d))
        return false;
      x = type{d};
      return true;
    } else {
      return take(inspect(*this, x));
    }
  }

  const uint8_t* pos_;
  const uint8_t* end_;
  caf::error error_; ///< the first failure, until returned
};

/// Returns the canonical encoding of `x`.
template <class T>
std::vector<uint8_t> encode(const T& x) {
  canonical_sizer n;
  n(x);
  std::vector<uint8_t> out;
  out.reserve(n.size()); // one allocation (a large state grew through 20-odd copies)
  canonical_writer w{out};
  w(x);
  return out;
}

/// Decodes `x` from exactly `size` bytes; trailing bytes are an error.
template <class T>
caf::error decode(const uint8_t* data, size_t size, T& x) {
  canonical_reader r{data, size};
  if (auto err = r(x))
    return err;
  if (r.remaining() != 0)
    return refuse(ec::invalid_input, "trailing bytes after encoding");
  return {};
}

template <class T>
caf::error decode(const std::vector<uint8_t>& bytes, T& x) {
  return decode(bytes.data(), bytes.size(), x);
}

} // namespace bulwark
