#include "apps/demo_world.hpp"

#include "persistence/journal_store.hpp"
#include "persistence/replay.hpp"

#include <algorithm>

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
  if (auto t = timeouts_.find(r.service); t != timeouts_.end() && t->second > 0) {
    --t->second;
    return effect_result{false, r.service + " controller timed out", true};
  }
  if (failing_services_.count(r.service) != 0)
    return effect_result{false, r.service + " controller unreachable", false};
  if (failing_.count(k) != 0)
    return effect_result{false, "controller rejected the change", false};
  values_[k] = r.value;
  ++applied_[r.idempotency_key];
  return {};
}

double demo_world::error_rate(const std::string& service, const std::string& region) {
  size_t total = 0, bad = 0;
  for (auto& [res, w] : where_) {
    if (w.first != service || w.second != region)
      continue;
    ++total;
    for (auto& [key, value] : poisoned_)
      if (this->value(res, key) == value) {
        ++bad;
        break;
      }
  }
  double noise = 0.004 + static_cast<double>(rng_() % 1000) / 1000.0 * 0.006; // 0.4 % .. 1 %
  if (total == 0 || bad == 0)
    return noise;
  // The bad resources serve their share of traffic with 40 % errors; at least 20 %.
  return noise + std::max(0.2, 0.4 * static_cast<double>(bad) / static_cast<double>(total) * 10);
}

std::string demo_world::value(const std::string& resource, const std::string& key) const {
  auto i = values_.find(resource + "/" + key);
  return i != values_.end() ? i->second : std::string{};
}

std::string replayed_digest(const std::string& dir) {
  store_options opts;
  opts.dir = dir;
  opts.read_only = true;
  if (auto store = journal_store::open(opts))
    if (auto r = replay(**store, replay_options{seq_no{UINT64_MAX}, false, true}))
      return to_hex(r->state_digest);
  return {};
}

} // namespace bulwark::cli
