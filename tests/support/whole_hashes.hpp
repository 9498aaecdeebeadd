#pragma once

/// Test support: finds hashes or ids cut short in machine-readable output.

#include <cctype>
#include <string>

namespace bulwark::test {

/// The first run of lowercase hex digits (with at least one letter, so plain numbers do
/// not count) of 8 or more characters that is not a whole SHA-256 (64 digits) or
/// Ed25519 signature (128); empty when there is none.
inline std::string cut_hex(const std::string& text) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  size_t i = 0;
  while (i < text.size()) {
    if (!hex(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    bool letter = false;
    for (; j < text.size() && hex(text[j]); ++j)
      letter = letter || text[j] >= 'a';
    auto n = j - i;
    // A word around it (letters beyond f, '_', '-') makes it a name, not a hash.
    auto wordy = [&](size_t k) {
      return k < text.size()
             && (std::isalnum(static_cast<unsigned char>(text[k])) || text[k] == '_');
    };
    bool inside_word = (i > 0 && wordy(i - 1)) || wordy(j);
    if (letter && n >= 8 && n != 64 && n != 128 && !inside_word)
      return text.substr(i, n);
    i = j;
  }
  return {};
}

} // namespace bulwark::test
