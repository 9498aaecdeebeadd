#pragma once

/// The pure core of the authority: gates of the five levels, grants, rate limits.
///
/// No clock, no randomness, no I/O: time arrives as an argument, so evaluating the same
/// inputs always gives the same verdict (and a replay the same bytes).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/optional.hpp"
#include "caf/timespan.hpp"
#include "caf/timestamp.hpp"

#include "messages/commands.hpp"
#include "messages/enums.hpp"
#include "messages/scope.hpp"
#include "messages/state.hpp"

namespace bulwark {

/// Settings of the authority (`[authority]` in bulwark.toml).
struct authority_config {
  bool enforce_enabled = false;                       ///< allow level 4 at all
  std::map<std::string, authority_level> grants;      ///< configured principals
  double rate_per_second = 100.0;                     ///< token refill per principal
  double burst = 200.0;                               ///< bucket size per principal
  caf::timespan approval_timeout = std::chrono::minutes{5};
  caf::timespan observation_window = std::chrono::seconds{5};
  uint32_t max_mutations = 1000;                      ///< larger proposals are invalid
};

/// The gates a level applies, in the order they are reported.
const std::vector<gate>& gates_of(authority_level level);

/// Returns the principal's grant in force at `now`: a journaled change that has not
/// expired wins over the configured grant; none for an unknown principal.
caf::optional<authority_level> effective_grant(const std::string& principal,
                                               const authority_config& cfg,
                                               const std::map<std::string, grant_state>& journaled,
                                               caf::timestamp now);

/// Evaluates halt, grant and the gates of the requested level.
/// @pre the proposal passed input validation.
authority_verdict evaluate(const proposal& p, const authority_config& cfg,
                           const std::map<std::string, grant_state>& journaled, bool halted,
                           caf::timestamp now);

/// The adaptive rate limit: the share of the configured token rate and burst a principal
/// gets at a degradation level (0 normal: all of it, 1 degraded: half, 2 critical: a
/// quarter), so automation slows down while the node is under strain and recovers with it.
double adaptive_share(uint8_t degradation_level) noexcept;

/// A token bucket; time comes in as an argument.
class token_bucket {
public:
  /// Takes one token if available; otherwise returns the wait until one is.
  caf::optional<caf::timespan> take(caf::timestamp now, double rate, double burst);

  /// The tokens left after the last call.
  double tokens() const noexcept {
    return tokens_;
  }

private:
  double tokens_ = -1; // negative: not started, starts full
  caf::timestamp last_;
};

} // namespace bulwark
