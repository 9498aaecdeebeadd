#include "messages/ids.hpp"

#include "messages/refusals.hpp"

namespace bulwark {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

bool digest::is_zero() const noexcept {
  return *this == digest{};
}

std::string to_hex(const uint8_t* data, size_t size) {
  static constexpr char alphabet[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(alphabet[data[i] >> 4]);
    out.push_back(alphabet[data[i] & 0x0F]);
  }
  return out;
}

std::string to_hex(const digest& x) {
  return to_hex(x.bytes.data(), x.bytes.size());
}

bool parse_digest(std::string_view hex, digest& out) noexcept {
  if (hex.size() != 64) {
    count_refusal(protected_value::unvalidated_digest);
    return false;
  }
  digest tmp;
  for (size_t i = 0; i < 32; ++i) {
    auto hi = hex_value(hex[2 * i]);
    auto lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      count_refusal(protected_value::unvalidated_digest);
      return false;
    }
    tmp.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  out = tmp;
  return true;
}

bool is_valid_id(std::string_view text) noexcept {
  if (text.empty() || text.size() > 128)
    return false;
  for (char c : text)
    if (c <= ' ' || c > '~')
      return false;
  return true;
}

} // namespace bulwark
