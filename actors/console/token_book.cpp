#include "actors/console/token_book.hpp"

namespace bulwark {

token_book::token_book(std::vector<console_token> tokens) : tokens_(std::move(tokens)) {
}

std::optional<console_token> token_book::find(std::string_view token) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto* found = authenticate(tokens_, token))
    return *found;
  return std::nullopt;
}

void token_book::replace(std::vector<console_token> tokens) {
  std::lock_guard<std::mutex> guard{mtx_};
  tokens_ = std::move(tokens);
}

size_t token_book::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return tokens_.size();
}

} // namespace bulwark
