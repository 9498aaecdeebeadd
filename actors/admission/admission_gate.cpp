#include "actors/admission/admission_gate.hpp"

#include <algorithm>

namespace bulwark {

namespace {

/// FNV-1a of a principal's name; 0 marks a free slot, so it is never a key.
uint64_t key_of(const std::string& principal) noexcept {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : principal)
    h = (h ^ c) * 1099511628211ull;
  return h == 0 ? 1 : h;
}

} // namespace

admission_gate::slot* admission_gate::find(uint64_t key, bool insert) {
  // Open addressing with linear probing; keys are never removed (a principal's count
  // returns to 0), so a probe ends at the key or at the first free slot.
  for (size_t i = 0, at = key % principal_slots; i < principal_slots;
       ++i, at = (at + 1) % principal_slots) {
    auto& s = slots_[at];
    auto k = s.key.load(std::memory_order_acquire);
    if (k == key)
      return &s;
    if (k != 0)
      continue;
    if (!insert)
      return nullptr;
    uint64_t expected = 0;
    if (s.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel))
      return &s;
    if (expected == key)
      return &s; // another caller inserted the same principal
  }
  return nullptr; // full: the admission actor alone checks this principal's bound
}

const admission_gate::slot* admission_gate::find(uint64_t key) const {
  return const_cast<admission_gate*>(this)->find(key, false);
}

gate_pass admission_gate::refuse_full(admission_class cls, uint64_t bound) {
  full_.fetch_add(1, std::memory_order_relaxed);
  gate_pass out;
  out.code = ec::overloaded;
  auto w = waiting();
  out.reason = "admission queue full (" + std::to_string(w) + " waiting, " + to_string(cls)
               + " bound " + std::to_string(bound) + ")";
  // About the time the work ahead takes to drain, one turn per in-flight slot (as the
  // admission policy computes it).
  auto turns = 1 + w / std::max<size_t>(1, limits_.max_in_flight);
  out.retry_after = limits_.retry_base * static_cast<int64_t>(turns);
  return out;
}

gate_pass admission_gate::try_enter(const std::string& principal, admission_class cls,
                                    degradation level) {
  if (quarantined_n_.load(std::memory_order_acquire) != 0) {
    std::lock_guard<std::mutex> guard{quarantine_mtx_};
    if (quarantined_.count(principal) != 0) {
      quarantine_.fetch_add(1, std::memory_order_relaxed);
      gate_pass out;
      out.code = ec::authority_denied;
      out.reason = "principal " + principal + " is quarantined after repeated failures; an "
                   "operator must release it";
      return out;
    }
  }
  uint64_t bound = cls == admission_class::automation
                     ? automation_share(limits_.max_queued, level)
                     : limits_.max_queued;
  auto w = waiting_.load(std::memory_order_relaxed);
  do {
    if (w >= bound)
      return refuse_full(cls, bound);
  } while (!waiting_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel));
  if (auto* s = find(key_of(principal), true)) {
    if (s->count.fetch_add(1, std::memory_order_acq_rel) >= limits_.per_principal) {
      s->count.fetch_sub(1, std::memory_order_acq_rel);
      waiting_.fetch_sub(1, std::memory_order_acq_rel);
      principal_.fetch_add(1, std::memory_order_relaxed);
      gate_pass out;
      out.code = ec::overloaded;
      out.reason = "principal " + principal + " has " + std::to_string(limits_.per_principal)
                   + " proposals waiting";
      out.retry_after = limits_.retry_base;
      return out;
    }
  }
  gate_pass out;
  out.admitted = true;
  return out;
}

void admission_gate::leave(const std::string& principal) {
  if (auto* s = find(key_of(principal), false))
    s->count.fetch_sub(1, std::memory_order_acq_rel);
  waiting_.fetch_sub(1, std::memory_order_acq_rel);
}

uint64_t admission_gate::waiting_of(const std::string& principal) const {
  auto* s = find(key_of(principal));
  return s != nullptr ? s->count.load(std::memory_order_relaxed) : 0;
}

void admission_gate::count_refusal(bool quarantined) noexcept {
  (quarantined ? quarantine_ : full_).fetch_add(1, std::memory_order_relaxed);
}

gate_counts admission_gate::refused() const noexcept {
  return {full_.load(std::memory_order_relaxed), principal_.load(std::memory_order_relaxed),
          quarantine_.load(std::memory_order_relaxed)};
}

void admission_gate::set_quarantined(std::set<std::string> principals) {
  std::lock_guard<std::mutex> guard{quarantine_mtx_};
  quarantined_ = std::move(principals);
  quarantined_n_.store(quarantined_.size(), std::memory_order_release);
}

std::set<std::string> admission_gate::quarantined() const {
  std::lock_guard<std::mutex> guard{quarantine_mtx_};
  return quarantined_;
}

uint64_t admission_gate::report_due(int64_t now_ns, int64_t every_ns) noexcept {
  since_report_.fetch_add(1, std::memory_order_relaxed);
  auto next = next_report_ns_.load(std::memory_order_relaxed);
  if (now_ns < next)
    return 0;
  if (!next_report_ns_.compare_exchange_strong(next, now_ns + every_ns,
                                               std::memory_order_relaxed))
    return 0; // another caller reports
  return since_report_.exchange(0, std::memory_order_relaxed);
}

} // namespace bulwark
