#include "sim/sim_world.hpp"

namespace bulwark::sim {

effect_result sim_world::apply(const effect_request& r) {
  call_record rec{r, head_(), false, std::nullopt};
  auto k = r.resource + "/" + r.key;
  effect_result out;
  if (outages_ > 0) {
    --outages_;
    out = effect_result{false, "simulated outage", true};
  } else if (timeouts_ > 0) {
    --timeouts_;
    out = effect_result{false, "simulated timeout", true};
  } else if (refusals_ > 0 && !r.compensation) {
    --refusals_;
    out = effect_result{false, "simulated refusal", false};
  } else if (r.compensation) {
    if (!ignore_restores_) {
      if (r.restore)
        values_[k] = *r.restore;
      else
        values_.erase(k);
    }
  } else {
    values_[k] = r.value;
  }
  rec.ok = out.ok;
  if (auto i = values_.find(k); i != values_.end())
    rec.after = i->second;
  calls_.push_back(std::move(rec));
  return out;
}

std::optional<std::string> sim_world::value(const std::string& resource,
                                            const std::string& key) const {
  if (auto i = values_.find(resource + "/" + key); i != values_.end())
    return i->second;
  return std::nullopt;
}

double sim_world::error_rate(const std::string& service, const std::string& region,
                             uint64_t round, double base) const {
  if (auto i = anomalies_.find({service, region});
      i != anomalies_.end() && round < i->second.second)
    return i->second.first;
  return base;
}

} // namespace bulwark::sim
