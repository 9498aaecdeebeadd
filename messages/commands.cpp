#include "messages/commands.hpp"

namespace bulwark {

const char* to_string(proposal_status x) noexcept {
  switch (x) {
    case proposal_status::refused:
      return "refused";
    case proposal_status::succeeded:
      return "succeeded";
    case proposal_status::failed:
      return "failed";
    case proposal_status::interrupted:
      return "interrupted";
    case proposal_status::expired:
      return "expired";
    case proposal_status::denied:
      return "denied";
    case proposal_status::read:
      return "read";
    case proposal_status::compensation_failed:
      return "compensation_failed";
  }
  return "unknown";
}

} // namespace bulwark
