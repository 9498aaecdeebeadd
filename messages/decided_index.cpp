#include "messages/decided_index.hpp"

#include <algorithm>

namespace bulwark {

namespace {

/// A fresh map this large (or an eighth of the run, when more) is merged into a new run:
/// the copying per entry stays bounded and the map's per-node overhead small.
constexpr size_t min_fresh = 4096;

/// The first 8 bytes of a key as a big-endian number: ordered as the keys are.
uint64_t prefix_of(const digest& key) {
  return digest::word(key, 0);
}

} // namespace

const decided_proposal* decided_index::find(const digest& key) const {
  if (auto j = fresh_.find(key); j != fresh_.end())
    return &j->second;
  if (!base_)
    return nullptr;
  auto& prefixes = base_->prefixes;
  auto p = prefix_of(key);
  auto i = std::lower_bound(prefixes.begin(), prefixes.end(), p);
  for (; i != prefixes.end() && *i == p; ++i) // keys sharing the prefix, in key order
    if (auto& x = base_->entries[static_cast<size_t>(i - prefixes.begin())]; x.key == key)
      return &x;
  return nullptr;
}

void decided_index::set_run(std::vector<decided_proposal> entries) {
  auto r = std::make_shared<run>();
  r->prefixes.reserve(entries.size());
  for (auto& x : entries)
    r->prefixes.push_back(prefix_of(x.key));
  r->entries = std::move(entries);
  base_ = std::move(r);
}

bool decided_index::insert(const decided_proposal& x) {
  if (find(x.key) != nullptr)
    return false;
  fresh_.emplace(x.key, x);
  ++size_;
  merge();
  return true;
}

void decided_index::settle(const digest& key, uint8_t status) {
  if (auto j = fresh_.find(key); j != fresh_.end()) {
    j->second.status = status;
    return;
  }
  auto old = find(key);
  if (old == nullptr)
    return;
  auto copy = *old;
  copy.status = status;
  fresh_.emplace(key, copy); // shadows the run's entry; the count of keys stays
  merge();
}

void decided_index::clear() {
  base_.reset();
  fresh_.clear();
  size_ = 0;
}

std::vector<decided_proposal> decided_index::sorted() const {
  std::vector<decided_proposal> out;
  out.reserve(size_);
  each([&out](const decided_proposal& x) { out.push_back(x); });
  return out;
}

caf::error decided_index::assign(std::vector<decided_proposal> xs) {
  for (size_t i = 1; i < xs.size(); ++i)
    if (!(xs[i - 1].key < xs[i].key))
      return refuse(ec::invalid_input, "decided proposals not in ascending key order");
  clear();
  size_ = xs.size();
  if (!xs.empty())
    set_run(std::move(xs));
  return {};
}

std::vector<const decided_proposal*> decided_index::fresh_in_order() const {
  std::vector<const decided_proposal*> out;
  out.reserve(fresh_.size());
  for (auto& kv : fresh_)
    out.push_back(&kv.second);
  std::sort(out.begin(), out.end(),
            [](const decided_proposal* a, const decided_proposal* b) { return a->key < b->key; });
  return out;
}

void decided_index::merge() {
  size_t run = base_ ? base_->entries.size() : 0;
  if (fresh_.size() < std::max(min_fresh, run / 8))
    return;
  // A new run: copies of the state that share the old one keep it unchanged.
  set_run(sorted());
  fresh_.clear();
}

} // namespace bulwark
