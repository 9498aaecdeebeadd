#pragma once

/// The flight families and the one registry of flights they share.
///
/// Flights run in one actor per family of authority levels (docs/architecture.md, "The
/// flight families"): level 0 reads, levels 1 and 2 wait for an approval, level 3 observes
/// its steps, level 4 runs alone. The families share one `flight_registry`: the
/// idempotency keys of the proposals in flight or finished lately (the journal's decided
/// index holds the older ones) and which family runs each flight, so a key is never taken
/// twice across families and a message that names a running flight reaches the family
/// that runs it. Thread-safe: the family actors and the door that routes to them use it.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "messages/enums.hpp"
#include "messages/ids.hpp"

namespace bulwark {

/// A family of authority levels run by one actor.
enum class flight_family : uint8_t {
  read = 0,       ///< level 0
  approved = 1,   ///< levels 1 and 2: an approval before anything runs
  observed = 2,   ///< level 3: each step observed, rolled back on interrupt
  autonomous = 3, ///< level 4
};

/// The number of families.
constexpr size_t flight_families = 4;

/// The family that runs proposals of `level` (a level out of range: `read`, whose
/// validation refuses it as every family's would).
flight_family family_of(authority_level level) noexcept;

/// "read", "approved", "observed", "autonomous".
const char* to_string(flight_family f) noexcept;

/// The family's actor's name under the flights supervisor: "flights:<family>".
std::string actor_name(flight_family f);

class flight_registry {
public:
  /// Takes `key` for proposal `id` unless another proposal holds it; returns the
  /// proposal that holds it now (`id` when it was free or `id`'s already).
  digest claim(const std::string& key, const digest& id);

  /// The proposal that holds `key`, if one does.
  std::optional<digest> holder(const std::string& key) const;

  /// Gives `key` back when `id` holds it (an older holder's release changes nothing).
  void release(const std::string& key, const digest& id);

  /// Records that `family` runs proposal `id`'s flight.
  void running(const digest& id, flight_family family);

  /// Records that proposal `id`'s flight ended (finished, dropped, or its actor died).
  void ended(const digest& id);

  /// The family whose actor runs proposal `id`'s flight, if one does.
  std::optional<flight_family> runner(const digest& id) const;

  /// Keys held (tests).
  size_t keys() const;

private:
  mutable std::mutex mtx_;
  std::unordered_map<std::string, digest> keys_;
  std::unordered_map<digest, flight_family, digest_hash> running_;
};

} // namespace bulwark
