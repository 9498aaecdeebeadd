#include "actors/flight/rollback_index.hpp"

#include <map>

namespace bulwark {

rollback_index::rollback_index(uint64_t head) : from_(head + 1), to_(head) {
}

void rollback_index::add(uint64_t seq, const std::string& resource, const std::string& key) {
  if (seq <= to_)
    return;
  to_ = seq;
  seqs_[resource][key].push_back(seq);
  ++size_;
}

void rollback_index::skip(uint64_t seq) {
  if (seq > to_)
    to_ = seq;
}

void rollback_index::prepend(uint64_t lo, const std::vector<change>& older) {
  if (lo >= from_)
    return;
  // Grouped per key first, so each key's list is rebuilt once (in any order: the lists
  // are independent of each other).
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> add;
  for (auto& c : older)
    if (c.seq >= lo && c.seq < from_)
      add[{c.resource, c.key}].push_back(c.seq);
  for (auto& [k, xs] : add) {
    auto& list = seqs_[k.first][k.second];
    size_ += xs.size();
    xs.insert(xs.end(), list.begin(), list.end());
    list = std::move(xs);
  }
  from_ = lo;
}

const std::vector<uint64_t>* rollback_index::changes(const std::string& resource,
                                                     const std::string& key) const {
  auto r = seqs_.find(resource);
  if (r == seqs_.end())
    return nullptr;
  auto k = r->second.find(key);
  return k == r->second.end() ? nullptr : &k->second;
}

} // namespace bulwark
