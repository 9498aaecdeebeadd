#include "messages/incidents.hpp"

#include <chrono>

namespace bulwark {

const char* to_string(policy_verdict x) noexcept {
  switch (x) {
    case policy_verdict::promote:
      return "PROMOTE";
    case policy_verdict::defer:
      return "DEFER";
    case policy_verdict::suppress:
      return "SUPPRESS";
  }
  return "unknown";
}

bool parse(std::string_view name, policy_verdict& out) noexcept {
  for (auto x : {policy_verdict::promote, policy_verdict::defer, policy_verdict::suppress}) {
    std::string_view s = to_string(x);
    if (name.size() == s.size()) {
      bool same = true;
      for (size_t i = 0; i < s.size(); ++i)
        same &= (name[i] & ~0x20) == s[i]; // either case
      if (same) {
        out = x;
        return true;
      }
    }
  }
  return false;
}

const char* to_string(severity x) noexcept {
  switch (x) {
    case severity::p0:
      return "P0";
    case severity::p1:
      return "P1";
    case severity::p2:
      return "P2";
    case severity::p3:
      return "P3";
  }
  return "unknown";
}

bool parse(std::string_view name, severity& out) noexcept {
  if (name.size() != 2 || (name[0] != 'P' && name[0] != 'p') || name[1] < '0' || name[1] > '3')
    return false;
  out = static_cast<severity>(name[1] - '0');
  return true;
}

caf::timespan response_time(severity x) noexcept {
  using std::chrono::hours;
  switch (x) {
    case severity::p0:
      return caf::timespan{0};
    case severity::p1:
      return hours{1};
    case severity::p2:
      return hours{4};
    case severity::p3:
      return hours{24};
  }
  return hours{24};
}

} // namespace bulwark
