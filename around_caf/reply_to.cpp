#include "around_caf/reply_to.hpp"

#include "caf/mailbox_element.hpp"

namespace bulwark {

void reply_to::deliver(caf::message msg) {
  if (!id.is_request())
    return;
  if (stages.empty()) {
    if (sender)
      sender->enqueue(nullptr, id.response_id(), std::move(msg), nullptr);
    return;
  }
  // As CAF's response promise does: the next stage gets the message with the rest.
  auto next = std::move(stages.back());
  stages.pop_back();
  next->enqueue(caf::make_mailbox_element(std::move(sender), id, std::move(stages), std::move(msg)),
                nullptr);
}

} // namespace bulwark
