#pragma once

/// One attempt to hand a candidate to the orchestrator, as the attempts store keeps it
/// (persistence/attempt_store.hpp), and the filter an operator lists them by. Attempts are
/// not journal events: they live in their own store with a retention.

#include <cstdint>
#include <string>

#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/error.hpp"
#include "messages/ids.hpp"

namespace bulwark {

/// One orchestration attempt: a candidate handed to the orchestrator and its answer.
struct attempt_record {
  digest id;          ///< attempt_id(candidate, attempt, started)
  digest candidate;
  std::string service;
  std::string region;
  uint32_t attempt = 0;      ///< 1 for a candidate's first attempt (per detector run)
  caf::timestamp started;
  caf::timespan duration{};  ///< from the hand-over to the answer (or the timeout)
  bool succeeded = false;    ///< decided and journaled by the orchestrator
  ec code = ec::none;        ///< why it failed (none on success)
  std::string error;         ///< the failure's reason ("" on success)
};

/// Which attempts to list (every field optional), newest first, at most `limit`.
struct attempt_filter {
  caf::optional<digest> candidate;
  std::string service;  ///< "" any
  std::string region;   ///< "" any
  caf::optional<bool> succeeded;
  uint32_t limit = 100;
};

} // namespace bulwark
