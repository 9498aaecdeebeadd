#include "apps/demo_world.hpp"

namespace bulwark::cli {

effect_result demo_world::apply(const effect_request& r) {
  ++calls_;
  auto k = r.resource + "/" + r.key;
  if (r.compensation) {
    ++compensations_;
    if (r.restore)
      values_[k] = *r.restore;
    else
      values_.erase(k);
    return {};
  }
  if (failing_services_.count(r.service) != 0)
    return effect_result{false, r.service + " controller unreachable", false};
  if (failing_.count(k) != 0)
    return effect_result{false, "controller rejected the change", false};
  values_[k] = r.value;
  return {};
}

std::string demo_world::value(const std::string& resource, const std::string& key) const {
  auto i = values_.find(resource + "/" + key);
  return i != values_.end() ? i->second : std::string{};
}

} // namespace bulwark::cli
