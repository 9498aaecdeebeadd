#pragma once

/// The console's tokens as sign-ins see them, shared with whoever replaces them (the node
/// re-reads them from its configuration on SIGHUP). A sign-in checks the tokens of the
/// moment; a replacement counts from the next sign-in on.

#include <cstddef>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "actors/console/console_protocol.hpp"

namespace bulwark {

class token_book {
public:
  explicit token_book(std::vector<console_token> tokens = {});

  /// The configured token whose SHA-256 matches `token`, or none.
  std::optional<console_token> find(std::string_view token) const;

  /// Replaces every token at once.
  void replace(std::vector<console_token> tokens);

  size_t size() const;

private:
  mutable std::mutex mtx_;
  std::vector<console_token> tokens_;
};

} // namespace bulwark
