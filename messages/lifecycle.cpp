#include "messages/lifecycle.hpp"

namespace bulwark {

const char* to_string(lifecycle_action x) noexcept {
  switch (x) {
    case lifecycle_action::acknowledge:
      return "acknowledge";
    case lifecycle_action::note:
      return "note";
    case lifecycle_action::set_severity:
      return "severity";
    case lifecycle_action::resolve:
      return "resolve";
    case lifecycle_action::close:
      return "close";
    case lifecycle_action::reopen:
      return "reopen";
  }
  return "unknown";
}

bool parse(std::string_view name, lifecycle_action& out) noexcept {
  for (uint8_t v = 1; v <= 6; ++v) {
    auto x = static_cast<lifecycle_action>(v);
    if (name == to_string(x)) {
      out = x;
      return true;
    }
  }
  return false;
}

} // namespace bulwark
