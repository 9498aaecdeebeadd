#include "actors/pipeline/flight_registry.hpp"

namespace bulwark {

flight_family family_of(authority_level level) noexcept {
  switch (level) {
    case authority_level::assist:
    case authority_level::recommend:
      return flight_family::approved;
    case authority_level::act:
      return flight_family::observed;
    case authority_level::enforce:
      return flight_family::autonomous;
    default:
      return flight_family::read;
  }
}

const char* to_string(flight_family f) noexcept {
  switch (f) {
    case flight_family::read:
      return "read";
    case flight_family::approved:
      return "approved";
    case flight_family::observed:
      return "observed";
    case flight_family::autonomous:
      return "autonomous";
  }
  return "read";
}

std::string actor_name(flight_family f) {
  return std::string{"flights:"} + to_string(f);
}

digest flight_registry::claim(const std::string& key, const digest& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  return keys_.emplace(key, id).first->second;
}

std::optional<digest> flight_registry::holder(const std::string& key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = keys_.find(key); i != keys_.end())
    return i->second;
  return std::nullopt;
}

void flight_registry::release(const std::string& key, const digest& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = keys_.find(key); i != keys_.end() && i->second == id)
    keys_.erase(i);
}

void flight_registry::running(const digest& id, flight_family family) {
  std::lock_guard<std::mutex> guard{mtx_};
  running_[id] = family;
}

void flight_registry::ended(const digest& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  running_.erase(id);
}

std::optional<flight_family> flight_registry::runner(const digest& id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = running_.find(id); i != running_.end())
    return i->second;
  return std::nullopt;
}

size_t flight_registry::keys() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return keys_.size();
}

} // namespace bulwark
